"""群发 — mass messages to customers, and the receive-limit ledger every sender in Siyu spends from.

A `MassMessage` is planned into one `MassRecipient` row per customer (who sends it, which WeCom
batch, what became of it) and one `MassBatch` per `add_msg_template` call (<= 10,000 customers of
one sender, WECOM.md §5). `ReceiveCount` is the receive-limit budget: how many mass messages a
customer (or, later, a group) has been given in one period (see `services/budget.py`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from siyu.core.tenancy import WorkspaceScoped

DEFAULT_REMINDER_MINUTES = (30, 120, 360)


def default_reminder_minutes() -> list[int]:
    return list(DEFAULT_REMINDER_MINUTES)


class BudgetRule(models.TextChoices):
    MONTH_DAYS = "month_days", _("As many a month as the month has days")
    DAILY_ONE = "daily_1", _("One a day")
    MONTHLY_FOUR = "monthly_4", _("Four a month")


class MessagingSettings(WorkspaceScoped):
    """群发设置 — the brand's receive-limit rule and its reminder ladder."""

    budget_rule = models.CharField(_("receive limit"), max_length=12, choices=BudgetRule.choices,
                                   default=BudgetRule.MONTH_DAYS)
    # Minutes after a batch was created at which its sender is reminded (WECOM.md §5: <= 3 a day).
    reminder_minutes = models.JSONField(default=default_reminder_minutes, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(WorkspaceScoped.Meta):
        constraints = [models.UniqueConstraint(fields=["workspace"], name="messaging_settings_one_per_brand")]


class RecipientKind(models.TextChoices):
    CUSTOMER = "c", _("Customer")
    GROUP = "g", _("Customer group")


class ReceiveCount(WorkspaceScoped):
    """收件额度 — how many mass messages one recipient was given (or has reserved) in one period
    (`span` "m" a calendar month, "d" a day, Asia/Shanghai). Changed only by conditional SQL."""

    # No foreign-key check or index of its own: the unique index starts with the brand, and a
    # reservation of a million rows should not pay a trigger per row (the brand's deletion
    # still cascades, through Django).
    workspace = models.ForeignKey("core.Workspace", on_delete=models.CASCADE, related_name="+",
                                  db_constraint=False, db_index=False)
    # The key is the primary key: one index to maintain per row written, and the upsert's target.
    pk = models.CompositePrimaryKey("workspace", "kind", "recipient_id", "span", "period_start")
    kind = models.CharField(max_length=1, choices=RecipientKind.choices)
    recipient_id = models.BigIntegerField()  # a customer's (or a group's) primary key
    span = models.CharField(max_length=1)
    period_start = models.DateField()
    count = models.PositiveIntegerField(default=0)


class TargetKind(models.TextChoices):
    SEGMENT = "segment", _("Segment")
    TAGS = "tags", _("Tags")
    CUSTOMERS = "customers", _("Chosen customers")
    GROUPS = "groups", _("Customer groups")


class MassStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Waiting for staff")
    DONE = "done", pgettext_lazy("mass message", "Finished")
    CANCELLED = "cancelled", _("Cancelled")
    FAILED = "failed", pgettext_lazy("mass message", "Failed")


class MassMessage(WorkspaceScoped):
    """群发 — one message to many customers, sent through their staff accounts."""

    name = models.CharField(_("name"), max_length=60)
    target_kind = models.CharField(_("recipients"), max_length=10, choices=TargetKind.choices)
    segment = models.ForeignKey("segments.Segment", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+", verbose_name=_("segment"))
    tag_filter = models.JSONField(default=list, blank=True)  # [[tag pk, ...] per tag group]
    customer_ids = models.JSONField(default=list, blank=True)  # chosen customers
    # Customer groups given by the caller (messaging sits below community): [[group pk, chat_id,
    # owner account pk, name], ...], so a draft can be planned again at another time.
    group_targets = models.JSONField(default=list, blank=True)
    text = models.TextField(_("text"), blank=True)
    attachments = models.JSONField(default=list, blank=True)  # WeCom shapes, <= 9
    template_ref = models.IntegerField(null=True, blank=True)  # a content template, once wired
    allow_select = models.BooleanField(_("staff may choose recipients"), default=False)
    send_at = models.DateTimeField(_("send at"), null=True, blank=True)  # None: at once
    budget_at = models.DateTimeField(null=True, blank=True)  # the instant whose period the budget counts in
    status = models.CharField(max_length=10, choices=MassStatus.choices, default=MassStatus.DRAFT)
    planned_count = models.PositiveIntegerField(default=0)
    refused_count = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    # Who asked for it: "mass" a planner in the console, else a system sender (sop, fission, …)
    # whose `ref` makes its call idempotent (see `services/senders.py`).
    source = models.CharField(_("source"), max_length=12, default="mass")
    ref = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)  # every batch was created in WeCom
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta(WorkspaceScoped.Meta):
        indexes = [models.Index(fields=["workspace", "status"], name="mass_message_status")]
        constraints = [models.UniqueConstraint(fields=["workspace", "source", "ref"], condition=~models.Q(ref=""),
                                               name="mass_message_source_ref")]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name

    @property
    def source_label(self) -> str:
        """The sender's name in the console: SOP, fission (裂变), community (社群)."""
        return str(SOURCE_LABELS.get(self.source, self.source))


SOURCE_LABELS = {"mass": _("Mass message"), "sop": pgettext_lazy("sender", "SOP"),
                 "fission": pgettext_lazy("sender", "Fission"), "community": pgettext_lazy("sender", "Community")}


class BatchStatus(models.TextChoices):
    NEW = "new", _("Not created yet")
    CREATING = "creating", _("Creating")
    PENDING = "pending", _("Waiting for the sender")
    SENT = "sent", pgettext_lazy("mass batch", "Sent")
    CANCELLED = "cancelled", pgettext_lazy("mass batch", "Cancelled")
    FAILED = "failed", pgettext_lazy("mass batch", "Failed")


class MassBatch(WorkspaceScoped):
    """One `add_msg_template` call: up to 10,000 customers of one sending staff account."""

    message = models.ForeignKey(MassMessage, on_delete=models.CASCADE, related_name="batches")
    sender = models.ForeignKey("accounts.StaffAccount", on_delete=models.CASCADE, related_name="+")
    number = models.PositiveIntegerField()
    size = models.PositiveIntegerField(default=0)
    sent_count = models.PositiveIntegerField(default=0)  # recipients it reached, kept with their state
    status = models.CharField(max_length=10, choices=BatchStatus.choices, default=BatchStatus.NEW)
    msgid = models.CharField(max_length=64, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_in_wecom_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    next_check_at = models.DateTimeField(null=True, blank=True)
    checks = models.PositiveIntegerField(default=0)
    ladder_step = models.PositiveSmallIntegerField(default=0)  # reminders of the ladder sent
    reminded_at = models.JSONField(default=list, blank=True)  # epoch seconds of every reminder
    error = models.CharField(max_length=300, blank=True)

    class Meta(WorkspaceScoped.Meta):
        constraints = [models.UniqueConstraint(fields=["message", "sender", "number"], name="mass_batch_unique")]
        indexes = [models.Index(fields=["status", "next_check_at"], name="mass_batch_due")]
        ordering = ["sender_id", "number"]


class RecipientStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    REFUSED = "refused", _("Over the receive limit (not sent)")
    PENDING = "pending", _("Waiting for the sender")
    SENT = "sent", pgettext_lazy("mass recipient", "Sent")
    NOT_FRIEND = "not_friend", _("Not a friend")
    OVER_LIMIT = "over_limit", _("Over the limit in WeCom")
    CANCELLED = "cancelled", pgettext_lazy("mass recipient", "Cancelled")
    FAILED = "failed", pgettext_lazy("mass recipient", "Failed")


class MassRecipient(WorkspaceScoped):
    """One customer of a mass message: the staff account that sends it, its batch, its result."""

    # A ledger written a million rows at a time (INSERT … SELECT from rows that exist): no
    # foreign-key trigger per row, and only the indexes it is read by. Deleting a brand, a
    # message, a customer or an account still cascades here, through Django.
    workspace = models.ForeignKey("core.Workspace", on_delete=models.CASCADE, related_name="+",
                                  db_constraint=False, db_index=False)
    message = models.ForeignKey(MassMessage, on_delete=models.CASCADE, related_name="recipients",
                                db_constraint=False, db_index=False)  # the unique index leads with it
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+",
                                 db_constraint=False)
    sender = models.ForeignKey("accounts.StaffAccount", on_delete=models.CASCADE, related_name="+",
                               db_constraint=False, db_index=False)
    pk = models.CompositePrimaryKey("message", "customer")  # no extra id index on a million-row insert
    batch_number = models.IntegerField(default=0)
    status = models.CharField(max_length=10, choices=RecipientStatus.choices, default=RecipientStatus.PLANNED)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta(WorkspaceScoped.Meta):
        indexes = [models.Index(fields=["message", "sender", "batch_number"], name="mass_recipient_batch")]


class MassGroupRecipient(WorkspaceScoped):
    """One customer group (客户群) of a group 群发: sent by the group's owner (群主), in which
    WeCom batch (<= 2,000 chats of one owner), and what became of it. `group_id` is the
    community app's group key, kept without a foreign key: messaging sits below community."""

    workspace = models.ForeignKey("core.Workspace", on_delete=models.CASCADE, related_name="+",
                                  db_constraint=False, db_index=False)
    message = models.ForeignKey(MassMessage, on_delete=models.CASCADE, related_name="group_recipients",
                                db_constraint=False, db_index=False)
    group_id = models.BigIntegerField()
    pk = models.CompositePrimaryKey("message", "group_id")
    chat_id = models.CharField(max_length=64)
    name = models.CharField(max_length=200, blank=True)
    sender = models.ForeignKey("accounts.StaffAccount", on_delete=models.CASCADE, related_name="+",
                               db_constraint=False, db_index=False)
    batch_number = models.IntegerField(default=0)
    status = models.CharField(max_length=10, choices=RecipientStatus.choices, default=RecipientStatus.PLANNED)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta(WorkspaceScoped.Meta):
        indexes = [models.Index(fields=["message", "sender", "batch_number"], name="mass_group_recipient_batch"),
                   models.Index(fields=["workspace", "group_id"], name="mass_group_recipient_group")]


class MassTally(WorkspaceScoped):
    """How many recipients of a message are in one state: kept in the transactions that move
    them (`services/tally.py`), so the progress page never counts a million rows."""

    workspace = models.ForeignKey("core.Workspace", on_delete=models.CASCADE, related_name="+",
                                  db_constraint=False, db_index=False)
    message = models.ForeignKey(MassMessage, on_delete=models.CASCADE, related_name="tallies",
                                db_constraint=False, db_index=False)
    pk = models.CompositePrimaryKey("message", "status")
    status = models.CharField(max_length=10, choices=RecipientStatus.choices)
    count = models.IntegerField(default=0)


class NoticeStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", pgettext_lazy("staff notice", "Sending")
    SENT = "sent", pgettext_lazy("staff notice", "Sent")
    FAILED = "failed", pgettext_lazy("staff notice", "Failed")


class StaffNotice(WorkspaceScoped):
    """应用消息 — one notice to one staff account, sent with `message/send` by a worker paced
    within WeCom's limits (`services/notices.py`). Unique per (brand, source, ref, account), so
    a sender that asks twice queues it once."""

    account = models.ForeignKey("accounts.StaffAccount", on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=20)
    ref = models.CharField(max_length=100)
    text = models.TextField()
    title = models.CharField(max_length=128, blank=True)  # with `url`: a textcard
    url = models.URLField(max_length=500, blank=True)
    status = models.CharField(max_length=8, choices=NoticeStatus.choices, default=NoticeStatus.QUEUED)
    due_at = models.DateTimeField()  # not sent before (pacing and retries move it on)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)  # when a worker took it to send
    sent_at = models.DateTimeField(null=True, blank=True)
    msgid = models.CharField(max_length=64, blank=True)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(WorkspaceScoped.Meta):
        constraints = [models.UniqueConstraint(fields=["workspace", "source", "ref", "account"],
                                               name="staff_notice_once")]
        indexes = [models.Index(fields=["status", "due_at"], name="staff_notice_due"),
                   models.Index(fields=["account", "claimed_at"], name="staff_notice_pace")]
