"""积分淘汰 and 人员定额: judging a period once, the warning period, removal tasks for the owner,
points cleared on removal, and a waiting list that fills freed seats in order."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from siyu.accounts.models import StaffAccount
from siyu.points import services
from siyu.points.models import (
    CaseState,
    EliminationCase,
    EliminationMode,
    EliminationRound,
    GroupRule,
    Period,
    PointsEntry,
    RoundState,
    Source,
    WaitlistEntry,
    WaitState,
)
from siyu.sop.models import StaffTask, TaskKind
from tests.conftest import seat
from tests.points.conftest import (
    SHANGHAI_NOON,
    make_customer,
    make_group,
    member_joins,
    member_leaves,
)

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)
WEEK_START = SHANGHAI_NOON - 7 * DAY  # Monday 30 Nov, noon in Beijing: inside the judged week
JUDGE_AT = SHANGHAI_NOON  # Monday 7 Dec: the week 30 Nov – 6 Dec has ended


@pytest.fixture
def owner(brand_a):
    return StaffAccount.objects.create(workspace=brand_a.workspace, userid="owner0", name="群主")


@pytest.fixture
def fans(brand_a):
    return [make_customer(brand_a.workspace, n) for n in range(1, 6)]


@pytest.fixture
def group(brand_a, fans, owner):
    return make_group(brand_a.workspace, fans, joined=WEEK_START - 14 * DAY, owner=owner)


def rule_for(brand, group, **values):
    data = services.RuleInput(**{"threshold": 20, "warning_days": 3, **values})
    return services.save_rule(brand.workspace, seat(brand.admin, brand.workspace), group.pk, data,
                              now=WEEK_START - 10 * DAY)


def earn(ws, customer, points, at, ref=None):
    services.grant(ws, customer, points, Source.CHECKIN, ref or f"{customer.pk}:{at.isoformat()}", now=at)


def test_members_below_the_threshold_are_warned_once_per_period(brand_a, group, fans, owner):
    ws = brand_a.workspace
    rule_for(brand_a, group)
    for n, fan in enumerate(fans):
        earn(ws, fan, 8 * n + 1, WEEK_START + DAY)  # 1, 9, 17, 25, 33
    earn(ws, fans[0], 50, WEEK_START - 2 * DAY)  # before the period: does not count
    assert services.judge_periods(ws, JUDGE_AT) == 1
    assert services.judge_periods(ws, JUDGE_AT + dt.timedelta(hours=1)) == 0  # the hourly job again
    round_ = EliminationRound.objects.for_workspace(ws).get()
    assert (round_.period_start, round_.period_end, round_.judged, round_.cutoff) == (
        dt.date(2026, 11, 30), dt.date(2026, 12, 7), 5, 20)
    cases = {c.customer_id: c.points for c in EliminationCase.objects.for_workspace(ws)}
    assert cases == {fans[0].pk: 1, fans[1].pk: 9, fans[2].pk: 17}
    tasks = StaffTask.objects.for_workspace(ws).filter(source="points")
    assert tasks.count() == 3 and {t.assignee_id for t in tasks} == {owner.pk}
    assert all(t.kind == TaskKind.SEND and t.ref.startswith("warn:") for t in tasks)


def test_the_bottom_share_is_warned_and_newcomers_of_the_period_are_not_judged(brand_a, group, fans):
    ws = brand_a.workspace
    rule_for(brand_a, group, mode=EliminationMode.BOTTOM, bottom_percent=40)
    newcomer = make_customer(ws, 9)
    member_joins(group, newcomer, WEEK_START + 2 * DAY)
    for n, fan in enumerate(fans):
        earn(ws, fan, 10 * (n + 1), WEEK_START + DAY)  # 10 … 50
    services.judge_periods(ws, JUDGE_AT)
    round_ = EliminationRound.objects.for_workspace(ws).get()
    assert round_.judged == 5  # the newcomer (0 points) is not judged
    assert {c.customer_id for c in EliminationCase.objects.for_workspace(ws)} == {fans[0].pk, fans[1].pk}
    assert round_.cutoff == 30  # the lowest score kept


def test_after_the_warning_period_members_are_spared_let_go_or_given_a_removal_task(brand_a, group, fans, owner):
    ws = brand_a.workspace
    rule_for(brand_a, group)
    services.judge_periods(ws, JUDGE_AT)  # nobody earned anything: five warnings
    earn(ws, fans[0], 25, JUDGE_AT + DAY)  # earns the cutoff in the warning period: spared
    earn(ws, fans[1], 5, JUDGE_AT + DAY)  # too little
    member_leaves(group, fans[2], JUDGE_AT + DAY)  # left by themselves
    assert services.settle_warnings(ws, JUDGE_AT + 2 * DAY) == 0  # still in the warning period
    assert services.settle_warnings(ws, JUDGE_AT + 3 * DAY) == 3
    assert services.settle_warnings(ws, JUDGE_AT + 3 * DAY) == 0  # claimed once
    states = {c.customer_id: c.state for c in EliminationCase.objects.for_workspace(ws)}
    assert states == {fans[0].pk: CaseState.SPARED, fans[1].pk: CaseState.REMOVAL, fans[2].pk: CaseState.LEFT,
                      fans[3].pk: CaseState.REMOVAL, fans[4].pk: CaseState.REMOVAL}
    removals = StaffTask.objects.for_workspace(ws).filter(source="points", ref__startswith="remove:")
    assert removals.count() == 3 and all(t.assignee_id == owner.pk and t.kind == TaskKind.REMOVE for t in removals)
    assert EliminationRound.objects.for_workspace(ws).get().state == RoundState.DONE


def test_a_removed_member_is_closed_and_their_points_cleared_when_the_rule_says_so(brand_a, group, fans):
    ws = brand_a.workspace
    rule_for(brand_a, group, forfeit_points=True)
    earn(ws, fans[0], 12, WEEK_START + DAY)  # below 20: warned, and holds 12 points
    for fan in fans[1:]:
        earn(ws, fan, 30, WEEK_START + DAY)
    services.judge_periods(ws, JUDGE_AT)
    services.settle_warnings(ws, JUDGE_AT + 4 * DAY)
    assert services.settle_removals(ws, JUDGE_AT + 4 * DAY) == 0  # still in the group
    member_leaves(group, fans[0], JUDGE_AT + 5 * DAY)  # the owner removed them in WeCom
    assert services.settle_removals(ws, JUDGE_AT + 5 * DAY) == 1
    assert services.settle_removals(ws, JUDGE_AT + 6 * DAY) == 0
    assert EliminationCase.objects.for_workspace(ws).get().state == CaseState.REMOVED
    assert services.balance_of(ws, fans[0].pk) == 0
    cleared = PointsEntry.objects.for_workspace(ws).get(source=Source.ELIMINATION)
    assert cleared.amount == -12 and services.reconcile(ws).ok


def test_a_period_that_ended_before_the_rule_existed_is_not_judged(brand_a, group):
    ws = brand_a.workspace
    services.save_rule(ws, seat(brand_a.admin, ws), group.pk, services.RuleInput(), now=JUDGE_AT - dt.timedelta(hours=2))
    assert services.judge_periods(ws, JUDGE_AT) == 0


def test_a_monthly_rule_judges_the_month_that_ended(brand_a, group, fans):
    ws = brand_a.workspace
    rule_for(brand_a, group, period=Period.MONTH)
    services.judge_periods(ws, dt.datetime(2026, 12, 1, 4, 0, tzinfo=dt.UTC))
    round_ = EliminationRound.objects.for_workspace(ws).get()
    assert (round_.period_start, round_.period_end) == (dt.date(2026, 11, 1), dt.date(2026, 12, 1))


def test_the_rule_form_refuses_what_makes_no_sense(brand_a, group):
    ws = brand_a.workspace
    with pytest.raises(ValidationError) as refused:
        services.save_rule(ws, seat(brand_a.admin, ws), group.pk, services.RuleInput(
            mode=EliminationMode.OFF, seat_limit=None, bottom_percent=90, warning_days=0))
    assert {"seat_limit", "warning_days"} <= set(refused.value.message_dict)
    with pytest.raises(ValidationError) as refused:
        services.save_rule(ws, seat(brand_a.admin, ws), group.pk, services.RuleInput(seat_limit=501))
    assert "seat_limit" in refused.value.message_dict
    with pytest.raises(Exception):  # noqa: B017 - a copywriter may only look
        services.save_rule(ws, seat(brand_a.members["copywriter"], ws), group.pk, services.RuleInput())
    assert not GroupRule.objects.for_workspace(ws).exists()


# --- 人员定额: the waiting list ------------------------------------------------------------------------

def test_the_waiting_list_fills_freed_seats_in_order(brand_a, group, fans, owner):
    ws = brand_a.workspace
    rule_for(brand_a, group, mode=EliminationMode.OFF, seat_limit=6)  # owner + 5 fans: full
    waiting = [make_customer(ws, 20 + n) for n in range(3)]
    entries = [services.join_waitlist(ws, group.pk, c.pk, JUDGE_AT + n * dt.timedelta(minutes=1))
               for n, c in enumerate(waiting)]
    assert [e.state for e in entries] == [WaitState.WAITING] * 3
    assert [services.place_in_line(ws, e) for e in entries] == [1, 2, 3]
    assert services.join_waitlist(ws, group.pk, waiting[0].pk).pk == entries[0].pk  # queuing again keeps the place
    assert services.fill_seats(ws, JUDGE_AT + dt.timedelta(hours=1)) == 0  # no seat yet
    member_leaves(group, fans[0], JUDGE_AT + dt.timedelta(hours=2))
    member_leaves(group, fans[1], JUDGE_AT + dt.timedelta(hours=2))
    assert services.fill_seats(ws, JUDGE_AT + dt.timedelta(hours=3)) == 2
    assert services.fill_seats(ws, JUDGE_AT + dt.timedelta(hours=3)) == 0  # the seats are held by invitations
    states = {e.customer_id: e.state for e in WaitlistEntry.objects.for_workspace(ws)}
    assert states == {waiting[0].pk: WaitState.INVITED, waiting[1].pk: WaitState.INVITED,
                      waiting[2].pk: WaitState.WAITING}
    invites = StaffTask.objects.for_workspace(ws).filter(source="points", kind=TaskKind.INVITE)
    assert {t.customer_id for t in invites} == {waiting[0].pk, waiting[1].pk}
    assert all(t.assignee_id == owner.pk for t in invites)
    # The first takes the seat; the second lets the invitation lapse, and the seat goes to the third.
    member_joins(group, waiting[0], JUDGE_AT + dt.timedelta(hours=5))
    assert services.fill_seats(ws, JUDGE_AT + dt.timedelta(hours=52)) == 1
    states = {e.customer_id: e.state for e in WaitlistEntry.objects.for_workspace(ws)}
    assert states == {waiting[0].pk: WaitState.JOINED, waiting[1].pk: WaitState.EXPIRED,
                      waiting[2].pk: WaitState.INVITED}


def test_a_member_or_a_group_without_seats_cannot_queue(brand_a, group, fans):
    ws = brand_a.workspace
    with pytest.raises(services.PointsError):
        services.join_waitlist(ws, group.pk, make_customer(ws, 30).pk)  # no rule with a seat limit
    rule_for(brand_a, group, seat_limit=6)
    with pytest.raises(services.PointsError):
        services.join_waitlist(ws, group.pk, fans[0].pk)  # already in
    outsider = make_customer(ws, 31)
    assert services.join_waitlist(ws, group.pk, outsider.pk).state == WaitState.WAITING
    assert services.leave_waitlist(ws, group.pk, outsider.pk)
    assert services.join_waitlist(ws, group.pk, outsider.pk).state == WaitState.WAITING  # may queue again


def test_a_free_seat_is_offered_at_once(brand_a, group):
    ws = brand_a.workspace
    rule_for(brand_a, group, seat_limit=8)
    entry = services.join_waitlist(ws, group.pk, make_customer(ws, 40).pk, JUDGE_AT)
    assert entry.state == WaitState.INVITED and entry.task_id is not None


def test_the_hourly_job_runs_every_step_for_each_brand(brand_a, group, fans):
    from siyu.points.tasks import rules_brand

    ws = brand_a.workspace
    rule_for(brand_a, group, threshold=1)
    import time_machine

    with time_machine.travel(JUDGE_AT, tick=False):
        done = rules_brand.call(ws.pk)
        again = rules_brand.call(ws.pk)
    assert done["rounds"] == 1 and again["rounds"] == 0
    assert EliminationCase.objects.for_workspace(ws).count() == 5
