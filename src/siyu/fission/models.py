"""任务宝 models: campaigns with reward tiers, their participants (each with a contact way of
their own), the invites counted through those codes and the rewards claimed."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from siyu.core.tenancy import WorkspaceScoped


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    LIVE = "live", _("Live")
    ENDED = "ended", _("Ended")


class Campaign(WorkspaceScoped):
    """任务宝 — an invite-N-friends campaign: participants invite friends to add the persona
    accounts through their own code, and reach reward tiers as the invites count."""

    name = models.CharField(_("name"), max_length=60)
    accounts = models.ManyToManyField("accounts.StaffAccount", related_name="fission_campaigns",
                                      verbose_name=_("persona accounts"))
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    status = models.CharField(_("status"), max_length=8, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT)
    # Eligibility: only invitees who were never a friend of any of the brand's accounts count;
    # participants may be limited to a segment.
    new_customers_only = models.BooleanField(_("new customers only"), default=True)
    segment = models.ForeignKey("segments.Segment", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+", verbose_name=_("participants' segment"))
    hold_hours = models.PositiveIntegerField(_("hold (hours)"), default=48)
    velocity_limit = models.PositiveIntegerField(_("invites per inviter per window"), default=10)
    velocity_minutes = models.PositiveIntegerField(_("velocity window (minutes)"), default=60)
    zombie_percent = models.PositiveSmallIntegerField(_("zombie share that holds a reward (%)"), default=50)
    # The messages at each moment, in the persona's voice (seed 003: 助力成功, 任务完成, …).
    msg_joined = models.TextField(_("message on joining"), blank=True)
    msg_counted = models.TextField(_("message on each counted invite"), blank=True)
    msg_tier = models.TextField(_("message on reaching a tier"), blank=True)
    template_id = models.CharField(_("service account template ID"), max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    launched_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta(WorkspaceScoped.Meta):
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="fission_campaign_name_unique")]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class Fulfilment(models.TextChoices):
    CODE = "code", _("Exchange code")
    POINTS = "points", _("Points")


class RewardTier(WorkspaceScoped):
    """奖励阶梯 — invite `threshold` friends, get the reward, while `stock` lasts. `stock` is what
    is left; it only moves by a conditional UPDATE, so it is never oversold."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="tiers")
    threshold = models.PositiveIntegerField(_("invites needed"))
    name = models.CharField(_("reward"), max_length=60)
    stock = models.PositiveIntegerField(_("stock"))
    initial_stock = models.PositiveIntegerField(default=0)
    fulfilment = models.CharField(_("fulfilment"), max_length=8, choices=Fulfilment.choices)
    welfare = models.ForeignKey("channels.Welfare", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+", verbose_name=_("code pool (welfare)"))
    points = models.PositiveIntegerField(_("points"), default=0)

    class Meta(WorkspaceScoped.Meta):
        constraints = [
            models.UniqueConstraint(fields=["campaign", "threshold"], name="fission_tier_threshold_unique"),
            models.CheckConstraint(condition=Q(threshold__gte=1), name="fission_tier_threshold_positive"),
        ]
        ordering = ["threshold"]

    def __str__(self) -> str:
        return self.name


class Participant(WorkspaceScoped):
    """参与者 — a customer who joined a campaign. Their contact way (`config_id`) is made the
    first time they need it; its `state` maps an add back to them (WECOM.md §3: <= 30 chars)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="participants")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="fission_entries")
    openid = models.CharField(max_length=64, blank=True)  # the service account's, for template messages
    state = models.CharField(max_length=30, blank=True)
    config_id = models.CharField(max_length=64, blank=True)
    qr_code = models.URLField(max_length=500, blank=True)
    code_recycled_at = models.DateTimeField(null=True, blank=True)
    joined_at = models.DateTimeField()
    counted = models.PositiveIntegerField(default=0)
    burst = models.BooleanField(default=False)  # an invite was ever held by the velocity limit

    class Meta(WorkspaceScoped.Meta):
        constraints = [
            models.UniqueConstraint(fields=["campaign", "customer"], name="fission_participant_once"),
            models.UniqueConstraint(fields=["workspace", "state"], condition=~Q(state=""),
                                    name="fission_participant_state_unique"),
        ]
        indexes = [models.Index(fields=["campaign", "-counted"], name="fission_leaderboard")]


class InviteStatus(models.TextChoices):
    PENDING = "pending", _("In the hold")
    HELD = "held", _("Held (too fast)")
    COUNTED = "counted", _("Counted")
    REVOKED = "revoked", _("Revoked")
    REJECTED = "rejected", _("Not counted")


class InviteReason(models.TextChoices):
    SELF = "self", _("the inviter themselves")
    EXISTING = "existing", _("already a friend before")
    BLACKLISTED = "blacklisted", _("blacklisted")
    NOT_LIVE = "not_live", _("campaign not running")
    DELETED = "deleted", _("deleted within the hold")


class Invite(WorkspaceScoped):
    """助力 — an invitee's add through a participant's code. One per invitee and campaign, so a
    replayed callback counts once. Pending during the hold, counted after it; a deletion inside
    the hold revokes it."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="invites")
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="invites")
    invitee = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="fission_invites")
    relation = models.ForeignKey("customers.FollowRelation", null=True, on_delete=models.SET_NULL, related_name="+")
    added_at = models.DateTimeField()
    status = models.CharField(max_length=8, choices=InviteStatus.choices)
    reason = models.CharField(max_length=12, choices=InviteReason.choices, blank=True)
    signals = models.JSONField(default=list, blank=True)  # zombie signals seen when it was counted
    paced_at = models.DateTimeField(null=True, blank=True)  # when it entered the inviter's velocity window
    hold_until = models.DateTimeField(null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta(WorkspaceScoped.Meta):
        constraints = [models.UniqueConstraint(fields=["campaign", "invitee"], name="fission_invite_once")]
        indexes = [
            models.Index(fields=["status", "hold_until"], name="fission_invite_due"),
            models.Index(fields=["participant", "status"], name="fission_invite_inviter"),
        ]


class ClaimStatus(models.TextChoices):
    HELD = "held", _("Held for review")
    ISSUED = "issued", _("Issued")
    REJECTED = "rejected", _("Rejected")
    OUT_OF_STOCK = "out_of_stock", _("Out of stock")
    UNFULFILLED = "unfulfilled", _("Approved, not yet fulfilled")


class RewardClaim(WorkspaceScoped):
    """领奖 — a participant's reward at one tier: at most one per participant and tier."""

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="claims")
    tier = models.ForeignKey(RewardTier, on_delete=models.CASCADE, related_name="claims")
    status = models.CharField(max_length=12, choices=ClaimStatus.choices)
    signals = models.JSONField(default=list, blank=True)  # why it was held
    code = models.CharField(max_length=64, blank=True)  # the exchange code issued
    note = models.CharField(max_length=200, blank=True)
    claimed_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta(WorkspaceScoped.Meta):
        constraints = [models.UniqueConstraint(fields=["participant", "tier"], name="fission_claim_once")]
        indexes = [models.Index(fields=["workspace", "status"], name="fission_claim_status")]
