"""The pure rules: the score from weights (zero inputs included), tiers and the stage order."""

from __future__ import annotations

import datetime as dt

from siyu.customers.models import LifecycleStage
from siyu.lifecycle.models import LifecyclePolicy
from siyu.lifecycle.services.scoring import Facts, evaluate, score_parts, tier_of, weighted_score
from tests.lifecycle.conftest import NOW, days_ago


def policy(**values) -> LifecyclePolicy:
    return LifecyclePolicy(**values)


def test_a_customer_with_nothing_but_an_add_today_scores_only_recency():
    facts = Facts(customer_id=1, active_follows=1, first_added_at=NOW, last_added_at=NOW)
    parts = score_parts(policy(), facts, NOW)
    assert (parts.recency, parts.frequency, parts.spend, parts.engagement, parts.referrals) == (1, 0, 0, 0, 0)
    assert evaluate(policy(), facts, NOW).score == 25  # recency weight 25 of 100


def test_inputs_no_module_provides_count_as_zero_and_weights_are_normalised():
    facts = Facts(customer_id=1, active_follows=1, last_added_at=NOW, visits=5, interactions=10)
    p = policy(weight_recency=1, weight_frequency=1, weight_spend=1, weight_engagement=1, weight_referrals=0)
    # recency 1, frequency 5/10, spend 0 (no commerce yet), engagement 10/20 → (1 + .5 + 0 + .5) / 4
    assert weighted_score(p, score_parts(p, facts, NOW)) == 50


def test_recency_falls_linearly_to_zero_at_the_recency_days():
    p = policy(weight_recency=1, weight_frequency=0, weight_spend=0, weight_engagement=0, weight_referrals=0)
    half = Facts(customer_id=1, active_follows=1, last_engaged_at=days_ago(45), last_added_at=days_ago(100))
    gone = Facts(customer_id=1, active_follows=1, last_added_at=days_ago(120))
    assert weighted_score(p, score_parts(p, half, NOW)) == 50
    assert weighted_score(p, score_parts(p, gone, NOW)) == 0


def test_inputs_above_their_cap_count_in_full_only():
    facts = Facts(customer_id=1, active_follows=1, spend_fen=10**9, referrals=99)
    parts = score_parts(policy(), facts, NOW)
    assert (parts.spend, parts.referrals) == (1, 1)


def test_tiers_follow_the_cut_offs():
    p = policy(tier_s=90, tier_a=70, tier_b=30)
    assert [tier_of(p, s) for s in (100, 90, 89, 70, 30, 29, 0)] == ["S", "S", "A", "A", "B", "C", "C"]


def test_lost_comes_before_everything_and_scores_nothing():
    facts = Facts(customer_id=1, active_follows=0, last_engaged_at=NOW, orders=9, spend_fen=10**7)
    verdict = evaluate(policy(), facts, NOW)
    assert (verdict.stage, verdict.score, verdict.tier) == (LifecycleStage.LOST, 0, "")


def test_dormant_comes_before_super_and_orders():
    facts = Facts(customer_id=1, active_follows=1, last_added_at=days_ago(200), last_engaged_at=days_ago(61),
                  orders=5, spend_fen=10**7, referrals=10, visits=20, interactions=40)
    assert evaluate(policy(), facts, NOW).stage == LifecycleStage.DORMANT


def test_engaged_only_within_the_engaged_days():
    p = policy(engaged_days=7, dormant_days=60)
    recent = Facts(customer_id=1, active_follows=1, last_added_at=days_ago(20), last_engaged_at=days_ago(6))
    cooled = Facts(customer_id=1, active_follows=1, last_added_at=days_ago(20), last_engaged_at=days_ago(8))
    assert evaluate(p, recent, NOW).stage == LifecycleStage.ENGAGED
    assert evaluate(p, cooled, NOW).stage == LifecycleStage.NEW


def test_a_recent_re_add_wakes_a_dormant_customer():
    facts = Facts(customer_id=1, active_follows=1, first_added_at=days_ago(300), last_added_at=NOW - dt.timedelta(hours=1))
    assert evaluate(policy(), facts, NOW).stage == LifecycleStage.NEW
