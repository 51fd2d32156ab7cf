"""客户 — the people in a brand's private domain and the staff accounts that follow them.

The customer, each follow relation (staff account, when, through which channel state, welcome
outcome, deletion), a timeline, brand-defined custom fields, full syncs from WeCom and transfers
between staff. Tags (`siyu.tags`), segments (`siyu.segments`) and the lifecycle and super-user
score (`siyu.lifecycle`) live in their own apps; the stage, score and tag completeness they
compute are kept on the customer row, so segments and lists filter without joins.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from siyu.core.contract import timeline_kinds
from siyu.core.tenancy import WorkspaceScoped


class LifecycleStage(models.TextChoices):
    """生命周期 — computed by `siyu.lifecycle` from rules the brand may edit."""

    NEW = "new", _("New")
    ENGAGED = "engaged", _("Engaged")
    CUSTOMER = "customer", pgettext_lazy("lifecycle stage", "Customer")
    REPEAT = "repeat", _("Repeat buyer")
    SUPER = "super", _("Super user")
    DORMANT = "dormant", _("Dormant")
    LOST = "lost", _("Lost")


class Customer(WorkspaceScoped):
    """客户 — one person, however many staff accounts follow them (WeCom `external_userid`)."""

    class Gender(models.IntegerChoices):
        UNKNOWN = 0, _("Unknown")
        MALE = 1, _("Male")
        FEMALE = 2, _("Female")

    external_userid = models.CharField(max_length=64)
    unionid = models.CharField(max_length=64, blank=True)
    name = models.CharField(_("nickname"), max_length=64, blank=True)
    avatar_url = models.URLField(max_length=500, blank=True)
    gender = models.PositiveSmallIntegerField(choices=Gender.choices, default=Gender.UNKNOWN)
    corp_name = models.CharField(max_length=64, blank=True)
    first_added_at = models.DateTimeField(null=True, blank=True)
    profile_synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Digits only (country code optional); shown masked to roles that may not see it.
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    fields = models.JSONField(default=dict, blank=True)  # custom field values by `CustomField.key`
    # The customer's latest own action: joining a group here; replies, orders, check-ins later.
    last_engaged_at = models.DateTimeField(null=True, blank=True)
    stage = models.CharField(_("lifecycle stage"), max_length=10, choices=LifecycleStage.choices,
                             default=LifecycleStage.NEW)
    stage_changed_at = models.DateTimeField(null=True, blank=True)
    score = models.FloatField(_("super-user score"), default=0)  # 0..100
    tier = models.CharField(_("tier"), max_length=2, blank=True)
    is_angel = models.BooleanField(_("angel user"), default=False)  # 天使用户
    tag_completeness = models.FloatField(_("tag completeness"), default=0)  # 0..1, required tag groups covered

    class Meta(WorkspaceScoped.Meta):
        constraints = [models.UniqueConstraint(fields=["workspace", "external_userid"],
                                               name="customer_external_userid_unique")]
        indexes = [
            models.Index(fields=["workspace", "-first_added_at", "-id"], name="customer_newest"),
            models.Index(fields=["workspace", "stage"], name="customer_stage"),
            models.Index(fields=["workspace", "score"], name="customer_score"),
            models.Index(fields=["workspace", "phone"], name="customer_phone"),
        ]
        ordering = ["-first_added_at", "-id"]

    def __str__(self) -> str:
        return self.name or self.external_userid


class DeletedBy(models.TextChoices):
    CUSTOMER = "customer", _("Customer deleted the account")
    STAFF = "staff", _("Staff deleted the customer")
    TRANSFER = "transfer", _("Transferred")
    # A full sync no longer found the friendship: it ended while its callback was missed, by
    # whom is unknown.
    UNLISTED = "unlisted", _("No longer listed by WeCom")


class FollowRelation(WorkspaceScoped):
    """跟进关系 — one staff account's friendship with one customer. A customer who deletes the
    account and comes back reactivates the same row (`times_added` counts the adds)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="follows")
    account = models.ForeignKey("accounts.StaffAccount", on_delete=models.CASCADE, related_name="follows")
    added_at = models.DateTimeField()
    state = models.CharField(max_length=64, blank=True)  # contact way state / acquisition channel
    add_way = models.PositiveSmallIntegerField(default=0)
    remark = models.CharField(max_length=20, blank=True)
    description = models.CharField(max_length=150, blank=True)
    times_added = models.PositiveIntegerField(default=1)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.CharField(max_length=10, choices=DeletedBy.choices, blank=True)
    # The last full sync that saw this friendship listed by WeCom (`CustomerSync` id).
    last_sync_id = models.PositiveIntegerField(null=True, blank=True)

    class Meta(WorkspaceScoped.Meta):
        constraints = [models.UniqueConstraint(fields=["account", "customer"], name="one_follow_per_account")]
        indexes = [
            models.Index(fields=["workspace", "state", "added_at"]),
            models.Index(fields=["workspace", "account", "deleted_at"]),
        ]
        ordering = ["-added_at", "-id"]

    @property
    def current_welcome(self) -> Any:
        """The welcome outcome of the current add, if the channels app recorded one (read through
        its `welcome_records` relation, prefetched by the list and the profile)."""
        records = getattr(self, "welcome_records", None)
        if records is None:
            return None
        return next((r for r in records.all() if r.added_at == self.added_at), None)

    @property
    def active(self) -> bool:
        return self.deleted_at is None


class TimelineEntry(WorkspaceScoped):
    """One thing that happened to a customer, newest first on the profile page."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="timeline")
    kind = models.CharField(max_length=48)  # an app-prefixed key its app declares (SiyuApp.timeline_kinds)
    at = models.DateTimeField()
    account = models.ForeignKey("accounts.StaffAccount", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    detail = models.CharField(max_length=300, blank=True)
    dedupe_key = models.CharField(max_length=120, blank=True)  # one entry per event, even if re-run

    class Meta(WorkspaceScoped.Meta):
        constraints = [models.UniqueConstraint(fields=["workspace", "dedupe_key"], condition=~models.Q(dedupe_key=""),
                                               name="timeline_dedupe")]
        indexes = [
            models.Index(fields=["customer", "at"]),
            models.Index(fields=["workspace", "kind", "-at"], name="timeline_kind_newest"),  # the churn list
        ]
        ordering = ["-at", "-id"]

    @property
    def label(self) -> str:
        """The kind as people read it, from the contract of the app that writes it."""
        return str(timeline_kinds().get(self.kind, self.kind))


class FieldKind(models.TextChoices):
    TEXT = "text", _("Text")
    NUMBER = "number", _("Number")
    DATE = "date", _("Date")
    CHOICE = "choice", _("Choice")


class CustomField(WorkspaceScoped):
    """自定义字段 — a profile field the brand defines (skin type, store, member level...).
    Values live in `Customer.fields[key]`: text, a number, an ISO date, or one of `choices`."""

    key = models.SlugField(_("key"), max_length=40)
    label = models.CharField(_("label"), max_length=40)
    kind = models.CharField(_("kind"), max_length=8, choices=FieldKind.choices, default=FieldKind.TEXT)
    choices = models.JSONField(default=list, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(WorkspaceScoped.Meta):
        constraints = [models.UniqueConstraint(fields=["workspace", "key"], name="custom_field_key_unique")]
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.label


class SyncStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class CustomerSync(WorkspaceScoped):
    """全量同步 — one full sync of the brand's customers from WeCom (`batch/get_by_user`, every
    staff account). Progress is kept after every page (`staff_index` + `cursor`), so a sync cut
    off by a crash or a WeCom error resumes where it stopped."""

    status = models.CharField(max_length=8, choices=SyncStatus.choices, default=SyncStatus.RUNNING)
    staff_userids = models.JSONField(default=list)
    staff_index = models.PositiveIntegerField(default=0)
    cursor = models.CharField(max_length=200, blank=True)
    pages = models.PositiveIntegerField(default=0)
    customers_seen = models.PositiveIntegerField(default=0)
    relations_seen = models.PositiveIntegerField(default=0)
    # Staff WeCom would not list (no interface licence): their follows are left as they were.
    unlicensed_userids = models.JSONField(default=list)
    follows_ended = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    started_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta(WorkspaceScoped.Meta):
        ordering = ["-started_at", "-id"]


class TransferStatus(models.TextChoices):
    """WECOM.md §8 transfer_result statuses, plus the request's own outcome."""

    WAITING = "waiting", _("Waiting for takeover")
    DONE = "done", _("Taken over")
    REFUSED = "refused", _("Customer refused")
    FULL = "full", _("Takeover account full")
    NOT_FOUND = "not_found", _("No transfer record")
    REJECTED = "rejected", _("Not accepted by WeCom")


class CustomerTransfer(WorkspaceScoped):
    """在职继承 / 离职继承 — moving one customer from a staff account to another. WeCom allows a
    customer to be transferred twice in 90 days and applies it after 24 h unless the customer
    refuses; the status is polled with `transfer_result`."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="transfers")
    handover = models.ForeignKey("accounts.StaffAccount", on_delete=models.CASCADE, related_name="+")
    takeover = models.ForeignKey("accounts.StaffAccount", on_delete=models.CASCADE, related_name="+")
    resigned = models.BooleanField(default=False)  # 离职继承
    status = models.CharField(max_length=10, choices=TransferStatus.choices, default=TransferStatus.WAITING)
    errcode = models.IntegerField(default=0)
    note = models.CharField(max_length=200, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    requested_at = models.DateTimeField()
    takeover_at = models.DateTimeField(null=True, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta(WorkspaceScoped.Meta):
        indexes = [
            models.Index(fields=["workspace", "customer", "requested_at"]),
            models.Index(fields=["workspace", "status"]),
        ]
        ordering = ["-requested_at", "-id"]
