"""The inputs registry (评分输入): later modules plug in orders, spend, referrals and check-ins;
what nobody provides counts as zero."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from siyu.channels.timeline import ChannelTimeline
from siyu.customers.services import add_timeline
from siyu.lifecycle import inputs
from siyu.lifecycle.models import LifecyclePolicy
from siyu.lifecycle.services import recompute
from siyu.lifecycle.services.scoring import Facts, evaluate
from tests.lifecycle.conftest import NOW, add, days_ago, fresh


def test_without_providers_orders_spend_and_referrals_are_zero(brand_a):
    customer = add(brand_a.workspace)
    found = inputs.collect(brand_a.workspace, [customer.pk])
    assert [found.get(name, customer.pk) for name in (inputs.ORDERS, inputs.SPEND_FEN, inputs.REFERRALS)] == [0, 0, 0]
    assert found.get(inputs.VISITS, customer.pk) == 1 and found.get(inputs.LAST_ENGAGED_AT, customer.pk) is None


def test_a_redeemed_welfare_is_an_interaction_and_the_last_engagement(brand_a):
    ws = brand_a.workspace
    customer = add(ws, when=days_ago(20))
    add_timeline(ws, customer, ChannelTimeline.WELFARE_REDEEMED, days_ago(3))
    found = inputs.collect(ws, [customer.pk])
    assert found.get(inputs.INTERACTIONS, customer.pk) == 1
    assert found.get(inputs.LAST_ENGAGED_AT, customer.pk) == days_ago(3)
    recompute(ws, now=NOW)
    assert fresh(customer).stage == "engaged"


def test_several_providers_of_one_input_add_up_and_a_re_registration_replaces(brand_a):
    customer = add(brand_a.workspace)
    try:
        inputs.register_input(inputs.REFERRALS, lambda ws, ids: dict.fromkeys(ids, 2), key="test.fission")
        inputs.register_input(inputs.REFERRALS, lambda ws, ids: dict.fromkeys(ids, 3), key="test.fission")
        inputs.register_input(inputs.REFERRALS, lambda ws, ids: dict.fromkeys(ids, 1), key="test.community")
        assert inputs.collect(brand_a.workspace, [customer.pk]).get(inputs.REFERRALS, customer.pk) == 4
        before = fresh(customer).score
        recompute(brand_a.workspace, now=NOW)
        assert fresh(customer).score > before
    finally:
        inputs.unregister_input(inputs.REFERRALS, "test.fission")
        inputs.unregister_input(inputs.REFERRALS, "test.community")


def test_an_unknown_input_cannot_be_registered():
    with pytest.raises(KeyError):
        inputs.register_input("karma", lambda ws, ids: {})


counts = st.integers(min_value=0, max_value=10_000)
moments = st.one_of(st.none(), st.floats(min_value=0, max_value=1000).map(lambda d: NOW - dt.timedelta(days=d)))


@settings(max_examples=200, deadline=None)
@given(active=st.integers(0, 3), added=moments, engaged=moments, orders=counts, spend=counts, referrals=counts,
       visits=counts, interactions=counts, extra=st.integers(1, 100_000))
def test_the_score_stays_within_0_and_100_and_more_spend_never_lowers_it(active, added, engaged, orders, spend,
                                                                         referrals, visits, interactions, extra):
    policy = LifecyclePolicy()
    facts = Facts(customer_id=1, active_follows=active, last_added_at=added, last_engaged_at=engaged, orders=orders,
                  spend_fen=spend, referrals=referrals, visits=visits, interactions=interactions)
    richer = Facts(**{**facts.__dict__, "spend_fen": spend + extra})
    verdict, better = evaluate(policy, facts, NOW), evaluate(policy, richer, NOW)
    assert 0 <= verdict.score <= 100 and better.score >= verdict.score
    assert (verdict.tier == "") == (active == 0)
