"""The demo brand's 社群: five customer groups at the five lifecycle stages of seed 003, made in
the twin by its staff (`POST /twin/groups`, backdated, with members joining over the weeks), then
synced, their history written and their stages computed, so the list and the charts show every
stage within minutes. A few members of the declining group leave through the twin, whose
callbacks the event subscribers apply."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone

from siyu.accounts.models import StaffAccount
from siyu.community import services
from siyu.community.models import CustomerGroup, GroupMember, GroupType, MemberKind
from siyu.core.models import Workspace
from siyu.core.queue import enqueue
from siyu.core.services import OPERATOR
from siyu.customers.models import FollowRelation
from siyu.sop import services as sop
from siyu.sop.models import Sop, SopKind, SopStatus, StepChannel, TriggerKind
from siyu.wecom import twin
from siyu.wecom.services import connection_of

SHANGHAI = ZoneInfo("Asia/Shanghai")
RETRY_AFTER = dt.timedelta(minutes=2)
ATTEMPTS = 30
FRIENDS_PER_GROUP = 5
HISTORY_DAYS = 90
# (name, type, guests, age in days, days over which the guests joined, members who leave now)
GROUPS: tuple[tuple[str, str, int, int, int, int], ...] = (
    ("新品尝鲜福利群", GroupType.WELFARE, 12, 3, 3, 0),  # 启动
    ("护肤知识学习群", GroupType.KNOWLEDGE, 60, 20, 20, 0),  # 发展
    ("会员VIP专属群", GroupType.VIP, 180, 45, 45, 0),  # 裂变
    ("双十二快闪群", GroupType.EVENT, 462, 25, 25, 0),  # 分化: near 500
    ("老客售后群", GroupType.AFTERSALES, 40, 70, 35, 6),  # 衰退: quiet for a month, members leaving
)


def _twin_base(workspace: Workspace) -> str | None:
    connection = connection_of(workspace)
    return connection.api_base if connection is not None and twin.twin_url(connection.api_base) else None


def seed(workspace: Workspace, attempt: int = 0) -> None:
    """Once per brand (a group of the demo's names already held: nothing to do). Until the
    brand has staff and customers, looks again every two minutes through the worker."""
    api_base = _twin_base(workspace)
    names = [g[0] for g in GROUPS]
    if api_base is None or CustomerGroup.objects.for_workspace(workspace).filter(name__in=names).exists():
        return
    owners = list(StaffAccount.objects.for_workspace(workspace).filter(active=True).order_by("userid")
                  .values_list("userid", flat=True))
    friends = list(FollowRelation.objects.for_workspace(workspace).filter(deleted_at__isnull=True)
                   .order_by("pk").values_list("customer__external_userid", flat=True)[:FRIENDS_PER_GROUP * len(GROUPS)])
    if not owners or not friends:
        if attempt < ATTEMPTS:
            enqueue("siyu.community.tasks.seed_demo", workspace.pk, attempt + 1, run_after=timezone.now() + RETRY_AFTER)
        return
    for n, (name, _type, guests, age, growth, _leaving) in enumerate(GROUPS):
        # The twin answers 201 for a new group, which `act` counts as not taken; the sync finds it.
        twin.act(api_base, "groups", {"owner": owners[n % len(owners)], "name": name, "guests": guests,
                                      "age_days": age, "growth_days": growth,
                                      "members": friends[n::len(GROUPS)]})
    sync = services.start_sync(workspace, OPERATOR, enqueue=False)
    services.run_sync(workspace, sync.pk)
    for name, type_, *_ in GROUPS:
        CustomerGroup.objects.for_workspace(workspace).filter(name=name).update(type=type_)
    for name, _type, _guests, _age, _growth, leaving in GROUPS:
        group = CustomerGroup.objects.for_workspace(workspace).filter(name=name).first()
        if group is None or not leaving:
            continue
        for userid in (GroupMember.objects.for_workspace(workspace).filter(group=group, kind=MemberKind.CUSTOMER,
                                                                          left_at__isnull=True)
                       .order_by("-join_time").values_list("userid", flat=True)[:leaving]):
            twin.act(api_base, "groups/leave", {"chat_id": group.chat_id, "external_userid": userid})
    today = timezone.localdate()
    services.record_days(workspace, [today - dt.timedelta(days=d) for d in range(HISTORY_DAYS, -1, -1)])
    services.refresh_health(workspace)


# --- a group SOP with a weekly rhythm (seed 003: 周一话题, 周三打卡, 周五福利) ----------------------

WEEKLY_SOP = "福利群周节奏"
WEEKLY_STEPS = [
    sop.StepInput(days=0, at_time=dt.time(10, 0), channel=StepChannel.MASS,
                  text="【本周话题】换季皮肤容易干，大家都用什么方法保湿？来群里聊聊 💬"),
    sop.StepInput(days=2, at_time=dt.time(20, 0), channel=StepChannel.MASS,
                  text="【周三打卡】晒出今晚的护肤步骤，连续打卡 3 周送旅行装一份 ✅"),
    sop.StepInput(days=4, at_time=dt.time(12, 0), channel=StepChannel.MASS,
                  text="【周五福利】群友专享：满 199 减 30，今晚 24 点截止 🎁"),
]


def seed_weekly_sop(workspace: Workspace, now: dt.datetime | None = None) -> Sop | None:
    """The welfare groups' weekly rhythm, active, with this week's steps still to come enrolled
    (the schedule job enrols next Monday's). Idempotent: made once, enrolled once per week."""
    now = now or timezone.now()
    found = Sop.objects.for_workspace(workspace).filter(name=WEEKLY_SOP).first()
    if found is None:
        found = sop.create_sop(workspace, OPERATOR, sop.SopInput(
            name=WEEKLY_SOP, kind=SopKind.GROUP, trigger=TriggerKind.SCHEDULE, schedule_weekday=0,
            at_time=dt.time(9, 0), group_type=GroupType.WELFARE), WEEKLY_STEPS)
        found = sop.set_status(workspace, OPERATOR, found.pk, SopStatus.ACTIVE)
    local = now.astimezone(SHANGHAI)
    monday = dt.datetime.combine(local.date() - dt.timedelta(days=local.weekday()), dt.time(9, 0), SHANGHAI)
    year, week, _day = monday.isocalendar()
    groups = sop.audience_of(workspace, found)
    sop.enrol_groups(workspace, found, groups, monday, now, period=f"{year}-W{week:02}", not_before=now)
    return found
