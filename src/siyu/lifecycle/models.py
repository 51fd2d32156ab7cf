"""生命周期 — the brand's lifecycle and super-user (超级用户) policy: stage thresholds, score
weights and caps, tier cut-offs and how angel users (天使用户) are chosen. One row per brand,
created with the defaults on first use (`siyu.lifecycle.services.policy_for`).

The stage, score, tier and angel flag themselves live on `customers.Customer`, so lists and
segments filter on them without a join.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from siyu.core.tenancy import WorkspaceScoped


class AngelMode(models.TextChoices):
    SHARE = "share", _("Top share of customers")
    COUNT = "count", _("Top number of customers")


class LifecyclePolicy(WorkspaceScoped):
    """生命周期规则 — the brand's editable lifecycle rules. Stages are evaluated in a fixed order,
    the first that matches wins: lost → dormant → super → repeat → customer → engaged → new."""

    # Stages
    engaged_days = models.PositiveIntegerField(_("engaged within (days)"), default=30)
    dormant_days = models.PositiveIntegerField(_("dormant after (days)"), default=60)
    customer_orders = models.PositiveIntegerField(_("orders to be a customer"), default=1)
    repeat_orders = models.PositiveIntegerField(_("orders to be a repeat buyer"), default=2)
    super_score = models.FloatField(_("super-user score"), default=80)
    # Score weights (normalised by their sum) and the value at which each input counts in full
    weight_recency = models.PositiveIntegerField(_("recency weight"), default=25)
    weight_frequency = models.PositiveIntegerField(_("frequency weight"), default=20)
    weight_spend = models.PositiveIntegerField(_("spend weight"), default=25)
    weight_engagement = models.PositiveIntegerField(_("engagement weight"), default=20)
    weight_referrals = models.PositiveIntegerField(_("referrals weight"), default=10)
    recency_days = models.PositiveIntegerField(_("recency counts nothing after (days)"), default=90)
    frequency_cap = models.PositiveIntegerField(_("visits for full frequency"), default=10)
    spend_cap_fen = models.PositiveBigIntegerField(_("spend for full spend score (fen)"), default=100_000)
    engagement_cap = models.PositiveIntegerField(_("interactions for full engagement"), default=20)
    referrals_cap = models.PositiveIntegerField(_("referrals for full referral score"), default=5)
    # Tiers: S ≥ tier_s, A ≥ tier_a, B ≥ tier_b, C otherwise
    tier_s = models.FloatField(_("tier S from score"), default=80)
    tier_a = models.FloatField(_("tier A from score"), default=60)
    tier_b = models.FloatField(_("tier B from score"), default=40)
    # Angel users (天使用户)
    angel_mode = models.CharField(_("angel users are"), max_length=5, choices=AngelMode.choices,
                                  default=AngelMode.COUNT)
    angel_share = models.FloatField(_("angel share (%)"), default=1)
    angel_count = models.PositiveIntegerField(_("number of angel users"), default=100)
    angel_min_score = models.FloatField(_("angel minimum score"), default=60)

    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta(WorkspaceScoped.Meta):
        constraints = [models.UniqueConstraint(fields=["workspace"], name="one_lifecycle_policy_per_workspace")]

    def __str__(self) -> str:
        return f"lifecycle policy of {self.workspace_id}"
