"""超级用户评分 — the pure rules: a customer's score, stage and tier from the brand's policy and
the customer's facts at a moment. No database here, so every rule is tested on its own.

Stages are evaluated in a fixed order and the first that matches wins:
1. lost — no active follow relation with any staff account;
2. dormant — no engagement (or add) for `dormant_days`: the latest of the last engagement and
   the latest add is that old (a customer who comes back is active again);
3. super — score ≥ `super_score`;
4. repeat — orders ≥ `repeat_orders`;
5. customer — orders ≥ `customer_orders`;
6. engaged — engaged within the last `engaged_days`;
7. new — otherwise.

The score (0–100, whole points) is the weighted mean of five parts, each 0–1: recency (1 today,
0 after `recency_days` since the last engagement or, if none, the latest add), frequency
(visits / `frequency_cap`), spend (spend / `spend_cap_fen`), engagement (interactions /
`engagement_cap`) and referrals (referrals / `referrals_cap`), each capped at 1. Weights are
normalised by their sum. A lost customer scores 0 and has no tier.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from siyu.customers.models import LifecycleStage
from siyu.lifecycle.models import LifecyclePolicy

TIERS = ("S", "A", "B", "C")


@dataclass(frozen=True)
class Facts:
    """What the rules read about one customer (from the customer row, its follow relations and
    the inputs registry)."""

    customer_id: int
    active_follows: int = 0
    first_added_at: dt.datetime | None = None
    last_added_at: dt.datetime | None = None  # latest add of a still-active follow relation
    last_engaged_at: dt.datetime | None = None
    orders: int = 0
    spend_fen: int = 0
    referrals: int = 0
    visits: int = 0
    interactions: int = 0


@dataclass(frozen=True)
class ScoreParts:
    recency: float
    frequency: float
    spend: float
    engagement: float
    referrals: float


@dataclass(frozen=True)
class Evaluation:
    stage: LifecycleStage
    score: float
    tier: str
    parts: ScoreParts


def _days(since: dt.datetime | None, now: dt.datetime) -> float | None:
    return None if since is None else max((now - since).total_seconds() / 86400, 0.0)


def _ratio(value: float, cap: float) -> float:
    return 0.0 if cap <= 0 else min(max(value / cap, 0.0), 1.0)


def score_parts(policy: LifecyclePolicy, facts: Facts, now: dt.datetime) -> ScoreParts:
    last = facts.last_engaged_at or facts.last_added_at or facts.first_added_at
    age = _days(last, now)
    recency = 0.0 if age is None else 1.0 - _ratio(age, policy.recency_days)
    return ScoreParts(
        recency=recency,
        frequency=_ratio(facts.visits, policy.frequency_cap),
        spend=_ratio(facts.spend_fen, policy.spend_cap_fen),
        engagement=_ratio(facts.interactions, policy.engagement_cap),
        referrals=_ratio(facts.referrals, policy.referrals_cap),
    )


def weighted_score(policy: LifecyclePolicy, parts: ScoreParts) -> float:
    weights = (policy.weight_recency, policy.weight_frequency, policy.weight_spend,
               policy.weight_engagement, policy.weight_referrals)
    total = sum(weights)
    if total <= 0:
        return 0.0
    values = (parts.recency, parts.frequency, parts.spend, parts.engagement, parts.referrals)
    # Whole points: the nightly recency decay then moves a score only every few days, not every
    # night for every customer (each change notifies segments).
    return float(round(100 * sum(w * v for w, v in zip(weights, values, strict=True)) / total))


def tier_of(policy: LifecyclePolicy, score: float) -> str:
    if score >= policy.tier_s:
        return "S"
    if score >= policy.tier_a:
        return "A"
    if score >= policy.tier_b:
        return "B"
    return "C"


def stage_of(policy: LifecyclePolicy, facts: Facts, score: float, now: dt.datetime) -> LifecycleStage:
    if facts.active_follows <= 0:
        return LifecycleStage.LOST
    latest = max((t for t in (facts.last_engaged_at, facts.last_added_at, facts.first_added_at) if t), default=None)
    idle = _days(latest, now)
    if idle is not None and idle >= policy.dormant_days:
        return LifecycleStage.DORMANT
    if score >= policy.super_score:
        return LifecycleStage.SUPER
    if facts.orders >= policy.repeat_orders:
        return LifecycleStage.REPEAT
    if facts.orders >= policy.customer_orders:
        return LifecycleStage.CUSTOMER
    engaged = _days(facts.last_engaged_at, now)
    if engaged is not None and engaged < policy.engaged_days:
        return LifecycleStage.ENGAGED
    return LifecycleStage.NEW


def evaluate(policy: LifecyclePolicy, facts: Facts, now: dt.datetime) -> Evaluation:
    parts = score_parts(policy, facts, now)
    if facts.active_follows <= 0:
        return Evaluation(LifecycleStage.LOST, 0.0, "", parts)
    score = weighted_score(policy, parts)
    return Evaluation(stage_of(policy, facts, score, now), score, tier_of(policy, score), parts)
