"""The demo brand's 社群活动: a past check-in challenge with its review and lessons, a knowledge
session running now, and a planned challenge of the same type that shows those lessons; all on
the demo's customer groups (`community.demo`), so their numbers come from the groups' own rows.
Once per brand, by name; until the groups exist, looks again every two minutes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from siyu.accounts.models import StaffAccount
from siyu.activities import services
from siyu.activities.models import Activity, ActivityStatus, ActivityType, RunItem
from siyu.community.models import CustomerGroup, GroupType
from siyu.core.days import SHANGHAI
from siyu.core.models import Workspace
from siyu.core.queue import enqueue
from siyu.core.services import OPERATOR

RETRY_AFTER = dt.timedelta(minutes=2)
ATTEMPTS = 30
PAST, RUNNING, PLANNED = "21天早起打卡挑战（第一期）", "周三晚干货分享会", "21天早起打卡挑战（第二期）"


def _evening(days: int) -> dt.datetime:
    local = timezone.now().astimezone(SHANGHAI) + dt.timedelta(days=days)
    return local.replace(hour=20, minute=0, second=0, microsecond=0)


def _sheet(key: str, staff: list[StaffAccount]) -> tuple[list[services.RoleInput], list[services.ItemInput],
                                                         list[services.BudgetInput], Decimal]:
    found = services.template(key)
    assert found is not None
    holders = {label: staff[n % len(staff)].pk for n, label in enumerate(found.roles)}
    roles = [services.RoleInput(label, holders[label]) for label in found.roles]
    items = [services.ItemInput(services.format_offset(i.offset_minutes), i.title, holders.get(i.role))
             for i in found.run_sheet]
    budget = [services.BudgetInput(item, amount) for item, amount in found.budget]
    return roles, items, budget, found.budget_total


def _plan(workspace: Workspace, name: str, key: str, type_: str, start: dt.datetime, hours: int,
          staff: list[StaffAccount], *, group_types: list[str], group_ids: list[int] | None = None) -> Activity:
    roles, items, budget, total = _sheet(key, staff)
    template = services.template(key)
    assert template is not None
    return services.create_activity(workspace, OPERATOR, services.ActivityInput(
        name=name, type=type_, goal=template.goal, starts_at=start, ends_at=start + dt.timedelta(hours=hours),
        targets=dict(template.targets), budget=total, budget_lines=budget, roles=roles, run_sheet=items,
        group_types=group_types, group_ids=group_ids or []))


def seed(workspace: Workspace, attempt: int = 0) -> None:
    if Activity.objects.for_workspace(workspace).filter(name__in=(PAST, RUNNING, PLANNED)).exists():
        return
    staff = list(StaffAccount.objects.for_workspace(workspace).filter(active=True).order_by("userid"))
    groups = dict(CustomerGroup.objects.for_workspace(workspace).filter(dismissed_at__isnull=True)
                  .values_list("name", "pk"))
    if not staff or not groups:
        if attempt < ATTEMPTS:
            enqueue("siyu.activities.tasks.seed_demo", workspace.pk, attempt + 1, run_after=timezone.now() + RETRY_AFTER)
        return
    some = sorted(groups.values())
    # A three-week challenge that ended three days ago, in the VIP and flash groups (by type).
    past = _plan(workspace, PAST, "checkin-21", ActivityType.CHECKIN, _evening(-24), 21 * 24, staff,
                 group_types=[GroupType.VIP, GroupType.EVENT], group_ids=some[:1])
    services.move(workspace, OPERATOR, past.pk, ActivityStatus.RUNNING, now=past.starts_at)
    RunItem.objects.for_workspace(workspace).filter(activity=past).update(done_at=past.starts_at)
    services.move(workspace, OPERATOR, past.pk, ActivityStatus.DONE, now=past.ends_at)
    services.save_review(workspace, OPERATOR, past.pk,
                         worked="开营仪式和每日早报让打卡氛围很好，气氛组带动了新成员。",
                         did_not_work="第4天后打卡人数明显下滑，中期激励来得太晚。",
                         lessons=["中期激励放到第3天，而不是第10天", "每日早报@未打卡成员，提醒补签规则",
                                  "奖品提前在海报上展示实物图"])
    # A knowledge session running since yesterday evening, in the knowledge group.
    running = _plan(workspace, RUNNING, "knowledge-weekly", ActivityType.KNOWLEDGE, _evening(-1), 3 * 24, staff,
                    group_types=[GroupType.KNOWLEDGE])
    services.move(workspace, OPERATOR, running.pk, ActivityStatus.RUNNING, now=running.starts_at)
    first = RunItem.objects.for_workspace(workspace).filter(activity=running).order_by("order")[:2]
    RunItem.objects.for_workspace(workspace).filter(pk__in=[i.pk for i in first]).update(done_at=running.starts_at)
    # Next week's challenge: its editor shows the past challenge's lessons.
    _plan(workspace, PLANNED, "checkin-21", ActivityType.CHECKIN, _evening(7), 21 * 24, staff,
          group_types=[GroupType.WELFARE, GroupType.VIP])
