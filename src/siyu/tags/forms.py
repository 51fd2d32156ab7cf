"""Console forms for tags: they only parse what the browser sends; the services validate."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from siyu.core.bounds import parse_id
from siyu.customers.models import LifecycleStage
from siyu.tags.models import RuleKind
from siyu.tags.services.rules import RuleInput
from siyu.web import PickedValues, PickerMultiple, choice_field


def split_names(text: str) -> list[str]:
    return [n.strip() for n in re.split(r"[,，、\n]+", text or "") if n.strip()]


class GroupForm(forms.Form):
    name = forms.CharField(label=_("Group name"), max_length=30)
    tag_names = forms.CharField(label=_("Tags"), help_text=_("Separate tags with commas."))
    required = forms.BooleanField(label=_("Counts toward tag completeness"), required=False)


class TagForm(forms.Form):
    name = forms.CharField(label=_("Tag name"), max_length=30)


class RenameForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=30)
    order = forms.IntegerField(label=_("Order"), required=False, min_value=0,
                               help_text=_("Higher comes first, as in WeCom."))


class TaggingForm(forms.Form):
    customer_ids = forms.CharField(label=_("Customer IDs"), widget=forms.Textarea(attrs={"rows": 3}))
    tag_ids = forms.MultipleChoiceField(label=_("Tags"), choices=[])
    untag = forms.BooleanField(label=_("Take these tags off instead"), required=False)

    def __init__(self, *args: Any, tag_choices: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "tag_ids").choices = tag_choices

    def clean_customer_ids(self) -> list[int]:
        parts = [p for p in re.split(r"[\s,，]+", self.cleaned_data["customer_ids"]) if p]
        ids = [parse_id(p) for p in parts]
        if not ids or any(i is None for i in ids):
            raise forms.ValidationError(_("Give customer IDs (numbers), separated by commas or spaces."))
        return [i for i in ids if i is not None]


class RuleForm(forms.Form):
    name = forms.CharField(label=_("Rule name"), max_length=60)
    tag = forms.ChoiceField(label=_("Tag"), choices=[])
    kind = forms.ChoiceField(label=_("Condition"), choices=RuleKind.choices)
    states = PickedValues(label=_("Channel codes"), required=False,
                          widget=PickerMultiple(search_label=_("Search channel codes")),
                          help_text=_("For “by channel code”: customers who came through any of these codes."))
    stages = forms.MultipleChoiceField(label=_("Lifecycle stages"), required=False, choices=LifecycleStage.choices,
                                       widget=forms.CheckboxSelectMultiple,
                                       help_text=_("For “by lifecycle stage”."))
    field_key = forms.ChoiceField(label=_("Custom field"), required=False, choices=[],
                                  help_text=_("For “by custom field”."))
    field_op = forms.ChoiceField(label=_("Comparison"), required=False,
                                 choices=[("equals", _("equals")), ("contains", _("contains"))])
    field_value = forms.CharField(label=_("Value"), required=False)
    days = forms.IntegerField(label=_("Days since added"), required=False, min_value=1,
                              help_text=_("For the behaviour condition: added at least this many days ago, never engaged."))

    def __init__(self, *args: Any, tag_choices: list[tuple[int, str]], field_choices: list[tuple[str, str]],
                 channel_choices: Sequence[tuple[str, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "tag").choices = tag_choices
        choice_field(self, "states").choices = list(channel_choices)
        choice_field(self, "field_key").choices = [("", "—"), *field_choices]

    def to_input(self) -> RuleInput:
        d = self.cleaned_data
        kind = d["kind"]
        params: dict[str, Any] = {
            RuleKind.CHANNEL: {"states": d.get("states") or []},
            RuleKind.STAGE: {"stages": d.get("stages") or []},
            RuleKind.FIELD: {"key": d.get("field_key"), "op": d.get("field_op") or "equals",
                             "value": d.get("field_value")},
            RuleKind.BEHAVIOUR: {"days": d.get("days")},
        }[RuleKind(kind)]
        return RuleInput(name=d["name"], tag_id=int(d["tag"]), kind=kind, params=params)
