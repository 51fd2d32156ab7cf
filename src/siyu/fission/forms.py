"""Forms of the 任务宝 console pages: the campaign with its reward tiers, and the review decision."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from siyu.fission.models import Fulfilment

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
BIG = 10_000_000


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M")


# The persona's words with `{variables}` in them, as the operator writes them: not for translation.
MESSAGE_BOX = forms.Textarea(attrs={"rows": 2, "translate": "no"})
MESSAGE_VARIABLES = {"msg_counted": ("nickname", "invited", "to_go", "next_reward"), "msg_tier": ("nickname", "reward")}


class CampaignForm(forms.Form):
    name = forms.CharField(label=pgettext_lazy("campaign", "name"), max_length=60)
    accounts = forms.TypedMultipleChoiceField(label=_("persona accounts"), coerce=int,
                                              widget=forms.CheckboxSelectMultiple,
                                              help_text=_("Invitees add these accounts through each participant's code."))
    starts_at = forms.DateTimeField(label=_("starts"), input_formats=DATETIME_FORMATS, widget=DateTimeInput())
    ends_at = forms.DateTimeField(label=_("ends"), input_formats=DATETIME_FORMATS, widget=DateTimeInput())
    new_customers_only = forms.BooleanField(label=_("count only invitees who were never our friends"), required=False)
    segment = forms.TypedChoiceField(label=_("participants' segment"), coerce=int, required=False, empty_value=None,
                                     help_text=_("Empty: every customer may take part."))
    hold_hours = forms.IntegerField(label=_("hold (hours)"), min_value=0, max_value=720,
                                    help_text=_("An invite counts once the invitee stayed a friend this long."))
    velocity_limit = forms.IntegerField(label=_("invites per inviter per window"), min_value=1, max_value=10_000)
    velocity_minutes = forms.IntegerField(label=_("velocity window (minutes)"), min_value=1, max_value=1440,
                                          help_text=_("Invites past the limit are held and let through at this pace."))
    zombie_percent = forms.IntegerField(label=_("zombie share that holds a reward (%)"), min_value=1, max_value=100)
    msg_joined = forms.CharField(label=_("message on joining"), required=False, max_length=500,
                                 widget=MESSAGE_BOX)
    msg_counted = forms.CharField(label=_("message on each counted invite"), required=False, max_length=500,
                                  widget=MESSAGE_BOX)
    msg_tier = forms.CharField(label=_("message on reaching a tier"), required=False, max_length=500,
                               widget=MESSAGE_BOX)
    template_id = forms.CharField(label=_("service account template ID"), required=False, max_length=64)

    def __init__(self, *args: Any, account_choices: list[tuple[int, str]], segment_choices: list[tuple[int, str]],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["accounts"].choices = account_choices  # type: ignore[attr-defined]
        self.fields["segment"].choices = [("", "—"), *segment_choices]  # type: ignore[attr-defined]
        for name, variables in MESSAGE_VARIABLES.items():
            self.fields[name].help_text = format_html(  # the names as code: they are typed as written
                "{} {}", _("Variables:"), format_html_join(" ", "<code>{{{}}}</code>", ((v,) for v in variables)))


class TierForm(forms.Form):
    threshold = forms.IntegerField(label=_("invites needed"), min_value=1, max_value=10_000, required=False)
    name = forms.CharField(label=pgettext_lazy("fission tier", "reward"), max_length=60, required=False)
    stock = forms.IntegerField(label=_("stock"), min_value=0, max_value=BIG, required=False)
    fulfilment = forms.ChoiceField(label=_("fulfilment"), choices=Fulfilment.choices, required=False)
    welfare = forms.TypedChoiceField(label=_("code pool (welfare)"), coerce=int, required=False, empty_value=None)
    points = forms.IntegerField(label=_("points"), min_value=0, max_value=BIG, required=False)

    def __init__(self, *args: Any, welfare_choices: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["welfare"].choices = [("", "—"), *welfare_choices]  # type: ignore[attr-defined]

    @property
    def filled(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return bool(data.get("threshold") or data.get("name"))


TierFormSet = forms.formset_factory(TierForm, extra=0, max_num=10, validate_max=True)


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("Approve")), ("reject", _("Reject")), ("retry", _("Retry"))])
    note = forms.CharField(label=_("note"), max_length=200, required=False)
