"""社群活动 — a community activity planned (策划), run (执行) and reviewed (复盘), as seed 003's
chapter on community activities (4.2.5 打造社群活动) describes them.

An `Activity` holds the plan: its goal as numbers (targets), the audience (groups picked, by type
or by label, and/or a segment), the time window, the budget; with its roles, run sheet (流程) and
budget lines as rows of their own. The audience's groups are resolved into `ActivityGroup` rows
when the plan is saved and again when it starts, so the review counts the groups the activity
ran in. Actuals are never stored: they are computed from the groups', check-ins' and points'
own rows (`services.numbers`). Lessons (经验) carry forward to the next plan of the same type.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from siyu.core.tenancy import WorkspaceScoped


class ActivityType(models.TextChoices):
    """Activity types from seed 003 (内容分享, 签到打卡, 征集有奖, 线下活动; 话题互动, 利益驅動)."""

    CHECKIN = "checkin", _("Check-in challenge")
    KNOWLEDGE = "knowledge", _("Knowledge sharing")
    TOPIC = "topic", _("Topic discussion")
    CONTEST = "contest", _("Call for entries with prizes")
    LOTTERY = "lottery", _("Lucky draw / flash sale")
    FESTIVAL = "festival", _("Festival activity")
    OFFLINE = "offline", _("Offline meet-up")
    OTHER = "other", pgettext_lazy("activity type", "Other")


class ActivityStatus(models.TextChoices):
    PLANNED = "planned", pgettext_lazy("activity status", "Planned")
    RUNNING = "running", pgettext_lazy("activity status", "Running")
    DONE = "done", pgettext_lazy("activity status", "Done")
    CANCELLED = "cancelled", pgettext_lazy("activity status", "Cancelled")


class Activity(WorkspaceScoped):
    """社群活动 — one activity of the brand's groups: the plan, its state and its review."""

    name = models.CharField(pgettext_lazy("activity", "Name"), max_length=60)
    type = models.CharField(pgettext_lazy("activity", "Type"), max_length=10, choices=ActivityType.choices)
    goal = models.TextField(pgettext_lazy("activity", "Goal"), blank=True)
    # Targets (目标): None means "no target for this number".
    target_joins = models.PositiveIntegerField(null=True, blank=True)
    target_checkins = models.PositiveIntegerField(null=True, blank=True)
    target_messages = models.PositiveIntegerField(null=True, blank=True)
    target_conversions = models.PositiveIntegerField(null=True, blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    # The audience as the operator chose it; `groups` holds it resolved.
    group_ids = models.JSONField(default=list, blank=True)
    group_types = models.JSONField(default=list, blank=True)
    group_tags = models.JSONField(default=list, blank=True)
    segment = models.ForeignKey("segments.Segment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    budget = models.DecimalField(max_digits=12, decimal_places=2, default=0)  # yuan
    sop = models.ForeignKey("sop.Sop", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=10, choices=ActivityStatus.choices, default=ActivityStatus.PLANNED)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)  # done or cancelled
    # 复盘
    worked = models.TextField(blank=True)
    did_not_work = models.TextField(blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(WorkspaceScoped.Meta):
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="activity_ends_after_start"),
            models.CheckConstraint(condition=Q(budget__gte=0), name="activity_budget_not_negative"),
        ]
        indexes = [models.Index(fields=["workspace", "starts_at"]), models.Index(fields=["workspace", "type", "status"])]
        ordering = ["-starts_at", "-pk"]

    def __str__(self) -> str:
        return self.name


class ActivityGroup(WorkspaceScoped):
    """One customer group (客户群) of an activity's resolved audience."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="groups")
    group = models.ForeignKey("community.CustomerGroup", on_delete=models.CASCADE, related_name="+")

    class Meta(WorkspaceScoped.Meta):
        constraints = [models.UniqueConstraint(fields=["activity", "group"], name="activity_group_unique")]
        indexes = [models.Index(fields=["workspace", "group"])]


class ActivityRole(WorkspaceScoped):
    """分工 — who does what: a member of the brand's staff (企微号) with a role label (主持, 助理, 气氛组)."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="roles")
    label = models.CharField(max_length=20)
    staff = models.ForeignKey("accounts.StaffAccount", on_delete=models.PROTECT, related_name="+")
    order = models.PositiveSmallIntegerField(default=0)

    class Meta(WorkspaceScoped.Meta):
        ordering = ["order", "pk"]


class BudgetLine(WorkspaceScoped):
    """预算明细 — one line of the budget (prizes, red packets, printing …), in yuan."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="budget_lines")
    item = models.CharField(max_length=60)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta(WorkspaceScoped.Meta):
        ordering = ["order", "pk"]


class RunItem(WorkspaceScoped):
    """流程 — one item of the run sheet: when (minutes from the start; negative before it), what,
    by whom, and optionally the message the audience gets then; ticked by staff while it runs."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="run_items")
    order = models.PositiveSmallIntegerField()
    offset_minutes = models.IntegerField(default=0)
    title = models.CharField(max_length=120)
    owner = models.ForeignKey("accounts.StaffAccount", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    # 群发文案: what the audience is sent at this time, by the event SOP made from the run sheet.
    message = models.TextField(blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")

    class Meta(WorkspaceScoped.Meta):
        constraints = [models.UniqueConstraint(fields=["activity", "order"], name="activity_run_item_order")]
        ordering = ["order"]


class Lesson(WorkspaceScoped):
    """经验教训 — one short lesson of a review, shown to the next plan of the same type."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="lessons")
    order = models.PositiveSmallIntegerField(default=0)
    text = models.CharField(max_length=200)

    class Meta(WorkspaceScoped.Meta):
        ordering = ["order", "pk"]
