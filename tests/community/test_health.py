"""Group health: rows per day from members, lifecycle stages by seed 003's thresholds, and the
split advice near 500 as one task for the owner per group and month."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from siyu.accounts.models import StaffAccount
from siyu.community import services
from siyu.community.models import CustomerGroup, GroupDaily, GroupMember, MemberKind, Stage
from siyu.community.services import Health, stage_for
from siyu.community.services.health import QUIET_DAYS_DECLINE, SPLIT_AT
from siyu.customers.models import Customer, TimelineEntry
from siyu.sop.models import StaffTask, TaskKind


@pytest.mark.parametrize(("health", "stage"), [
    (Health(members=10, net_joins=5, quiet_days=0, age_days=2), Stage.LAUNCH),
    (Health(members=29, net_joins=5, quiet_days=0, age_days=20), Stage.LAUNCH),
    (Health(members=30, net_joins=5, quiet_days=0, age_days=20), Stage.GROWTH),
    (Health(members=99, net_joins=5, quiet_days=0, age_days=20), Stage.GROWTH),
    (Health(members=100, net_joins=5, quiet_days=0, age_days=20), Stage.FISSION),
    (Health(members=449, net_joins=5, quiet_days=0, age_days=20), Stage.FISSION),
    (Health(members=SPLIT_AT, net_joins=5, quiet_days=0, age_days=20), Stage.SPLIT),
    (Health(members=200, net_joins=5, quiet_days=QUIET_DAYS_DECLINE, age_days=60), Stage.DECLINE),
    (Health(members=10, net_joins=0, quiet_days=QUIET_DAYS_DECLINE, age_days=5), Stage.LAUNCH),  # young, not quiet
    (Health(members=200, net_joins=-20, quiet_days=0, age_days=60), Stage.DECLINE),  # lost a tenth
    (Health(members=200, net_joins=-19, quiet_days=0, age_days=60), Stage.FISSION),
])
def test_the_stage_follows_the_thresholds(health, stage):
    assert stage_for(health) == stage


def _group(workspace, name, members, *, joined_days_ago=1, owner=None, customers=0):
    now = timezone.now()
    group = CustomerGroup.objects.create(workspace=workspace, chat_id=f"wr{name}", name=name, member_count=members,
                                         owner=owner, created_at=now - dt.timedelta(days=60))
    rows = [GroupMember(workspace=workspace, group=group, userid=f"{name}-{n}", kind=MemberKind.CUSTOMER,
                        join_time=now - dt.timedelta(days=joined_days_ago, minutes=n)) for n in range(members)]
    for n, customer in enumerate(Customer.objects.for_workspace(workspace).order_by("pk")[:customers]):
        rows[n].customer = customer
    GroupMember.unscoped.bulk_create(rows)
    return group


def test_a_day_counts_members_joins_and_leaves(brand_a):
    ws = brand_a.workspace
    group = _group(ws, "a", 5, joined_days_ago=0)
    GroupMember.objects.for_workspace(ws).filter(userid="a-0").update(left_at=timezone.now())
    today = timezone.localdate()
    services.record_days(ws, [today])
    services.record_days(ws, [today])  # again: the same row
    day = GroupDaily.objects.for_workspace(ws).get(group=group, day=today)
    assert (day.joins, day.leaves) == (5, 1) and day.members in (4, 5)  # 5 joined today, 1 left
    group.refresh_from_db()
    assert group.last_active_on == today


def test_stages_are_set_and_their_change_is_dated(brand_a):
    ws = brand_a.workspace
    quiet = _group(ws, "quiet", 40, joined_days_ago=30)
    busy = _group(ws, "busy", 120, joined_days_ago=1)
    assert services.recompute_stages(ws) == 2
    quiet.refresh_from_db()
    busy.refresh_from_db()
    assert (quiet.stage, busy.stage) == (Stage.DECLINE, Stage.FISSION)
    assert busy.stage_changed_at is not None
    assert services.recompute_stages(ws) == 0


def test_a_group_near_500_gives_its_owner_one_split_task_a_month(brand_a):
    ws = brand_a.workspace
    owner = StaffAccount.objects.create(workspace=ws, userid="staff0", name="小完子")
    customer = Customer.objects.create(workspace=ws, external_userid="wm1", name="老客")
    group = _group(ws, "big", SPLIT_AT, owner=owner, customers=1)
    now = timezone.now()
    assert services.advise_splits(ws, now) == 1
    assert services.advise_splits(ws, now) == 0
    task = StaffTask.objects.for_workspace(ws).get(source="community")
    assert (task.assignee, task.customer, task.kind) == (owner, customer, TaskKind.INVITE)
    assert task.ref == f"split:{group.pk}:{timezone.localtime(now):%Y-%m}" and "500" in task.text
    assert TimelineEntry.objects.for_workspace(ws).filter(kind="community.split_core", customer=customer).count() == 1
    assert services.advise_splits(ws, now + dt.timedelta(days=32)) == 1  # next month, advised again


def test_a_smaller_group_gets_no_split_task(brand_a):
    ws = brand_a.workspace
    Customer.objects.create(workspace=ws, external_userid="wm1", name="老客")
    _group(ws, "mid", SPLIT_AT - 1, customers=1)
    assert services.advise_splits(ws) == 0
