"""The activity forms. They only parse what the browser sends (the plan's fields, and its roles,
budget lines and run sheet as parallel rows); `activities.services` holds the rules."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from siyu.activities.models import ActivityType
from siyu.activities.services import TARGETS, ActivityInput, BudgetInput, ItemInput, RoleInput
from siyu.community.models import GroupType
from siyu.core.bounds import parse_id
from siyu.web import MinuteInput, PickedValues, PickerMultiple, choice_field

TARGET_LABELS = {"joins": _("Target joins"), "checkins": _("Target check-ins"),
                 "messages": _("Target messages"), "conversions": _("Target conversions")}
BLANK_ROWS = 3


class ActivityForm(forms.Form):
    name = forms.CharField(label=pgettext_lazy("activity", "Name"), max_length=60)
    type = forms.ChoiceField(label=pgettext_lazy("activity", "Type"), choices=ActivityType.choices)
    goal = forms.CharField(label=pgettext_lazy("activity", "Goal"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 3}),
                           help_text=_("What the activity is for, in a sentence or two; the numbers go below."))
    target_joins = forms.IntegerField(label=TARGET_LABELS["joins"], required=False, min_value=0)
    target_checkins = forms.IntegerField(label=TARGET_LABELS["checkins"], required=False, min_value=0)
    target_messages = forms.IntegerField(label=TARGET_LABELS["messages"], required=False, min_value=0)
    target_conversions = forms.IntegerField(label=TARGET_LABELS["conversions"], required=False, min_value=0,
                                            help_text=_("Audience members who redeem a reward in the window."))
    starts_at = forms.DateTimeField(label=_("Starts at"), widget=MinuteInput())
    ends_at = forms.DateTimeField(label=_("Ends at"), widget=MinuteInput())
    group_ids = PickedValues(label=_("Groups"), required=False, widget=PickerMultiple(search_label=_("Search groups")))
    group_types = forms.MultipleChoiceField(label=_("Every group of these types"), required=False,
                                            choices=[c for c in GroupType.choices if c[0]],
                                            widget=forms.CheckboxSelectMultiple)
    group_tags = forms.CharField(label=_("Every group with these labels"), required=False, max_length=200,
                                 help_text=_("Group labels, separated by commas."))
    segment_id = forms.TypedChoiceField(label=_("Segment"), required=False, coerce=int, empty_value=None,
                                        help_text=_("Optional: its members count in check-ins and conversions too."))
    budget = forms.DecimalField(label=_("Budget (yuan)"), min_value=0, max_digits=12, decimal_places=2, initial=0)
    sop_id = forms.TypedChoiceField(label=_("Event SOP"), required=False, coerce=int, empty_value=None,
                                    help_text=_("Optional: the event SOP that messages the audience around the date."))

    def __init__(self, *args: Any, groups: list[tuple[int, str]], segments: list[tuple[int, str]],
                 sops: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "group_ids").choices = [(str(pk), name) for pk, name in groups]
        choice_field(self, "segment_id").choices = [("", "—"), *segments]
        choice_field(self, "sop_id").choices = [("", "—"), *sops]
        for name, field in self.fields.items():
            if name in ("group_ids", "group_types"):
                continue
            field.widget.attrs["class"] = "form-select" if isinstance(field, forms.ChoiceField) else "form-control"

    def to_input(self, data: QueryDict) -> ActivityInput:
        """The plan, with the rows (roles, budget lines, run sheet) read from the parallel lists."""
        cleaned = self.cleaned_data
        return ActivityInput(
            name=cleaned["name"], type=cleaned["type"], goal=cleaned["goal"],
            starts_at=cleaned["starts_at"], ends_at=cleaned["ends_at"],
            targets={k: cleaned[f"target_{k}"] for k in TARGETS},
            group_ids=[i for v in cleaned["group_ids"] if (i := parse_id(v)) is not None],
            group_types=list(cleaned["group_types"]),
            group_tags=[t.strip() for t in cleaned["group_tags"].replace("，", ",").split(",") if t.strip()],
            segment_id=cleaned["segment_id"], budget=cleaned["budget"], sop_id=cleaned["sop_id"],
            roles=roles_of(data), budget_lines=budget_of(data), run_sheet=run_sheet_of(data))


def _rows(data: QueryDict, *names: str) -> list[list[str]]:
    columns = [data.getlist(name) for name in names]
    length = max((len(c) for c in columns), default=0)
    rows = [[(c[i] if i < len(c) else "").strip() for c in columns] for i in range(length)]
    return [row for row in rows if any(row)]  # blank rows are the form's spare ones


def _amount(text: str) -> Decimal | None:
    try:
        value = Decimal(text or "x")
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def roles_of(data: QueryDict) -> list[RoleInput]:
    return [RoleInput(label, parse_id(staff)) for label, staff in _rows(data, "role_label", "role_staff")]


def budget_of(data: QueryDict) -> list[BudgetInput]:
    return [BudgetInput(item, _amount(amount)) for item, amount in _rows(data, "budget_item", "budget_amount")]


def run_sheet_of(data: QueryDict) -> list[ItemInput]:
    return [ItemInput(offset, title, parse_id(owner) if owner else None, message)
            for offset, title, owner, message in _rows(data, "run_offset", "run_title", "run_owner", "run_message")]


class ReviewForm(forms.Form):
    worked = forms.CharField(label=_("What worked"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 4, "class": "form-control"}))
    did_not_work = forms.CharField(label=_("What did not work"), required=False, max_length=2000,
                                   widget=forms.Textarea(attrs={"rows": 4, "class": "form-control"}))
    lessons = forms.CharField(label=_("Lessons for the next time"), required=False, max_length=2400,
                              widget=forms.Textarea(attrs={"rows": 5, "class": "form-control"}),
                              help_text=_("One short lesson a line; the next plan of this type shows them."))

    def lesson_list(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["lessons"].splitlines() if line.strip()]
