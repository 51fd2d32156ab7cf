"""Angel users (天使用户) and the ops lead's figures: funnel, super-user ratio and activity, tiers."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied

from siyu.customers.models import Customer, LifecycleStage
from siyu.lifecycle.services import angel_users, lifecycle_kpis, policy_for, recompute
from tests.conftest import seat
from tests.lifecycle.conftest import NOW, add, days_ago, engage, lose


def spend_only(ws, **values) -> None:
    policy = policy_for(ws)
    policy.weight_recency = policy.weight_frequency = policy.weight_engagement = policy.weight_referrals = 0
    policy.weight_spend = 1
    for name, value in values.items():
        setattr(policy, name, value)
    policy.save()


def crowd(ws, shop, spends: list[int]) -> list[Customer]:
    people = []
    for n, spend in enumerate(spends):
        customer = add(ws, f"wm{n:02}", when=days_ago(1))
        shop.spend[customer.pk] = spend
        people.append(customer)
    return people


def angels_of(ws) -> list[str]:
    return list(Customer.objects.for_workspace(ws).filter(is_angel=True).order_by("external_userid")
                .values_list("external_userid", flat=True))


def test_the_top_n_above_the_minimum_score_are_angels(brand_a, shop):
    ws = brand_a.workspace
    spend_only(ws, angel_count=2, angel_min_score=50)
    cap = policy_for(ws).spend_cap_fen
    crowd(ws, shop, [cap, cap // 10, cap * 6 // 10, cap * 9 // 10, cap * 4 // 10])
    recompute(ws, now=NOW)
    assert angels_of(ws) == ["wm00", "wm03"]


def test_a_share_of_the_customers_still_following_are_angels_and_ties_go_to_the_earlier(brand_a, shop):
    ws = brand_a.workspace
    spend_only(ws, angel_mode="share", angel_share=25, angel_min_score=0)
    cap = policy_for(ws).spend_cap_fen
    crowd(ws, shop, [cap // 2] * 8)  # 8 following, 25 % → 2
    recompute(ws, now=NOW)
    assert angels_of(ws) == ["wm00", "wm01"]


def test_nobody_below_the_minimum_score_is_an_angel(brand_a, shop):
    ws = brand_a.workspace
    spend_only(ws, angel_count=10, angel_min_score=90)
    crowd(ws, shop, [1, 2, 3])
    recompute(ws, now=NOW)
    assert angels_of(ws) == []


def test_an_angel_who_leaves_is_replaced(brand_a, shop):
    ws = brand_a.workspace
    spend_only(ws, angel_count=1, angel_min_score=0)
    cap = policy_for(ws).spend_cap_fen
    crowd(ws, shop, [cap, cap // 2])
    recompute(ws, now=NOW)
    assert angels_of(ws) == ["wm00"]
    lose(ws, "wm00")
    first = Customer.objects.for_workspace(ws).get(external_userid="wm00")
    recompute(ws, [first.pk], now=NOW)
    assert angels_of(ws) == ["wm01"]


def test_the_kpis_count_stages_ratio_activity_and_tiers(brand_a, shop):
    ws = brand_a.workspace
    spend_only(ws, super_score=80, tier_s=80, tier_a=60, tier_b=40, angel_count=1, angel_min_score=0)
    cap = policy_for(ws).spend_cap_fen
    people = crowd(ws, shop, [cap, cap, cap // 2, 0, 0])
    engage(people[0], NOW - dt.timedelta(days=3))  # super, active in 7 d
    engage(people[1], NOW - dt.timedelta(days=20))  # super, active in 30 d only
    lose(ws, "wm04")
    recompute(ws, now=NOW)
    kpis = lifecycle_kpis(ws, seat(brand_a.members["data_analyst"], ws), now=NOW)
    stages = {s.stage: s.count for s in kpis.stages}
    assert [s.stage for s in kpis.stages] == ["new", "engaged", "customer", "repeat", "super", "dormant", "lost"]
    assert (stages["super"], stages["new"], stages["lost"]) == (2, 2, 1)
    assert (kpis.total, kpis.following, kpis.super_users) == (5, 4, 2)
    assert kpis.super_ratio == 0.5
    assert (kpis.super_active_7d, kpis.super_active_30d) == (0.5, 1.0)
    assert {t.tier: t.count for t in kpis.tiers} == {"S": 2, "A": 0, "B": 1, "C": 1}
    assert kpis.angels == 1


def test_the_kpis_of_a_brand_without_customers_have_no_ratios(brand_a):
    kpis = lifecycle_kpis(brand_a.workspace, seat(brand_a.admin, brand_a.workspace))
    assert (kpis.total, kpis.super_ratio, kpis.super_active_7d) == (0, None, None)


def test_angel_users_are_listed_highest_score_first(brand_a, shop):
    ws = brand_a.workspace
    spend_only(ws, angel_count=3, angel_min_score=0)
    cap = policy_for(ws).spend_cap_fen
    crowd(ws, shop, [cap // 4, cap, cap // 2])
    recompute(ws, now=NOW)
    listed = angel_users(ws, seat(brand_a.admin, ws))
    assert [(a.external_userid, a.score, a.tier) for a in listed] == [("wm01", 100, "S"), ("wm02", 50, "B"),
                                                                      ("wm00", 25, "C")]
    assert listed[0].stage == LifecycleStage.SUPER


def test_a_role_without_customers_access_sees_no_kpis(brand_a):
    with pytest.raises(PermissionDenied):
        lifecycle_kpis(brand_a.workspace, seat(brand_a.members["copywriter"], brand_a.workspace))
