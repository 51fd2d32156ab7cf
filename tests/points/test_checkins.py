"""Check-ins: one a day on the Shanghai calendar, streaks and their bonuses, make-up cards."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from siyu.points import services
from siyu.points.models import Checkin, CheckinMode, PointsEntry
from tests.points.conftest import SHANGHAI_NOON, make_customer, make_plan

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)


def test_checking_in_twice_the_same_day_credits_once(brand_a, customer):
    ws, plan = brand_a.workspace, make_plan(brand_a.workspace)
    first = services.check_in(ws, plan, customer.pk, SHANGHAI_NOON)
    again = services.check_in(ws, plan, customer.pk, SHANGHAI_NOON + dt.timedelta(hours=3))
    assert first.new and not again.new
    assert Checkin.unscoped.count() == 1 and PointsEntry.unscoped.count() == 1
    assert services.balance_of(ws, customer.pk) == 5


def test_the_day_is_the_shanghai_day_not_the_utc_day(brand_a, customer):
    ws, plan = brand_a.workspace, make_plan(brand_a.workspace)
    before_midnight = dt.datetime(2026, 12, 7, 15, 59, tzinfo=dt.UTC)  # 23:59 Beijing, Monday
    after_midnight = dt.datetime(2026, 12, 7, 16, 1, tzinfo=dt.UTC)  # 00:01 Beijing, Tuesday (still Monday in UTC)
    assert services.check_in(ws, plan, customer.pk, before_midnight).new
    second = services.check_in(ws, plan, customer.pk, after_midnight)
    assert second.new and second.checkin.day == dt.date(2026, 12, 8) and second.checkin.streak == 2
    early_utc = dt.datetime(2026, 12, 8, 1, 0, tzinfo=dt.UTC)  # 09:00 Beijing, the same Tuesday
    assert not services.check_in(ws, plan, customer.pk, early_utc).new


def test_a_streak_earns_its_tier_bonuses_and_restarts_after_the_longest(brand_a, customer):
    ws, plan = brand_a.workspace, make_plan(brand_a.workspace)
    earned = [services.check_in(ws, plan, customer.pk, SHANGHAI_NOON + n * DAY).checkin.points for n in range(8)]
    assert earned == [5, 5, 25, 5, 5, 5, 55, 5]
    assert services.balance_of(ws, customer.pk) == sum(earned)


def test_a_missed_day_breaks_the_streak(brand_a, customer):
    ws, plan = brand_a.workspace, make_plan(brand_a.workspace)
    services.check_in(ws, plan, customer.pk, SHANGHAI_NOON)
    services.check_in(ws, plan, customer.pk, SHANGHAI_NOON + DAY)
    after_gap = services.check_in(ws, plan, customer.pk, SHANGHAI_NOON + 3 * DAY)
    assert after_gap.checkin.streak == 1 and after_gap.checkin.points == 5
    month = services.month_of(ws, plan, customer.pk, SHANGHAI_NOON + 4 * DAY)
    assert month.streak == 1 and not month.checked_today


def test_a_make_up_card_fills_the_gap_and_the_streak_runs_through_it(brand_a, customer):
    ws, plan = brand_a.workspace, make_plan(brand_a.workspace, make_up_cards=1)
    services.check_in(ws, plan, customer.pk, SHANGHAI_NOON)  # Mon
    services.check_in(ws, plan, customer.pk, SHANGHAI_NOON + 2 * DAY)  # Wed, Tue missed
    made = services.make_up(ws, plan, customer.pk, dt.date(2026, 12, 8), SHANGHAI_NOON + 2 * DAY)
    assert made.checkin.made_up and made.checkin.streak == 2
    assert Checkin.unscoped.get(day=dt.date(2026, 12, 9)).streak == 3
    thursday = services.check_in(ws, plan, customer.pk, SHANGHAI_NOON + 3 * DAY)
    assert thursday.checkin.streak == 4
    assert services.balance_of(ws, customer.pk) == 5 + 5 + 5 + 5  # the bonus of day 3 was not earned on the day
    with pytest.raises(services.PointsError):  # one card a month, used
        services.make_up(ws, plan, customer.pk, dt.date(2026, 12, 6), SHANGHAI_NOON + 3 * DAY)


def test_make_up_is_refused_when_the_plan_allows_none_or_the_day_is_not_this_month(brand_a, customer):
    ws = brand_a.workspace
    plan = make_plan(ws)
    with pytest.raises(services.PointsError):
        services.make_up(ws, plan, customer.pk, dt.date(2026, 12, 6), SHANGHAI_NOON)
    plan.make_up_cards = 3
    plan.save()
    with pytest.raises(services.PointsError):
        services.make_up(ws, plan, customer.pk, dt.date(2026, 11, 30), SHANGHAI_NOON)
    with pytest.raises(services.PointsError):
        services.make_up(ws, plan, customer.pk, dt.date(2026, 12, 7), SHANGHAI_NOON)  # today: check in instead
    services.check_in(ws, plan, customer.pk, SHANGHAI_NOON - DAY)
    with pytest.raises(services.PointsError):
        services.make_up(ws, plan, customer.pk, dt.date(2026, 12, 6), SHANGHAI_NOON)  # already checked in


def test_cumulative_plans_reward_the_months_nth_check_in(brand_a, customer):
    ws = brand_a.workspace
    plan = make_plan(ws, mode=CheckinMode.CUMULATIVE, tiers=[{"day": 2, "points": 10}])
    services.check_in(ws, plan, customer.pk, SHANGHAI_NOON)
    second = services.check_in(ws, plan, customer.pk, SHANGHAI_NOON + 5 * DAY)  # not consecutive, still the 2nd
    assert second.bonus == 10 and second.checkin.streak == 1


def test_a_closed_plan_takes_no_check_in(brand_a, customer):
    plan = make_plan(brand_a.workspace, active=False)
    with pytest.raises(services.PointsError):
        services.check_in(brand_a.workspace, plan, customer.pk, SHANGHAI_NOON)


def test_the_month_calendar_starts_on_monday_and_marks_each_day(brand_a, customer):
    ws, plan = brand_a.workspace, make_plan(brand_a.workspace, make_up_cards=2)
    services.check_in(ws, plan, customer.pk, SHANGHAI_NOON - DAY)
    month = services.month_of(ws, plan, customer.pk, SHANGHAI_NOON)
    days = {d.day: d.state for week in month.weeks for d in week if d.day}
    assert month.weeks[0][0].day is None and month.weeks[0][1].day == dt.date(2026, 12, 1)  # Dec 1 2026 is a Tuesday
    assert days[dt.date(2026, 12, 6)] == "checked" and days[dt.date(2026, 12, 5)] == "missed"
    assert days[dt.date(2026, 12, 7)] == "today" and days[dt.date(2026, 12, 8)] == "future"
    assert month.streak == 1 and month.cards_left == 2 and month.next_bonus.day == 3


def test_tiers_are_parsed_and_refused_in_the_operators_words():
    assert services.parse_tiers("7:50，3：20") == [services.Tier(3, 20), services.Tier(7, 50)]
    for wrong in ("3-20", "0:5", "3:20, 3:30"):
        with pytest.raises(ValidationError):
            services.parse_tiers(wrong)


def test_two_customers_and_two_brands_keep_their_own_check_ins(brand_a, brand_b):
    a_plan, b_plan = make_plan(brand_a.workspace), make_plan(brand_b.workspace)
    a, b = make_customer(brand_a.workspace), make_customer(brand_b.workspace)
    services.check_in(brand_a.workspace, a_plan, a.pk, SHANGHAI_NOON)
    assert services.check_in(brand_b.workspace, b_plan, b.pk, SHANGHAI_NOON).new
    assert services.month_of(brand_b.workspace, b_plan, a.pk, SHANGHAI_NOON).days_this_month == 0
