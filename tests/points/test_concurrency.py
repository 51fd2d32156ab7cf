"""Redemptions racing on PostgreSQL: many requests at once never overspend a wallet, never
give more than the stock, and each points spend has its reward."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from siyu.points import services
from siyu.points.models import PointsEntry, Redemption, Source
from tests.points.conftest import SHANGHAI_NOON, goods_reward, make_customer

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL only")

RACERS = 8


def _race(work) -> tuple[list[object], list[BaseException]]:
    start = threading.Barrier(RACERS)
    results: list[object] = []
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            start.wait()
            results.append(work(n))
        except BaseException as exc:  # noqa: BLE001 - counted by the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(RACERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors


def test_concurrent_redemptions_never_overspend(transactional_db, brand_a):
    ws = brand_a.workspace
    customer = make_customer(ws)
    services.grant(ws, customer, 35, Source.ACTIVITY, "seed", now=SHANGHAI_NOON)  # enough for 3 of 8
    reward = goods_reward(ws, cost=10)
    results, errors = _race(lambda n: services.redeem(ws, customer.pk, reward.pk, f"k{n}", SHANGHAI_NOON))
    assert len(results) == 3 and len(errors) == 5
    assert all(isinstance(e, services.NotEnoughPoints) for e in errors), errors
    assert services.balance_of(ws, customer.pk) == 5
    assert Redemption.unscoped.count() == 3 and PointsEntry.unscoped.filter(source=Source.REDEMPTION).count() == 3
    assert services.reconcile(ws).ok


def test_concurrent_redemptions_never_pass_the_stock(transactional_db, brand_a):
    ws = brand_a.workspace
    customers = [make_customer(ws, n) for n in range(RACERS)]
    for c in customers:
        services.grant(ws, c, 10, Source.ACTIVITY, f"seed{c.pk}", now=SHANGHAI_NOON)
    reward = goods_reward(ws, cost=10, stock=2)
    results, errors = _race(lambda n: services.redeem(ws, customers[n].pk, reward.pk, "k", SHANGHAI_NOON))
    assert len(results) == 2 and all(isinstance(e, services.OutOfStock) for e in errors), errors
    reward.refresh_from_db()
    assert reward.redeemed == 2 and sum(services.balance_of(ws, c.pk) for c in customers) == 60
    assert services.reconcile(ws).ok


def test_the_same_check_in_from_many_requests_credits_once(transactional_db, brand_a):
    from tests.points.conftest import make_plan

    ws = brand_a.workspace
    customer, plan = make_customer(ws), make_plan(ws)
    results, errors = _race(lambda n: services.check_in(ws, plan, customer.pk, SHANGHAI_NOON))
    assert not errors, errors
    assert sum(1 for r in results if r.new) == 1 and services.balance_of(ws, customer.pk) == 5
