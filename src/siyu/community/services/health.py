"""社群健康与生命周期 — a row per group and day, the lifecycle stage, and the split advice.

Seed 003's lifecycle: 启动 (seed members), 发展 (towards about 100), 裂变 (100–400, the group
grows by its members), 分化 (near 500, WeCom's cap, WECOM.md §4: move the active core into a new
group) and 衰退 (the group shrinks or falls quiet). The thresholds below are that text made
countable; a group's stage is the first that matches, decline first.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop

from siyu.community.models import CustomerGroup, GroupDaily, GroupMember, MemberKind, Stage
from siyu.community.services.statistics import record_statistics
from siyu.community.timeline import CommunityTimeline
from siyu.core.models import Workspace
from siyu.customers.models import Customer
from siyu.customers.services import TimelineNote, add_timelines
from siyu.sop.models import StaffTask, TaskKind, TaskPriority

GROWTH_AT = 30  # 发展: past the seed members (启动)
FISSION_AT = 100  # 裂变: seed 003 "微信群达到100人" — growth by members' invitations
SPLIT_AT = 450  # 分化: seed 003 "当人数快达到500" — near WeCom's 500 cap (WECOM.md §4)
QUIET_DAYS_DECLINE = 14  # 衰退: no join (and no message WeCom reported) for two weeks
DECLINE_WINDOW_DAYS = 30
DECLINE_SHARE = 0.10  # 衰退: lost a tenth of its members net over the window
YOUNG_DAYS = 14  # a new group is not quiet yet, whatever its activity
SPLIT_TASK_SLA_HOURS = 72
SPLIT_TASK_TEXT = gettext_noop(
    "This group is near WeCom's 500-member cap. Create a new group and invite the most active "
    "members (the active core) into it, then link the two groups.")


@dataclass(frozen=True)
class Health:
    members: int
    net_joins: int  # over DECLINE_WINDOW_DAYS
    quiet_days: int
    age_days: int


def stage_for(h: Health) -> Stage:
    """The lifecycle stage of a group of this health (seed 003)."""
    quiet = h.age_days >= YOUNG_DAYS and h.quiet_days >= QUIET_DAYS_DECLINE
    shrinking = h.net_joins < 0 and -h.net_joins >= DECLINE_SHARE * max(h.members, 1)
    if quiet or shrinking:
        return Stage.DECLINE
    if h.members >= SPLIT_AT:
        return Stage.SPLIT
    if h.members >= FISSION_AT:
        return Stage.FISSION
    if h.members >= GROWTH_AT:
        return Stage.GROWTH
    return Stage.LAUNCH


def _bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_default_timezone())
    return start, start + dt.timedelta(days=1)


def record_days(workspace: Workspace, days: list[dt.date]) -> int:
    """Write `GroupDaily` for every live group on each day from our members (a few aggregate
    queries a day, whatever the number of groups). Re-running a day rewrites the same numbers;
    messages and speakers, filled from WeCom's statistics where known, are kept."""
    written = 0
    for day in days:
        start, end = _bounds(day)
        live = CustomerGroup.objects.for_workspace(workspace).filter(
            Q(dismissed_at__isnull=True) | Q(dismissed_at__gte=start), Q(created_at__isnull=True) | Q(created_at__lt=end))
        counts = (GroupMember.objects.for_workspace(workspace).filter(group__in=live).values("group_id")
                  .annotate(members=Count("pk", filter=Q(join_time__lt=end) & (Q(left_at__isnull=True) | Q(left_at__gte=end))),
                            joins=Count("pk", filter=Q(join_time__gte=start, join_time__lt=end)),
                            leaves=Count("pk", filter=Q(left_at__gte=start, left_at__lt=end))))
        rows = [GroupDaily(workspace=workspace, group_id=c["group_id"], day=day, members=c["members"],
                           joins=c["joins"], leaves=c["leaves"]) for c in counts]
        with transaction.atomic():
            GroupDaily.unscoped.bulk_create(rows, update_conflicts=True, unique_fields=["group", "day"],
                                            update_fields=["members", "joins", "leaves"])
            joined = [c["group_id"] for c in counts if c["joins"]]
            CustomerGroup.objects.for_workspace(workspace).filter(pk__in=joined).filter(
                Q(last_active_on__isnull=True) | Q(last_active_on__lt=day)).update(last_active_on=day)
        written += len(rows)
    return written


def recompute_stages(workspace: Workspace, now: dt.datetime | None = None) -> int:
    """Set every live group's stage from its size, net joins over 30 days and quiet days; a
    stage that changes moves `stage_changed_at`. Returns how many changed."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    since = now - dt.timedelta(days=DECLINE_WINDOW_DAYS)
    groups = (CustomerGroup.objects.for_workspace(workspace).filter(dismissed_at__isnull=True)
              .annotate(joined=Count("members", filter=Q(members__join_time__gte=since)),
                        left=Count("members", filter=Q(members__left_at__gte=since)),
                        last_join=Max("members__join_time"))
              .only("pk", "member_count", "stage", "created_at", "last_active_on"))
    changed = 0
    for g in groups:
        active = g.last_active_on
        if g.last_join is not None:
            active = max(active or dt.date.min, timezone.localdate(g.last_join))
        born = timezone.localdate(g.created_at) if g.created_at else today
        quiet = (today - (active or born)).days
        stage = stage_for(Health(g.member_count, g.joined - g.left, max(quiet, 0), (today - born).days))
        if stage != g.stage:
            changed += CustomerGroup.unscoped.filter(pk=g.pk, stage=g.stage).update(stage=stage, stage_changed_at=now)
    return changed


def advise_splits(workspace: Workspace, now: dt.datetime | None = None) -> int:
    """分化: a task for the owner of each group at or past `SPLIT_AT`, once per group and month
    (ref `split:<group>:<yyyy-mm>`, unique with source "community"). The task names one member of
    the active core, the earliest customer still in the group, since a task is about a customer."""
    now = now or timezone.now()
    month = timezone.localtime(now).strftime("%Y-%m")
    groups = list(CustomerGroup.objects.for_workspace(workspace)
                  .filter(dismissed_at__isnull=True, member_count__gte=SPLIT_AT)
                  .select_related("owner").only("pk", "owner__id", "owner__operator_id"))
    if not groups:
        return 0
    first: dict[int, int] = {}
    for group_id, customer_id in (GroupMember.objects.for_workspace(workspace)
                                  .filter(group__in=groups, kind=MemberKind.CUSTOMER, left_at__isnull=True,
                                          customer__isnull=False)
                                  .order_by("group_id", "join_time", "pk").values_list("group_id", "customer_id")):
        first.setdefault(group_id, customer_id)
    due = now + dt.timedelta(hours=SPLIT_TASK_SLA_HOURS)
    with translation.override(settings.LANGUAGE_CODE):  # staff read the task in the console's language
        text = gettext(SPLIT_TASK_TEXT)
    tasks = [StaffTask(workspace=workspace, customer_id=first[g.pk], assignee=g.owner,
                       operator_id=g.owner.operator_id if g.owner else None, kind=TaskKind.INVITE,
                       text=text, due_at=now, sla_hours=SPLIT_TASK_SLA_HOURS, breach_at=due,
                       priority=TaskPriority.HIGH, reason="community.split", source="community",
                       ref=f"split:{g.pk}:{month}") for g in groups if g.pk in first]
    before = StaffTask.objects.for_workspace(workspace).filter(source="community").count()
    with transaction.atomic():
        StaffTask.unscoped.bulk_create(tasks, ignore_conflicts=True)
        add_timelines(workspace, [TimelineNote(Customer(pk=t.customer_id, workspace=workspace), CommunityTimeline.SPLIT_CORE,
                                               now, account_id=t.assignee_id, dedupe_key=f"community.{t.ref}")
                                  for t in tasks])
    return StaffTask.objects.for_workspace(workspace).filter(source="community").count() - before


def refresh_health(workspace: Workspace, now: dt.datetime | None = None) -> dict[str, int]:
    """The hourly job for one brand: yesterday's and today's rows, stages, split advice."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    days = record_days(workspace, [today - dt.timedelta(days=1), today])
    # Yesterday's messages (WeCom reports a day once it is over), before the stages use them.
    messages = record_statistics(workspace, [today - dt.timedelta(days=1)])
    return {"days": days, "messages": messages, "stages": recompute_stages(workspace, now),
            "splits": advise_splits(workspace, now)}
