"""群发 forms: the new-message form (target, content, schedule) and the brand's settings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from siyu.messaging.models import BudgetRule, TargetKind
from siyu.web import MinuteInput, PickedValues, PickerMultiple, choice_field

LINK_LINES_MAX = 9


class MessageForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60)
    target_kind = forms.ChoiceField(label=_("Send to"), choices=TargetKind.choices, initial=TargetKind.SEGMENT)
    segment = forms.TypedChoiceField(label=_("Segment"), coerce=int, empty_value=None, required=False)
    tags = PickedValues(label=_("Tags"), required=False, widget=PickerMultiple(search_label=_("Search tags")),
                        help_text=_("As WeCom filters by tag: any of the chosen tags of one group, and every group."))
    template = forms.TypedChoiceField(label=_("Template"), coerce=int, empty_value=None, required=False,
                                      help_text=_("One of the brand's mass message templates: “Fill from the "
                                                  "template” puts its text and links below."))
    welfare = forms.CharField(label=_("Welfare"), max_length=60, required=False,
                              help_text=_("For a template with {welfare}, e.g. a coupon of 20 off 99."))
    event_date = forms.CharField(label=_("Event date"), max_length=30, required=False,
                                 help_text=_("For a template with {event_date}, e.g. 12/12."))
    text = forms.CharField(label=_("Text"), required=False, widget=forms.Textarea(attrs={"rows": 5}),
                           help_text=_("At most 4,000 bytes (about 1,300 Chinese characters)."))
    links = forms.CharField(label=_("Link attachments"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
                            help_text=_("One a line: title | https://web address (at most 9)."))
    send_at = forms.DateTimeField(label=_("Send at"), required=False, widget=MinuteInput(),
                                  input_formats=["%Y-%m-%dT%H:%M"],
                                  help_text=_("Leave empty to send as soon as you confirm."))
    allow_select = forms.BooleanField(label=_("Staff may leave out recipients"), required=False)

    def __init__(self, *args: Any, segments: Sequence[tuple[int, str]] = (), tags: Sequence[Any] = (),
                 chosen_customers: int = 0, templates: Sequence[tuple[int, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "segment").choices = [("", "—"), *segments]
        choice_field(self, "template").choices = [("", "—"), *templates]
        choice_field(self, "tags").choices = list(tags)
        if not chosen_customers:
            choice_field(self, "target_kind").choices = [
                c for c in TargetKind.choices if c[0] != TargetKind.CUSTOMERS]

    def clean_links(self) -> list[dict[str, Any]]:
        found = []
        for line in (self.cleaned_data.get("links") or "").splitlines():
            if not line.strip():
                continue
            title, _sep, url = line.partition("|")
            found.append({"msgtype": "link", "link": {"title": title.strip(), "url": url.strip()}})
        return found


class RescheduleForm(forms.Form):
    send_at = forms.DateTimeField(label=_("Send at"), required=False, widget=MinuteInput(),
                                  input_formats=["%Y-%m-%dT%H:%M"])

    def when(self) -> dt.datetime | None:
        value: dt.datetime | None = self.cleaned_data.get("send_at")
        return value


class SettingsForm(forms.Form):
    budget_rule = forms.ChoiceField(label=_("Receive limit"), choices=BudgetRule.choices,
                                    help_text=_("How many mass messages one customer receives at most, from every "
                                                "sender in Siyu together (mass messages, SOP, fission, community)."))
    reminder_minutes = forms.CharField(label=_("Remind senders after (minutes)"), required=False,
                                       help_text=_("Up to 3 times, e.g. 30, 120, 360: WeCom allows 3 reminders a day."))

    def clean_reminder_minutes(self) -> list[str]:
        raw = self.cleaned_data.get("reminder_minutes") or ""
        return [p for p in raw.replace("，", ",").replace(" ", ",").split(",") if p]
