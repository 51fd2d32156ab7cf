"""社群 — customer groups (客户群) as WeCom holds them, their members, and a row per group and day
for the health charts. Kept by a full sync and by `change_external_chat` events (WECOM.md §4)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from siyu.core.tenancy import WorkspaceScoped


class GroupType(models.TextChoices):
    """Group types from seed 003 (产品型 / 知识型 / 兴趣型 and the operator's own)."""

    UNSET = "", _("Unclassified")
    WELFARE = "welfare", _("Welfare group")
    KNOWLEDGE = "knowledge", _("Knowledge / learning group")
    VIP = "vip", _("Member / VIP group")
    EVENT = "event", _("Event / flash group")
    INTEREST = "interest", _("Interest group")
    LOCAL = "local", _("Local group")
    AFTERSALES = "aftersales", _("After-sales group")
    OTHER = "other", pgettext_lazy("group type", "Other")


class Stage(models.TextChoices):
    """社群生命周期 (seed 003): 启动 → 发展 (about 100) → 裂变 (100–400) → 分化 (about 500) → 衰退."""

    LAUNCH = "launch", _("Launch")
    GROWTH = "growth", pgettext_lazy("group stage", "Growth")
    FISSION = "fission", pgettext_lazy("group stage", "Fission")
    SPLIT = "split", _("Split")
    DECLINE = "decline", _("Decline")


class CustomerGroup(WorkspaceScoped):
    """客户群 — a WeCom customer group: its owner (群主), notice, members and where it stands."""

    chat_id = models.CharField(max_length=64)
    name = models.CharField(max_length=200, blank=True)
    owner = models.ForeignKey("accounts.StaffAccount", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    owner_userid = models.CharField(max_length=64, blank=True)
    notice = models.TextField(blank=True)
    created_at = models.DateTimeField(null=True, blank=True)  # create_time at WeCom
    dismissed_at = models.DateTimeField(null=True, blank=True)
    member_count = models.PositiveIntegerField(default=0)
    customer_count = models.PositiveIntegerField(default=0)
    type = models.CharField(max_length=12, choices=GroupType.choices, blank=True, default=GroupType.UNSET)
    type_label = models.CharField(max_length=20, blank=True)  # the operator's own type, with OTHER
    persona = models.ForeignKey("ip.Persona", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    tags = models.JSONField(default=list, blank=True)  # the operator's own labels, short strings
    stage = models.CharField(max_length=8, choices=Stage.choices, default=Stage.LAUNCH)
    stage_changed_at = models.DateTimeField(null=True, blank=True)
    last_active_on = models.DateField(null=True, blank=True)  # a message, or else a join, that day
    member_version = models.CharField(max_length=64, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    last_sync_id = models.BigIntegerField(null=True, blank=True)

    # Set on the rows of the console's list and detail (`services.groups`), not stored.
    quiet_days: int | None

    class Meta(WorkspaceScoped.Meta):
        constraints = [models.UniqueConstraint(fields=["workspace", "chat_id"], name="community_group_chat_unique")]
        indexes = [models.Index(fields=["workspace", "dismissed_at", "stage"]),
                   models.Index(fields=["workspace", "owner"])]

    def __str__(self) -> str:
        return self.name or self.chat_id


class MemberKind(models.TextChoices):
    STAFF = "staff", pgettext_lazy("group member", "Staff")
    CUSTOMER = "customer", pgettext_lazy("group member", "Customer")


class GroupMember(WorkspaceScoped):
    """群成员 — one member of a group, staff (userid) or customer (external_userid); a member who
    left keeps the row with `left_at`, and a rejoin clears it."""

    group = models.ForeignKey(CustomerGroup, on_delete=models.CASCADE, related_name="members")
    userid = models.CharField(max_length=64)  # a staff userid or an external_userid
    kind = models.CharField(max_length=8, choices=MemberKind.choices)
    customer = models.ForeignKey("customers.Customer", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    nickname = models.CharField(max_length=64, blank=True)
    join_time = models.DateTimeField(null=True, blank=True)
    join_scene = models.PositiveSmallIntegerField(default=0)  # 1 invited, 2 invite link, 3 group QR
    invitor = models.CharField(max_length=64, blank=True)
    state = models.CharField(max_length=30, blank=True)
    left_at = models.DateTimeField(null=True, blank=True)
    quit_scene = models.PositiveSmallIntegerField(null=True, blank=True)  # 0 left, 1 removed

    class Meta(WorkspaceScoped.Meta):
        constraints = [models.UniqueConstraint(fields=["group", "userid"], name="community_member_unique")]
        indexes = [models.Index(fields=["group", "left_at", "join_time"]),
                   models.Index(fields=["workspace", "userid"])]


class GroupDaily(WorkspaceScoped):
    """群日报 — one group on one day (Asia/Shanghai): size and movement from our members, and
    messages and speakers where WeCom's `groupchat/statistic` gives them for the group."""

    group = models.ForeignKey(CustomerGroup, on_delete=models.CASCADE, related_name="days")
    day = models.DateField()
    members = models.PositiveIntegerField(default=0)
    joins = models.PositiveIntegerField(default=0)
    leaves = models.PositiveIntegerField(default=0)
    messages = models.PositiveIntegerField(null=True, blank=True)
    active_members = models.PositiveIntegerField(null=True, blank=True)

    class Meta(WorkspaceScoped.Meta):
        constraints = [models.UniqueConstraint(fields=["group", "day"], name="community_daily_unique")]
        indexes = [models.Index(fields=["workspace", "day"])]


class SyncStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class GroupSync(WorkspaceScoped):
    """客户群全量同步 — one full sync of the brand's groups; the cursor makes it resumable."""

    status = models.CharField(max_length=8, choices=SyncStatus.choices, default=SyncStatus.RUNNING)
    cursor = models.CharField(max_length=200, blank=True)
    pages = models.PositiveIntegerField(default=0)
    groups_seen = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta(WorkspaceScoped.Meta):
        ordering = ["-pk"]
