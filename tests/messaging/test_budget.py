"""The receive-limit budgeter: one ledger per customer that every sender spends from, which never
lets a customer past the brand's limit, in Asia/Shanghai periods, even when senders race."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter

import pytest
from django.db import connection, connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from siyu.messaging.models import BudgetRule, MessagingSettings, ReceiveCount
from siyu.messaging.services import budget
from siyu.messaging.services.budget import Recipients
from tests.messaging.conftest import NOW, make_customers, make_shop

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def test_the_default_rule_allows_as_many_a_month_as_the_month_has_days():
    assert budget.period_of(BudgetRule.MONTH_DAYS, NOW).limit == 31
    assert budget.period_of(BudgetRule.MONTH_DAYS, dt.datetime(2026, 2, 3, tzinfo=SHANGHAI)).limit == 28
    assert budget.period_of(BudgetRule.MONTHLY_FOUR, NOW).limit == 4
    assert budget.period_of(BudgetRule.DAILY_ONE, NOW).limit == 1


def test_periods_are_counted_in_shanghai_time():
    # 2026-11-30 17:00 UTC is already 1 December in Shanghai.
    late_utc = dt.datetime(2026, 11, 30, 17, 0, tzinfo=dt.UTC)
    assert budget.period_of(BudgetRule.MONTHLY_FOUR, late_utc).start == dt.date(2026, 12, 1)
    assert budget.period_of(BudgetRule.DAILY_ONE, late_utc).start == dt.date(2026, 12, 1)


def test_a_customer_past_the_limit_is_refused_and_previewed(shop):
    MessagingSettings.objects.create(workspace=shop.workspace, budget_rule=BudgetRule.MONTHLY_FOUR)
    a, b = make_customers(shop, 2)
    for n in range(4):
        assert budget.reserve(shop.workspace, Recipients.customers([a.pk]), NOW, "mass", str(n)).reserved == 1
    assert budget.preview(shop.workspace, Recipients.customers([a.pk, b.pk]), NOW).refused == {a.pk: 4}
    got = budget.reserve(shop.workspace, Recipients.customers([a.pk, b.pk]), NOW, "sop", "x")
    assert (got.reserved, got.refused) == (1, frozenset({a.pk}))
    # The next month is a new period.
    assert budget.reserve(shop.workspace, Recipients.customers([a.pk]), NOW + dt.timedelta(days=20), "mass", "y").reserved == 1


def test_a_released_unit_can_be_spent_again(shop):
    MessagingSettings.objects.create(workspace=shop.workspace, budget_rule=BudgetRule.DAILY_ONE)
    [a] = make_customers(shop, 1)
    assert budget.reserve(shop.workspace, Recipients.customers([a.pk]), NOW, "mass", "1").reserved == 1
    assert budget.reserve(shop.workspace, Recipients.customers([a.pk]), NOW, "sop", "2").refused == {a.pk}
    assert budget.release(shop.workspace, Recipients.customers([a.pk]), NOW, "mass", "1") == 1
    assert budget.reserve(shop.workspace, Recipients.customers([a.pk]), NOW, "sop", "2").reserved == 1


def test_recipients_may_be_a_queryset_and_repeats_count_once(shop):
    from siyu.customers.models import Customer

    customers = make_customers(shop, 3)
    query = Customer.objects.for_workspace(shop.workspace).values("pk")
    got = budget.reserve(shop.workspace, Recipients.customers(query), NOW, "mass", "q")
    assert got.reserved == 3
    got = budget.reserve(shop.workspace, Recipients.customers([customers[0].pk] * 3), NOW, "mass", "r")
    assert got.reserved == 1
    assert budget.received(shop.workspace, [c.pk for c in customers], NOW) == {
        customers[0].pk: 2, customers[1].pk: 1, customers[2].pk: 1}


def test_an_unknown_spender_is_a_programming_error(shop):
    [a] = make_customers(shop, 1)
    with pytest.raises(ValueError):
        budget.reserve(shop.workspace, Recipients.customers([a.pk]), NOW, "newsletter", "1")


def test_one_brands_ledger_does_not_spend_anothers(brand_a, brand_b):
    shop_a, shop_b = make_shop(brand_a), make_shop(brand_b)
    [a] = make_customers(shop_a, 1)
    budget.reserve(shop_a.workspace, Recipients.customers([a.pk]), NOW, "mass", "1", rule=BudgetRule.DAILY_ONE)
    assert budget.preview(shop_b.workspace, Recipients.customers([a.pk]), NOW, rule=BudgetRule.DAILY_ONE).refused == {}


SENDERS = ("mass", "sop", "fission")
steps = st.lists(st.tuples(st.sampled_from(SENDERS), st.booleans(), st.sets(st.integers(0, 5), min_size=1),
                           st.integers(0, 40)), min_size=1, max_size=25)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rule=st.sampled_from(list(BudgetRule)), schedule=steps)
def test_competing_senders_never_take_a_customer_past_the_limit(brand_a, rule, schedule):
    """Random schedules of three senders reserving and releasing (each releases only what it
    holds, as callers do) never put a customer over the limit in any period, and the ledger
    always equals the units the senders hold."""
    ReceiveCount.objects.for_workspace(brand_a.workspace).delete()
    shop = make_shop_once(brand_a)
    held: Counter[tuple[str, int, dt.date]] = Counter()
    for sender, releasing, picked, day in schedule:
        at = NOW.replace(day=1) + dt.timedelta(days=day, hours=3)  # across two months
        ids = [shop[i] for i in sorted(picked)]
        period = budget.period_of(rule, at)
        if releasing:
            mine = [c for c in ids if held[(sender, c, period.start)] > 0]
            budget.release(brand_a.workspace, Recipients.customers(mine), at, sender, "r", rule=rule)
            for c in mine:
                held[(sender, c, period.start)] -= 1
        else:
            got = budget.reserve(brand_a.workspace, Recipients.customers(ids), at, sender, "r", rule=rule)
            for c in set(ids) - got.refused:
                held[(sender, c, period.start)] += 1
        for c in ids:
            total = sum(n for (s, cid, start), n in held.items() if cid == c and start == period.start)
            assert total <= period.limit
            assert budget.received(brand_a.workspace, [c], at, rule=rule).get(c, 0) == total


def make_shop_once(brand) -> list[int]:
    """Six customers, made by the first example and reused by the next (one test database)."""
    from siyu.customers.models import Customer

    found = list(Customer.objects.for_workspace(brand.workspace).order_by("pk").values_list("pk", flat=True))
    if len(found) >= 6:
        return found
    return [c.pk for c in make_customers(make_shop(brand), 6)]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite runs one writer at a time; the race needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_senders_racing_on_their_own_connections_never_overspend(brand_a):
    shop = make_shop(brand_a)
    ids = [c.pk for c in make_customers(shop, 30)]
    workspace = shop.workspace
    limit = budget.period_of(BudgetRule.MONTHLY_FOUR, NOW).limit
    MessagingSettings.objects.create(workspace=workspace, budget_rule=BudgetRule.MONTHLY_FOUR)
    taken: Counter[int] = Counter()
    lock, errors, start = threading.Lock(), [], threading.Barrier(6)

    def sender(n: int) -> None:
        try:
            start.wait()
            for round_ in range(4):
                # Overlapping slices, in different orders: every thread wants most customers.
                mine = ids[n:] + ids[:n] if round_ % 2 else list(reversed(ids))
                got = budget.reserve(workspace, Recipients.customers(mine), NOW, SENDERS[n % 3], f"{n}-{round_}")
                with lock:
                    taken.update(set(mine) - got.refused)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    counts = budget.received(workspace, ids, NOW)
    assert all(taken[c] == limit == counts[c] for c in ids)
