"""The numbers of an activity come from the rows that record what happened: the groups' members
(joins, leaves), their days (messages, where WeCom reported them), check-ins and redemptions by
the audience, inside the window; a planned activity has none, a running one counts until now."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from siyu.activities import services
from siyu.activities.models import ActivityStatus
from siyu.community.models import GroupDaily, GroupMember, MemberKind
from siyu.points.models import Checkin, CheckinPlan, Redemption, RedemptionState, Reward, RewardKind
from siyu.segments.models import Segment, SegmentMember
from tests.activities.conftest import END, START

HOUR = dt.timedelta(hours=1)


def _checkin(town, plan, customer, at):
    return Checkin.objects.create(workspace=town.workspace, plan=plan, customer=town.customers[customer],
                                  day=at.date(), at=at)


def _redeem(town, customer, at, key="k"):
    reward, _ = Reward.unscoped.get_or_create(workspace=town.workspace, name="帆布袋", kind=RewardKind.GOODS, cost=10)
    return Redemption.objects.create(workspace=town.workspace, reward=reward, customer=town.customers[customer],
                                     request_key=key, state=RedemptionState.TO_SHIP, created_at=at)


def _done(town, **plan):
    activity = town.create(**plan)
    services.move(town.workspace, town.seat(), activity.pk, ActivityStatus.RUNNING, now=START)
    services.move(town.workspace, town.seat(), activity.pk, ActivityStatus.DONE, now=END)
    activity.refresh_from_db()
    return activity


def test_review_numbers_are_computed_from_the_rows_in_the_window(town):
    ws = town.workspace
    # knowledge群: 0 and 1 were there before; 2, 3 and 4 join in the window; 1 and 3 leave in it; 5 joins after.
    town.member("knowledge", 0, START - 10 * HOUR)
    town.member("knowledge", 1, START - 10 * HOUR, left=START + HOUR)
    town.member("knowledge", 2, START + HOUR)
    town.member("knowledge", 3, START + 2 * HOUR, left=START + 5 * HOUR)
    town.member("knowledge", 4, END - HOUR)
    town.member("knowledge", 5, END + HOUR)
    town.member("vip", 6, START + HOUR)  # another group: not the audience
    GroupMember.objects.create(workspace=ws, group=town.groups["knowledge"], userid="staff1", kind=MemberKind.STAFF,
                               join_time=START + HOUR)  # staff do not count as joins
    for day, messages in ((START.date() - dt.timedelta(days=1), 999), (START.date(), 40),
                          (START.date() + dt.timedelta(days=1), 25), (END.date() + dt.timedelta(days=2), 999)):
        GroupDaily.objects.create(workspace=ws, group=town.groups["knowledge"], day=day, messages=messages)
    GroupDaily.objects.create(workspace=ws, group=town.groups["vip"], day=START.date(), messages=500)
    brand_plan = CheckinPlan.objects.create(workspace=ws, name="品牌打卡")
    group_plan = CheckinPlan.objects.create(workspace=ws, name="群打卡", group_chat_id="wr-knowledge")
    _checkin(town, brand_plan, 0, START + HOUR)  # an audience member
    _checkin(town, brand_plan, 1, START + 2 * HOUR)  # left in the window: was in the audience
    _checkin(town, brand_plan, 6, START + HOUR)  # not in the audience
    _checkin(town, group_plan, 7, START + HOUR)  # in the group's own plan: counts
    _checkin(town, brand_plan, 0, END + HOUR)  # after the window
    _redeem(town, 2, START + 3 * HOUR, "a")
    _redeem(town, 2, START + 4 * HOUR, "b")  # the same customer converts once
    _redeem(town, 6, START + 3 * HOUR, "c")  # not in the audience
    activity = _done(town)

    numbers = services.numbers_of(ws, activity, now=END + dt.timedelta(days=10))
    assert (numbers.groups, numbers.joins, numbers.leaves, numbers.net) == (1, 3, 2, 1)
    assert numbers.checkins == 3
    assert numbers.messages == 65
    assert numbers.conversions == 1
    rows = {r.key: r for r in services.review_rows(activity, numbers)}
    assert (rows["joins"].target, rows["joins"].actual, rows["joins"].met) == (2, 3, True)
    assert (rows["checkins"].actual, rows["checkins"].met) == (3, True)
    assert (rows["messages"].actual, rows["messages"].attainment) == (65, 0.65)
    assert rows["conversions"].met is True
    [by_group] = services.numbers_by_group(ws, activity, now=END + dt.timedelta(days=10))
    assert (by_group.joins, by_group.leaves, by_group.messages) == (3, 2, 65)


def test_messages_are_unknown_when_wecom_reported_none(town):
    GroupDaily.objects.create(workspace=town.workspace, group=town.groups["knowledge"], day=START.date(), messages=None)
    numbers = services.numbers_of(town.workspace, _done(town))
    assert numbers.messages is None
    assert {r.key: r.attainment for r in services.review_rows(town.create(), numbers)}["messages"] is None


def test_a_segment_brings_its_members_into_the_audience(town):
    segment = Segment.objects.create(workspace=town.workspace, name="高价值")
    SegmentMember.objects.create(workspace=town.workspace, segment=segment, customer=town.customers[6],
                                 added_at=START)
    plan = CheckinPlan.objects.create(workspace=town.workspace, name="品牌打卡")
    _checkin(town, plan, 6, START + HOUR)
    _redeem(town, 6, START + HOUR)
    numbers = services.numbers_of(town.workspace, _done(town, segment_id=segment.pk))
    assert (numbers.checkins, numbers.conversions) == (1, 1)


def test_a_planned_activity_has_no_numbers_and_a_running_one_counts_until_now(town):
    now = timezone.now()
    planned = town.create(starts_at=now + HOUR, ends_at=now + 5 * HOUR)
    assert services.numbers_of(town.workspace, planned) is None
    running = town.create(starts_at=now - 5 * HOUR, ends_at=now + 5 * HOUR)
    services.move(town.workspace, town.seat(), running.pk, ActivityStatus.RUNNING)
    town.member("knowledge", 0, now - HOUR)
    town.member("knowledge", 1, now + HOUR)  # not yet (a clock skew): not counted
    numbers = services.numbers_of(town.workspace, running, now=now)
    assert numbers.joins == 1 and numbers.end == now


def test_a_cancelled_activity_counts_until_it_was_cancelled(town):
    activity = town.create()
    services.move(town.workspace, town.seat(), activity.pk, ActivityStatus.RUNNING, now=START)
    services.move(town.workspace, town.seat(), activity.pk, ActivityStatus.CANCELLED, now=START + 2 * HOUR)
    town.member("knowledge", 0, START + HOUR)
    town.member("knowledge", 1, START + 3 * HOUR)
    activity.refresh_from_db()
    assert services.numbers_of(town.workspace, activity, now=END + HOUR).joins == 1
