"""Forms of the points pages: the check-in plan with the expiry rule, rewards, adjustments, the ledger's filters."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from siyu.core.bounds import validate_day
from siyu.points.models import CheckinMode, EliminationMode, ExpiryRule, Period, RewardKind, Source
from siyu.web import DayInput


class PlanForm(forms.Form):
    name = forms.CharField(label=pgettext_lazy("check-in plan", "name"), max_length=60)
    mode = forms.ChoiceField(label=_("mode"), choices=CheckinMode.choices)
    daily_points = forms.IntegerField(label=_("points a day"), min_value=0, max_value=100_000)
    tiers = forms.CharField(label=_("bonuses (day:points)"), required=False, max_length=200,
                            help_text=_("e.g. 3:20, 7:50 — on a streak's 3rd and 7th day (continuous), or the month's 3rd and 7th check-in (cumulative)."))
    make_up_cards = forms.IntegerField(label=_("make-up cards a month"), min_value=0, max_value=31,
                                       help_text=_("0: a missed day cannot be made up."))
    active = forms.BooleanField(label=_("open"), required=False)
    expiry = forms.ChoiceField(label=_("points expire"), choices=ExpiryRule.choices)
    expire_days = forms.IntegerField(label=_("days until points expire"), min_value=1, max_value=3660)


class RewardForm(forms.Form):
    name = forms.CharField(label=pgettext_lazy("reward", "name"), max_length=60)
    kind = forms.ChoiceField(label=_("kind"), choices=RewardKind.choices)
    cost = forms.IntegerField(label=_("points"), min_value=1, max_value=10_000_000)
    welfare = forms.TypedChoiceField(label=_("welfare"), coerce=int, required=False, empty_value=None,
                                     help_text=_("For a welfare code: the welfare whose code pool it draws on."))
    stock = forms.IntegerField(label=_("stock"), min_value=0, max_value=10_000_000, required=False,
                               help_text=_("Empty: as many as the welfare's codes last."))
    active = forms.BooleanField(label=_("on offer"), required=False)

    def __init__(self, *args: Any, welfare_choices: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["welfare"].choices = [("", "—"), *welfare_choices]  # type: ignore[attr-defined]


class AdjustForm(forms.Form):
    customer = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**63 - 1)
    amount = forms.IntegerField(label=_("points (+ to add, − to take)"), min_value=-1_000_000, max_value=1_000_000)
    reason = forms.CharField(label=_("reason"), max_length=200)


class LedgerFilter(forms.Form):
    customer = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput)
    source = forms.ChoiceField(label=_("source"), required=False, choices=[("", _("All sources")), *Source.choices])
    since = forms.DateField(label=_("from"), required=False, widget=DayInput, validators=[validate_day])
    until = forms.DateField(label=_("to"), required=False, widget=DayInput, validators=[validate_day])


class RuleForm(forms.Form):
    """积分淘汰 / 人员定额 for one group."""

    period = forms.ChoiceField(label=_("period"), choices=Period.choices)
    mode = forms.ChoiceField(label=_("elimination"), choices=EliminationMode.choices)
    threshold = forms.IntegerField(label=_("points needed in a period"), min_value=1, max_value=1_000_000,
                                   help_text=_("Members who earned fewer are warned (with “below a number of points”)."))
    bottom_percent = forms.IntegerField(label=_("bottom share (%)"), min_value=1, max_value=50,
                                        help_text=_("The lowest share of members is warned (with “the bottom share”)."))
    warning_days = forms.IntegerField(label=_("days of warning"), min_value=1, max_value=30,
                                      help_text=_("A warned member who earns the points in these days keeps the seat."))
    forfeit_points = forms.BooleanField(label=_("points are cleared on removal"), required=False)
    seat_limit = forms.IntegerField(label=_("seat limit"), min_value=2, max_value=500, required=False,
                                    help_text=_("人员定额: empty for no fixed size. Freed seats go to the waiting list in order."))
    invite_hours = forms.IntegerField(label=_("hours an invitation is held"), min_value=1, max_value=336)
    active = forms.BooleanField(label=_("on"), required=False)


class BoardFilter(forms.Form):
    period = forms.ChoiceField(label=_("period"), choices=Period.choices, required=False)
    day = forms.DateField(label=_("a day in the period"), required=False, widget=DayInput, validators=[validate_day])
