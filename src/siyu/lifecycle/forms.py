"""Console form of the lifecycle policy. It only parses the browser's input; the rules (weights
not all zero, ordered thresholds...) live in `lifecycle.services.policy.clean_policy`."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db import models
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from siyu.lifecycle.models import AngelMode, LifecyclePolicy
from siyu.lifecycle.services.policy import POLICY_FIELDS

_HELP = {
    "engaged_days": _("Engaged: the customer engaged (reply, redemption, order...) within this many days."),
    "dormant_days": _("Dormant: no engagement or add for this many days."),
    "super_score": _("Super user: a score at least this high (0–100)."),
    "recency_days": _("Recency counts in full today and nothing after this many days."),
    "spend_cap_fen": _("In fen (1 yuan = 100 fen)."),
    "angel_share": _("Used when angel users are a top share: percent of the customers still following."),
    "angel_count": _("Used when angel users are a top number."),
    "angel_min_score": _("Nobody below this score is an angel user."),
}


class PolicyForm(forms.Form):
    """All the policy's values, labelled as on the model."""

    SECTIONS = (
        (_("Stages"), ("engaged_days", "dormant_days", "customer_orders", "repeat_orders", "super_score")),
        (_("Score weights"), ("weight_recency", "weight_frequency", "weight_spend", "weight_engagement",
                              "weight_referrals")),
        (_("When an input counts in full"), ("recency_days", "frequency_cap", "spend_cap_fen", "engagement_cap",
                                             "referrals_cap")),
        (_("Tiers"), ("tier_s", "tier_a", "tier_b")),
        (_("Angel users"), ("angel_mode", "angel_share", "angel_count", "angel_min_score")),
    )

    def __init__(self, *args: Any, read_only: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in POLICY_FIELDS:
            model_field = LifecyclePolicy._meta.get_field(name)
            assert isinstance(model_field, models.Field), name  # a column, not a relation
            label = capfirst(model_field.verbose_name)
            if name == "angel_mode":
                field: forms.Field = forms.ChoiceField(label=label, choices=AngelMode.choices)
            elif model_field.get_internal_type() == "FloatField":
                field = forms.FloatField(label=label)
            else:
                field = forms.IntegerField(label=label)
            field.help_text = _HELP.get(name, "")
            field.disabled = read_only
            self.fields[name] = field

    def sections(self) -> list[tuple[str | Promise, list[forms.BoundField]]]:
        return [(title, [self[name] for name in names]) for title, names in self.SECTIONS]

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in POLICY_FIELDS}
