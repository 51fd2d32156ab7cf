"""Hypothesis: through any sequence of grants, spends, redemptions, expiry runs, elimination
(积分淘汰: the group rules' job judging, warning, and clearing the points of removed members) and
clock moves, every balance equals the sum of its entries and what its lots hold, and none is ever
negative."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
import time_machine
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from siyu.points import services
from siyu.points.models import Account, ExpiryRule, PointsLine, PointsPolicy, PointsWallet, Source
from tests.points.conftest import (
    SHANGHAI_NOON,
    code_reward,
    goods_reward,
    make_customer,
    make_group,
    member_leaves,
)

pytestmark = pytest.mark.django_db

WHO = st.integers(min_value=0, max_value=1)
OPS = st.one_of(
    st.tuples(st.just("grant"), WHO, st.integers(min_value=1, max_value=60), st.sampled_from(
        [Source.CHECKIN, Source.INVITATION, Source.ACTIVITY, Source.CONTRIBUTION])),
    st.tuples(st.just("regrant"), WHO, st.integers(min_value=1, max_value=60), st.just(Source.CHECKIN)),
    st.tuples(st.just("spend"), WHO, st.integers(min_value=1, max_value=80), st.just(Source.REDEMPTION)),
    st.tuples(st.just("redeem_goods"), WHO, st.just(0), st.just("")),
    st.tuples(st.just("redeem_code"), WHO, st.just(0), st.just("")),
    st.tuples(st.just("expire"), WHO, st.just(0), st.just("")),
    st.tuples(st.just("clock"), WHO, st.integers(min_value=1, max_value=96), st.just("")),  # hours
    st.tuples(st.just("rules"), WHO, st.just(0), st.just("")),  # the hourly group-rules job
    st.tuples(st.just("removed"), WHO, st.just(0), st.just("")),  # the owner removes the member in WeCom
    st.tuples(st.just("forfeit"), WHO, st.just(0), st.just("")),
)


def _admin(brand):
    from tests.conftest import seat

    return seat(brand.admin, brand.workspace)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(OPS, min_size=1, max_size=25), expire_days=st.integers(min_value=1, max_value=6),
       rule=st.sampled_from([ExpiryRule.DAYS, ExpiryRule.NEVER, ExpiryRule.YEAR_END]))
def test_balances_always_equal_the_sum_of_entries(brand_a, ops, expire_days, rule):
    ws = brand_a.workspace
    with transaction.atomic(), time_machine.travel(SHANGHAI_NOON, tick=False) as clock:
        PointsPolicy.objects.create(workspace=ws, expiry=rule, expire_days=expire_days)
        people = [make_customer(ws, 1), make_customer(ws, 2)]
        goods, code = goods_reward(ws, cost=25, stock=3), code_reward(ws, codes=1, cost=15)
        group = make_group(ws, people, joined=SHANGHAI_NOON - dt.timedelta(days=30))
        services.save_rule(ws, _admin(brand_a), group.pk, services.RuleInput(
            threshold=1000, warning_days=1, forfeit_points=True), now=SHANGHAI_NOON - dt.timedelta(days=14))
        removed: set[int] = set()
        expected = [0, 0]
        for n, (op, who, amount, source) in enumerate(ops):
            person = people[who]
            before = services.balance_of(ws, person.pk)
            if op in ("grant", "regrant"):
                ref = "same" if op == "regrant" else f"g{n}"
                services.grant(ws, person, amount, source, ref)
            elif op == "spend":
                try:
                    services.spend(ws, person, amount, source, f"s{n}")
                except services.NotEnoughPoints:
                    assert before < amount
            elif op in ("redeem_goods", "redeem_code"):
                reward = goods if op == "redeem_goods" else code
                with contextlib.suppress(services.PointsError):
                    services.redeem(ws, person.pk, reward.pk, f"k{n}")
            elif op == "expire":
                services.expire_due(ws)
            elif op == "rules":
                services.run_rules(ws)
            elif op == "removed":
                if person.pk not in removed:
                    member_leaves(group, person, timezone.now())
                    removed.add(person.pk)
            elif op == "forfeit":
                services.forfeit(ws, person.pk, f"f{n}", "test", timezone.now())
                assert services.balance_of(ws, person.pk) == 0
            else:
                clock.shift(dt.timedelta(hours=amount))
            expected[who] = services.balance_of(ws, person.pk)
            assert expected[who] >= 0
            check = services.reconcile(ws)
            assert check.ok, check.problems
        for person in people:
            wallet_lines = PointsLine.unscoped.filter(account=Account.WALLET, customer=person).aggregate(t=Sum("amount"))["t"] or 0
            assert services.balance_of(ws, person.pk) == wallet_lines >= 0
        total = PointsLine.unscoped.filter(entry__workspace=ws).aggregate(t=Sum("amount"))["t"] or 0
        assert total == 0  # double entry: the brand's accounts mirror the wallets
        assert all(w.balance >= 0 for w in PointsWallet.unscoped.filter(workspace=ws))
        transaction.set_rollback(True)
