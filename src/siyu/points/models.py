"""积分 — the points ledger, rewards and check-ins (打卡).

The ledger is double entry: a movement of points is one `PointsEntry` (the transaction: why,
from where, when) with `PointsLine`s that sum to zero, between a customer's wallet and the
brand's accounts (issued, expired, redeemed, adjusted). A grant is also a lot: what is left of it
(`remaining`) is spent first-in first-out and expires by the brand's rule. `PointsWallet.balance`
is a cache of the wallet's lines, kept in the same transaction and checked by `reconcile`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from siyu.core.tenancy import WorkspaceScoped


class Source(models.TextChoices):
    CHECKIN = "checkin", _("Check-in")
    INVITATION = "invitation", _("Invitation")
    ACTIVITY = "activity", _("Activity")
    CONTRIBUTION = "contribution", _("Content contribution")
    PURCHASE = "purchase", _("Purchase")
    ADJUSTMENT = "adjustment", _("Adjustment")
    REDEMPTION = "redemption", _("Redemption")
    EXPIRY = "expiry", _("Expiry")
    ELIMINATION = "elimination", _("Cleared on removal from a group")


GRANT_SOURCES = (Source.CHECKIN, Source.INVITATION, Source.ACTIVITY, Source.CONTRIBUTION, Source.PURCHASE)


class Account(models.TextChoices):
    """The ledger's accounts: the customer's wallet, and the brand's side of each movement."""

    WALLET = "wallet", _("Customer wallet")
    ISSUED = "issued", _("Points issued")
    EXPIRED = "expired", _("Points expired")
    REDEEMED = "redeemed", _("Points redeemed")
    ADJUSTED = "adjusted", _("Points adjusted")
    FORFEITED = "forfeited", _("Points forfeited")


class ExpiryRule(models.TextChoices):
    NEVER = "never", _("Never")
    DAYS = "days", _("A number of days after the grant")
    YEAR_END = "year_end", _("At the end of the year after the grant")


class PointsPolicy(WorkspaceScoped):
    """积分规则 — the brand's expiry rule (one row per brand; none means points never expire)."""

    expiry = models.CharField(_("points expire"), max_length=10, choices=ExpiryRule.choices, default=ExpiryRule.NEVER)
    expire_days = models.PositiveIntegerField(_("days until points expire"), default=365)

    class Meta(WorkspaceScoped.Meta):
        constraints = [models.UniqueConstraint(fields=["workspace"], name="one_points_policy_per_brand")]


class PointsWallet(WorkspaceScoped):
    """积分账户 — a customer's balance: a cache of their wallet lines, never below zero."""

    customer = models.OneToOneField("customers.Customer", on_delete=models.CASCADE, related_name="points_wallet")
    balance = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(WorkspaceScoped.Meta):
        constraints = [models.CheckConstraint(condition=Q(balance__gte=0), name="points_wallet_not_negative")]


class PointsEntry(WorkspaceScoped):
    """积分流水 — one movement of points; its lines balance. Unique per (source, ref): the same
    check-in, invitation or redemption can never move points twice."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="points_entries")
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    source_ref = models.CharField(max_length=120)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    amount = models.BigIntegerField()  # what the wallet gained (+) or lost (-)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)  # a grant's lot expires then
    remaining = models.BigIntegerField(default=0)  # a grant's lot: what is left to spend or expire
    lot = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="expiries")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")

    class Meta(WorkspaceScoped.Meta):
        constraints = [
            models.UniqueConstraint(fields=["workspace", "source", "source_ref"], name="points_entry_once_per_ref"),
            models.CheckConstraint(condition=Q(remaining__gte=0), name="points_lot_not_negative"),
        ]
        indexes = [
            models.Index(fields=["workspace", "customer", "-created_at"], name="points_entry_customer_newest"),
            models.Index(fields=["workspace", "-created_at"], name="points_entry_newest"),
            models.Index(fields=["workspace", "expires_at"], condition=Q(remaining__gt=0), name="points_open_lots"),
        ]
        ordering = ["-created_at", "-pk"]


class PointsLine(WorkspaceScoped):
    """One side of an entry: `amount` into (+) or out of (-) an account; an entry's lines sum to 0."""

    entry = models.ForeignKey(PointsEntry, on_delete=models.CASCADE, related_name="lines")
    account = models.CharField(max_length=10, choices=Account.choices)
    customer = models.ForeignKey("customers.Customer", null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="+")  # the wallet's owner; None for the brand's accounts
    amount = models.BigIntegerField()

    class Meta(WorkspaceScoped.Meta):
        indexes = [models.Index(fields=["workspace", "account", "customer"], name="points_line_account")]


# --- rewards ------------------------------------------------------------------------------------

class RewardKind(models.TextChoices):
    WELFARE = "welfare", _("Welfare code")
    GOODS = "goods", _("Goods")


class Reward(WorkspaceScoped):
    """积分兑换 — what points buy: a welfare (an exchange code from its pool, 换码宝) or goods."""

    name = models.CharField(pgettext_lazy("reward", "name"), max_length=60)
    kind = models.CharField(_("kind"), max_length=10, choices=RewardKind.choices)
    cost = models.PositiveIntegerField(_("points"))
    welfare = models.ForeignKey("channels.Welfare", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+", verbose_name=_("welfare"))
    stock = models.PositiveIntegerField(_("stock"), null=True, blank=True)  # None: as many as the welfare has
    redeemed = models.PositiveIntegerField(default=0)
    active = models.BooleanField(_("on offer"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(WorkspaceScoped.Meta):
        constraints = [models.CheckConstraint(condition=Q(stock__isnull=True) | Q(redeemed__lte=models.F("stock")),
                                              name="reward_within_stock")]
        ordering = ["cost", "pk"]

    def __str__(self) -> str:
        return self.name


class RedemptionState(models.TextChoices):
    ISSUED = "issued", _("Code issued")
    TO_SHIP = "to_ship", _("To ship")
    SHIPPED = "shipped", _("Shipped")


class Redemption(WorkspaceScoped):
    """One reward bought with points; goods wait for staff to ship them."""

    reward = models.ForeignKey(Reward, on_delete=models.PROTECT, related_name="redemptions")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    request_key = models.CharField(max_length=40)  # the form's one-time key: a double tap redeems once
    entry = models.OneToOneField(PointsEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    grant = models.ForeignKey("channels.WelfareGrant", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    state = models.CharField(max_length=10, choices=RedemptionState.choices)
    created_at = models.DateTimeField()
    shipped_at = models.DateTimeField(null=True, blank=True)

    class Meta(WorkspaceScoped.Meta):
        constraints = [models.UniqueConstraint(fields=["workspace", "customer", "request_key"],
                                               name="redemption_once_per_request")]
        ordering = ["-created_at", "-pk"]


# --- check-ins ----------------------------------------------------------------------------------

class CheckinMode(models.TextChoices):
    DAILY = "daily", _("Daily: the same points each day")
    STREAK = "streak", _("Continuous: bonuses for a streak of days")
    CUMULATIVE = "cumulative", _("Cumulative: bonuses for days in the month")


class CheckinPlan(WorkspaceScoped):
    """打卡 — the brand's check-in plan: points a day, tiered bonuses and make-up cards (补签卡)."""

    name = models.CharField(pgettext_lazy("check-in plan", "name"), max_length=60)
    group_chat_id = models.CharField(max_length=64, blank=True)  # "" for the brand's own plan
    mode = models.CharField(_("mode"), max_length=12, choices=CheckinMode.choices, default=CheckinMode.STREAK)
    daily_points = models.PositiveIntegerField(_("points a day"), default=5)
    tiers = models.JSONField(default=list, blank=True)  # [{"day": 3, "points": 20}, ...] by day
    make_up_cards = models.PositiveSmallIntegerField(_("make-up cards a month"), default=0)  # 0: none
    active = models.BooleanField(_("open"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(WorkspaceScoped.Meta):
        constraints = [models.UniqueConstraint(fields=["workspace", "group_chat_id"], name="one_checkin_plan_per_group")]

    def __str__(self) -> str:
        return self.name


class Checkin(WorkspaceScoped):
    """One customer's check-in on one Asia/Shanghai day of a plan (unique: twice a day credits once)."""

    plan = models.ForeignKey(CheckinPlan, on_delete=models.CASCADE, related_name="checkins")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()  # the plan's local day (Asia/Shanghai)
    at = models.DateTimeField()
    streak = models.PositiveIntegerField(default=1)  # consecutive days ending on this one
    made_up = models.BooleanField(default=False)  # filled with a make-up card
    points = models.PositiveIntegerField(default=0)

    class Meta(WorkspaceScoped.Meta):
        constraints = [models.UniqueConstraint(fields=["plan", "customer", "day"], name="one_checkin_a_day")]
        indexes = [models.Index(fields=["plan", "customer", "-day"], name="checkin_customer_days")]
        ordering = ["-day"]


# --- elimination (积分淘汰) and fixed-size groups (人员定额) -------------------------------------

class Period(models.TextChoices):
    WEEK = "week", _("Week (Monday to Sunday)")
    MONTH = "month", _("Month")


class EliminationMode(models.TextChoices):
    OFF = "off", _("No elimination (seats only)")
    THRESHOLD = "threshold", _("Below a number of points")
    BOTTOM = "bottom", _("The bottom share of members")


class GroupRule(WorkspaceScoped):
    """积分淘汰 / 人员定额 — a customer group's rule (seed 003): each period, members who earned
    fewer points than the threshold (or the bottom N %) are warned, then their removal is a task
    for the owner (WeCom has no API to remove a member); a seat limit keeps the group at a fixed
    size, with a waiting list that fills the seats that free up."""

    group = models.OneToOneField("community.CustomerGroup", on_delete=models.CASCADE, related_name="points_rule")
    period = models.CharField(_("period"), max_length=5, choices=Period.choices, default=Period.WEEK)
    mode = models.CharField(_("elimination"), max_length=10, choices=EliminationMode.choices,
                            default=EliminationMode.THRESHOLD)
    threshold = models.PositiveIntegerField(_("points needed in a period"), default=20)
    bottom_percent = models.PositiveSmallIntegerField(_("bottom share (%)"), default=10)
    warning_days = models.PositiveSmallIntegerField(_("days of warning"), default=3)
    forfeit_points = models.BooleanField(_("points are cleared on removal"), default=False)
    seat_limit = models.PositiveIntegerField(_("seat limit"), null=True, blank=True)  # None: no fixed size
    invite_hours = models.PositiveSmallIntegerField(_("hours an invitation is held"), default=48)
    active = models.BooleanField(_("on"), default=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)


class RoundState(models.TextChoices):
    WARNING = "warning", _("Warning period")
    DONE = "done", _("Removal tasks given")


class EliminationRound(WorkspaceScoped):
    """One period of one rule judged: unique per (rule, period), so the job judges it once."""

    rule = models.ForeignKey(GroupRule, on_delete=models.CASCADE, related_name="rounds")
    period_start = models.DateField()
    period_end = models.DateField()  # the first day after the period (Asia/Shanghai)
    judged_at = models.DateTimeField()
    remove_after = models.DateTimeField()  # the warning period ends
    state = models.CharField(max_length=8, choices=RoundState.choices, default=RoundState.WARNING)
    judged = models.PositiveIntegerField(default=0)  # members judged (newcomers of the period are not)
    cutoff = models.PositiveIntegerField(default=0)  # points a warned member must earn to be spared

    class Meta(WorkspaceScoped.Meta):
        constraints = [models.UniqueConstraint(fields=["rule", "period_start"], name="points_round_once")]
        indexes = [models.Index(fields=["workspace", "state", "remove_after"])]
        ordering = ["-period_start", "-pk"]


class CaseState(models.TextChoices):
    WARNED = "warned", _("Warned")
    SPARED = "spared", _("Spared: earned the points in the warning period")
    LEFT = "left", _("Left the group")
    REMOVAL = "removal", _("Removal task given")
    REMOVED = "removed", _("Removed")


class EliminationCase(WorkspaceScoped):
    """A member found below the line in a round, and what became of them."""

    round = models.ForeignKey(EliminationRound, on_delete=models.CASCADE, related_name="cases")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    points = models.BigIntegerField(default=0)  # earned in the period
    state = models.CharField(max_length=8, choices=CaseState.choices, default=CaseState.WARNED)
    warning_task_id = models.BigIntegerField(null=True, blank=True)
    removal_task_id = models.BigIntegerField(null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta(WorkspaceScoped.Meta):
        constraints = [models.UniqueConstraint(fields=["round", "customer"], name="points_case_once")]
        indexes = [models.Index(fields=["workspace", "state"])]
        ordering = ["points", "pk"]


class WaitState(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    INVITED = "invited", _("Invited")
    JOINED = "joined", _("Joined")
    EXPIRED = "expired", _("Invitation expired")
    CANCELLED = "cancelled", _("Left the list")


class WaitlistEntry(WorkspaceScoped):
    """排队 — a customer waiting for a seat in a fixed-size group; invited (a task for the owner)
    when a seat frees, in the order they queued."""

    group = models.ForeignKey("community.CustomerGroup", on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=9, choices=WaitState.choices, default=WaitState.WAITING)
    queued_at = models.DateTimeField()
    invited_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)  # an invitation not taken up by then lapses
    task_id = models.BigIntegerField(null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta(WorkspaceScoped.Meta):
        constraints = [models.UniqueConstraint(fields=["group", "customer"], name="points_wait_once",
                                               condition=Q(state__in=["waiting", "invited"]))]
        indexes = [models.Index(fields=["group", "state", "queued_at"])]
        ordering = ["queued_at", "pk"]
