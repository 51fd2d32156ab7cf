"""Friend counters, fill, the 7-day forecast and the 80 % / 95 % alerts."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from siyu.accounts import services
from siyu.accounts.models import AccountDay, StaffAccount
from siyu.core.models import EventRecord
from tests.accounts.conftest import make_account
from tests.conftest import seat

TODAY = dt.date(2026, 3, 20)


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def days_ago(n: int) -> dt.date:
    return TODAY - dt.timedelta(days=n)


def add(account, n=1, day=TODAY):
    for _ in range(n):
        services.record_follow_change(account, at(day), added=True)


def lose(account, n=1, day=TODAY):
    for _ in range(n):
        services.record_follow_change(account, at(day), added=False)


def viewer(brand):
    return seat(brand.members["data_analyst"], brand.workspace)


def capacity(brand, account):
    rows = services.list_accounts(brand.workspace, viewer(brand), today=TODAY)
    return next(r for r in rows if r.account.pk == account.pk)


def alerts(brand):
    return [(r.payload["userid"], r.payload["level"])
            for r in EventRecord.objects.for_workspace(brand.workspace).filter(name="accounts.capacity_alert").order_by("id")]


# --- counters -------------------------------------------------------------------------------------

def test_adds_and_losses_move_the_count_and_the_days(brand_a):
    account = make_account(brand_a, "xiaowan01")
    add(account, 3, days_ago(1))
    lose(account, 1, days_ago(1))
    add(account, 2)
    account.refresh_from_db()
    assert account.friend_count == 4
    days = {d.day: (d.adds, d.losses) for d in AccountDay.objects.for_workspace(brand_a.workspace)}
    assert days == {days_ago(1): (3, 1), TODAY: (2, 0)}


def test_the_count_never_goes_below_zero(brand_a):
    account = make_account(brand_a, "xiaowan01")
    lose(account, 2)
    account.refresh_from_db()
    assert account.friend_count == 0
    assert AccountDay.objects.for_workspace(brand_a.workspace).get().losses == 2


def test_the_day_is_the_shanghai_day(brand_a):
    account = make_account(brand_a, "xiaowan01")
    # 17:30 UTC on the 19th is 01:30 on the 20th in Asia/Shanghai.
    services.record_follow_change(account, dt.datetime(2026, 3, 19, 17, 30, tzinfo=dt.UTC), added=True)
    assert AccountDay.objects.for_workspace(brand_a.workspace).get().day == TODAY


# --- forecast ---------------------------------------------------------------------------------------

def test_days_until_full_come_from_the_last_seven_days_net_adds(brand_a):
    account = make_account(brand_a, "xiaowan01", friend_limit=1000)
    for n in range(7):
        add(account, 12, days_ago(n))
        lose(account, 2, days_ago(n))
    add(account, 500, days_ago(30))  # before the window: counts in the fill, not in the rate
    row = capacity(brand_a, account)
    assert row.account.friend_count == 570 and row.room == 430
    assert (row.net_adds, row.observed_days, row.daily_net) == (70, 7, Decimal("10.0"))
    assert row.days_until_full == 43  # 430 / 10 a day


def test_a_new_account_is_forecast_from_the_days_it_was_observed(brand_a):
    account = make_account(brand_a, "xiaowan01", friend_limit=100)
    StaffAccount.objects.for_workspace(brand_a.workspace).update(created_at=at(days_ago(1)))
    add(account, 10, days_ago(1))
    add(account, 10)
    row = capacity(brand_a, account)
    assert (row.observed_days, row.daily_net, row.days_until_full) == (2, Decimal("10.0"), 8)


def test_the_forecast_rounds_up_to_whole_days(brand_a):
    account = make_account(brand_a, "xiaowan01", friend_limit=100)
    for n in range(7):
        add(account, 1, days_ago(n))  # 7 in 7 days, 93 to go
    assert capacity(brand_a, account).days_until_full == 93


@pytest.mark.parametrize(("adds", "losses"), [(0, 0), (5, 5), (3, 8)])
def test_an_account_without_net_growth_is_not_filling(brand_a, adds, losses):
    account = make_account(brand_a, "xiaowan01", friend_count=50)
    add(account, adds, days_ago(2))
    lose(account, losses, days_ago(1))
    row = capacity(brand_a, account)
    assert row.days_until_full is None and not row.filling


def test_a_full_account_has_zero_days_left(brand_a):
    account = make_account(brand_a, "xiaowan01", friend_limit=10, friend_count=12)
    row = capacity(brand_a, account)
    assert (row.days_until_full, row.room, row.over_limit, row.fill_percent) == (0, 0, True, 120)


def test_another_accounts_days_do_not_count(brand_a):
    account = make_account(brand_a, "xiaowan01", friend_limit=100)
    other = make_account(brand_a, "xiaowan02")
    add(other, 50, days_ago(1))
    assert capacity(brand_a, account).days_until_full is None


# --- alerts -----------------------------------------------------------------------------------------

def test_crossing_80_and_95_percent_alerts_once_each(brand_a):
    account = make_account(brand_a, "xiaowan01", friend_limit=100, friend_count=78)
    add(account, 1)
    assert alerts(brand_a) == []
    add(account, 1)  # 80 %
    add(account, 5)  # 85 %
    assert alerts(brand_a) == [("xiaowan01", 80)]
    add(account, 10)  # 95 %
    add(account, 3)
    assert alerts(brand_a) == [("xiaowan01", 80), ("xiaowan01", 95)]
    account.refresh_from_db()
    assert account.capacity_alert_level == 95


def test_the_sweep_announces_a_crossing_no_add_saw(brand_a):
    jumped = make_account(brand_a, "xiaowan02", friend_limit=20, friend_count=19)  # e.g. imported
    services.recheck_alerts(brand_a.workspace)
    assert alerts(brand_a) == [("xiaowan02", 95)]
    jumped.refresh_from_db()
    assert jumped.capacity_alert_level == 95


def test_lowering_the_limit_below_a_line_alerts_and_raising_it_rearms(brand_a):
    account = make_account(brand_a, "xiaowan01", friend_limit=100, friend_count=85)
    account.capacity_alert_level = 80
    account.save()
    planner = seat(brand_a.members["planner"], brand_a.workspace)
    services.save_account(brand_a.workspace, planner, account.pk, services.AccountInput(friend_limit=88))
    assert alerts(brand_a) == [("xiaowan01", 95)]
    services.save_account(brand_a.workspace, planner, account.pk, services.AccountInput(friend_limit=20000))
    account.refresh_from_db()
    assert account.capacity_alert_level == 0


def test_hovering_at_the_line_does_not_alert_again(brand_a):
    account = make_account(brand_a, "xiaowan01", friend_limit=100, friend_count=79)
    add(account)
    lose(account)
    add(account)
    services.recheck_alerts(brand_a.workspace)
    assert alerts(brand_a) == [("xiaowan01", 80)]


def test_an_account_well_below_its_line_is_rearmed_by_the_sweep(brand_a):
    account = make_account(brand_a, "xiaowan01", friend_limit=100, friend_count=79)
    add(account)
    lose(account, 10)  # 70 %: more than 5 points below 80
    services.recheck_alerts(brand_a.workspace)
    account.refresh_from_db()
    assert account.capacity_alert_level == 0
    add(account, 10)
    assert alerts(brand_a) == [("xiaowan01", 80), ("xiaowan01", 80)]


def test_the_sweep_twice_announces_nothing_new(brand_a):
    make_account(brand_a, "xiaowan01", friend_limit=100, friend_count=90)
    assert [a.level for a in services.recheck_alerts(brand_a.workspace)] == [80]
    assert services.recheck_alerts(brand_a.workspace) == []


def test_the_alert_event_carries_the_numbers(brand_a):
    account = make_account(brand_a, "xiaowan01", friend_limit=5, friend_count=3)
    add(account)
    record = EventRecord.objects.for_workspace(brand_a.workspace).get(name="accounts.capacity_alert")
    assert record.payload == {"account_id": account.pk, "userid": "xiaowan01", "level": 80,
                              "friend_count": 4, "friend_limit": 5}


def test_alerts_of_one_brand_stay_in_that_brand(brand_a, brand_b):
    account = make_account(brand_a, "xiaowan01", friend_limit=5, friend_count=3)
    add(account)
    assert alerts(brand_b) == [] and len(alerts(brand_a)) == 1


def test_the_ten_minute_job_sweeps_every_brand(brand_a, brand_b):
    from siyu.accounts.tasks import recheck_capacity_alerts, recheck_capacity_alerts_brand
    from siyu.core.schedule import jobs
    from tests.support.jobs import run_queued, summed

    make_account(brand_a, "alpha", friend_limit=10, friend_count=9)
    make_account(brand_b, "beta", friend_limit=10, friend_count=10)
    assert recheck_capacity_alerts.call() == 2  # one task per brand
    assert summed(run_queued(recheck_capacity_alerts_brand)) == {"alerts": 2}
    assert (alerts(brand_a), alerts(brand_b)) == ([("alpha", 80)], [("beta", 95)])
    recheck_capacity_alerts.call()
    assert summed(run_queued(recheck_capacity_alerts_brand)) == {"alerts": 0}
    assert {j.name: j.cron for j in jobs()}["accounts.recheck_capacity_alerts"] == "*/10 * * * *"
