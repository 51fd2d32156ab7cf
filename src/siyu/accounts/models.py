"""企微号 — the staff WeCom accounts a brand adds customers with: who they are (synced from
WeCom), which persona each embodies, how full each is, and the profile kit the planner keeps
consistent with the persona.

Counters here are kept by `accounts.services.record_follow_change`, which the customers app
calls in the same transaction as the follow relation it changes.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from siyu.core.tenancy import WorkspaceScoped

# WECOM.md §3 friend limits [sdk/?]: configurable, never hard-coded in rules.
DEFAULT_FRIEND_LIMIT = 5000
MAX_FRIEND_LIMIT = 20000


class Grouping(models.TextChoices):
    """Seed 001: accounts organised by store, or by brand line (shared name + numeric suffix)."""

    STORE = "store", _("Store")
    BRAND_LINE = "brand_line", _("Brand line")


class StaffAccount(WorkspaceScoped):
    """企微号 — one staff member's WeCom account (a WeCom `userid`) in the brand's corp."""

    userid = models.CharField(_("WeCom user ID"), max_length=64)
    name = models.CharField(_("display name"), max_length=64, blank=True)
    position = models.CharField(_("position"), max_length=64, blank=True)
    department_ids = models.JSONField(default=list, blank=True)
    active = models.BooleanField(_("active"), default=True)  # False once the member left the corp
    persona = models.ForeignKey("ip.Persona", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="accounts", verbose_name=_("persona"))
    grouping = models.CharField(_("organised by"), max_length=12, choices=Grouping.choices, blank=True)
    group_name = models.CharField(_("store or brand line"), max_length=60, blank=True)
    friend_limit = models.PositiveIntegerField(_("friend limit"), default=DEFAULT_FRIEND_LIMIT)
    friend_count = models.PositiveIntegerField(_("friends"), default=0)
    # The console member who runs this account: gets its churn and capacity notices.
    operator = models.ForeignKey("core.Membership", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="operated_accounts", verbose_name=_("operated by"))
    # The profile kit (人设包装) as the account shows it, entered by the planner (WeCom's API
    # does not expose moments covers, signatures or greetings).
    kit_avatar = models.FileField(_("avatar as shown"), upload_to="account_avatars/", max_length=200, blank=True)
    moments_cover = models.CharField(_("moments cover"), max_length=200, blank=True)
    signature = models.CharField(_("signature"), max_length=120, blank=True)
    greeting = models.TextField(_("greeting"), blank=True)
    # dHash of `kit_avatar`, kept with the upload so the kit check reads no image files per account.
    kit_avatar_hash = models.CharField(max_length=16, blank=True)
    # The highest capacity alert (0, 80 or 95 percent) already raised for this account, so a
    # threshold crossing is announced once; see `accounts.services.capacity`.
    capacity_alert_level = models.PositiveSmallIntegerField(default=0)
    # WeCom does not report an account's friend limit, only refuses once it is reached: a transfer
    # to the account settled "over the limit" (WECOM.md §8 status 4, §3 transfer_fail
    # customer_limit_exceed). When that last happened and how many friends Siyu counted then; a
    # count below `friend_limit` means WeCom's limit is lower than Siyu's. Cleared when the
    # planner sets the limit again.
    wecom_full_at = models.DateTimeField(null=True, blank=True)
    wecom_full_friends = models.PositiveIntegerField(null=True, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(WorkspaceScoped.Meta):
        constraints = [models.UniqueConstraint(fields=["workspace", "userid"], name="account_userid_unique")]
        ordering = ["name", "userid"]

    def __str__(self) -> str:
        return self.name or self.userid

    @property
    def effective_limit(self) -> int:
        """The lower of Siyu's limit and the count at which WeCom last refused the account as full."""
        if self.wecom_full_friends is not None and self.wecom_full_friends < self.friend_limit:
            return self.wecom_full_friends
        return self.friend_limit

    @property
    def limit_disagrees(self) -> bool:
        """WeCom refused the account as full below the limit Siyu has for it."""
        return self.effective_limit < self.friend_limit

    @property
    def fill_ratio(self) -> float:
        limit = self.effective_limit
        return self.friend_count / limit if limit else 1.0

    @property
    def is_full(self) -> bool:
        return self.friend_count >= self.effective_limit


class AccountDay(WorkspaceScoped):
    """One account's friend adds and losses on one day (Asia/Shanghai), for forecasts."""

    account = models.ForeignKey(StaffAccount, on_delete=models.CASCADE, related_name="days")
    day = models.DateField()
    adds = models.PositiveIntegerField(default=0)
    losses = models.PositiveIntegerField(default=0)

    class Meta(WorkspaceScoped.Meta):
        constraints = [models.UniqueConstraint(fields=["account", "day"], name="one_row_per_account_day")]
        ordering = ["account", "day"]
