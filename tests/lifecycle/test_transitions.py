"""Each lifecycle transition, through the recompute service on real customers and follow
relations: new → engaged → dormant → lost, coming back, customer and repeat buyer from a
registered orders provider, super user by score."""

from __future__ import annotations

import datetime as dt

from siyu.customers.models import LifecycleStage, TimelineEntry
from siyu.lifecycle.services import policy_for, recompute
from siyu.lifecycle.timeline import LifecycleTimeline
from tests.lifecycle.conftest import NOW, add, days_ago, engage, fresh, lose


def stage_entries(customer) -> list[str]:
    return list(TimelineEntry.objects.for_workspace(customer.workspace)
                .filter(customer=customer, kind=LifecycleTimeline.STAGE_CHANGED).order_by("at", "id")
                .values_list("detail", flat=True))


def test_a_customer_just_added_is_new(brand_a):
    customer = add(brand_a.workspace)
    recompute(brand_a.workspace, [customer.pk], now=NOW)
    assert fresh(customer).stage == LifecycleStage.NEW


def test_new_then_engaged_then_dormant_then_lost(brand_a):
    ws = brand_a.workspace
    customer = add(ws, when=days_ago(10))
    recompute(ws, now=NOW)
    assert fresh(customer).stage == LifecycleStage.NEW

    engage(customer, days_ago(2))
    recompute(ws, now=NOW)
    engaged = fresh(customer)
    assert engaged.stage == LifecycleStage.ENGAGED and engaged.stage_changed_at == NOW

    later = NOW + dt.timedelta(days=70)  # 72 days without engagement ≥ 60
    recompute(ws, now=later)
    assert fresh(customer).stage == LifecycleStage.DORMANT

    lose(ws, when=days_ago(0))
    recompute(ws, [customer.pk], now=later)
    lost = fresh(customer)
    assert (lost.stage, lost.score, lost.tier) == (LifecycleStage.LOST, 0, "")
    assert stage_entries(customer) == ["新客 → 互动中", "互动中 → 沉睡", "沉睡 → 已流失"]


def test_a_customer_never_engaged_becomes_dormant_after_the_dormant_days(brand_a):
    customer = add(brand_a.workspace, when=days_ago(61))
    recompute(brand_a.workspace, now=NOW)
    assert fresh(customer).stage == LifecycleStage.DORMANT


def test_a_lost_customer_who_adds_again_comes_back(brand_a):
    ws = brand_a.workspace
    customer = add(ws, when=days_ago(90))
    lose(ws, when=days_ago(80))
    recompute(ws, now=NOW)
    assert fresh(customer).stage == LifecycleStage.LOST
    add(ws, when=days_ago(0))
    recompute(ws, [customer.pk], now=NOW)
    back = fresh(customer)
    assert back.stage == LifecycleStage.NEW and back.score > 0 and back.tier


def test_one_order_makes_a_customer_and_two_a_repeat_buyer(brand_a, shop):
    ws = brand_a.workspace
    customer = add(ws)
    shop.orders[customer.pk] = 1
    recompute(ws, [customer.pk], now=NOW)
    assert fresh(customer).stage == LifecycleStage.CUSTOMER
    shop.orders[customer.pk] = 2
    recompute(ws, [customer.pk], now=NOW)
    assert fresh(customer).stage == LifecycleStage.REPEAT


def test_a_score_at_the_super_threshold_makes_a_super_user(brand_a, shop):
    ws = brand_a.workspace
    policy = policy_for(ws)
    policy.weight_frequency = policy.weight_engagement = policy.weight_referrals = 0
    policy.weight_recency, policy.weight_spend = 1, 3
    policy.save()
    customer = add(ws, when=days_ago(0))
    engage(customer, NOW)
    shop.orders[customer.pk], shop.spend[customer.pk] = 3, policy.spend_cap_fen  # spend part 1, recency 1
    recompute(ws, [customer.pk], now=NOW)
    top = fresh(customer)
    assert (top.stage, top.score, top.tier) == (LifecycleStage.SUPER, 100, "S")
    shop.spend[customer.pk] = policy.spend_cap_fen // 2  # (1 + 3 × 0.5) / 4 = 62.5 → 62
    recompute(ws, [customer.pk], now=NOW)
    assert (fresh(customer).stage, fresh(customer).score, fresh(customer).tier) == (LifecycleStage.REPEAT, 62, "A")
