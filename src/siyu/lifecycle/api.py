"""生命周期与超级用户 API: the ops lead's figures, the brand's policy (read and change, through the
same service as the console) and the angel users (天使用户); scoped to the caller's workspace."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Any

from ninja import Router, Schema, Status

from siyu.lifecycle.services import (
    angel_users,
    get_policy,
    lifecycle_kpis,
    request_recompute,
    update_policy,
)
from siyu.lifecycle.services.policy import policy_values
from siyu.web import MemberRequest

router = Router(tags=["lifecycle"])


class StageCountOut(Schema):
    stage: str
    label: str
    count: int


class TierCountOut(Schema):
    tier: str
    count: int


class KpisOut(Schema):
    stages: list[StageCountOut]
    total: int
    following: int
    super_users: int
    super_ratio: float | None
    super_active_7d: float | None
    super_active_30d: float | None
    tiers: list[TierCountOut]
    angels: int


class PolicyOut(Schema):
    engaged_days: int
    dormant_days: int
    customer_orders: int
    repeat_orders: int
    super_score: float
    weight_recency: int
    weight_frequency: int
    weight_spend: int
    weight_engagement: int
    weight_referrals: int
    recency_days: int
    frequency_cap: int
    spend_cap_fen: int
    engagement_cap: int
    referrals_cap: int
    tier_s: float
    tier_a: float
    tier_b: float
    angel_mode: str
    angel_share: float
    angel_count: int
    angel_min_score: float


class PolicyIn(Schema):
    """Any subset of the policy's values; the others stay as they are."""

    engaged_days: int | None = None
    dormant_days: int | None = None
    customer_orders: int | None = None
    repeat_orders: int | None = None
    super_score: float | None = None
    weight_recency: int | None = None
    weight_frequency: int | None = None
    weight_spend: int | None = None
    weight_engagement: int | None = None
    weight_referrals: int | None = None
    recency_days: int | None = None
    frequency_cap: int | None = None
    spend_cap_fen: int | None = None
    engagement_cap: int | None = None
    referrals_cap: int | None = None
    tier_s: float | None = None
    tier_a: float | None = None
    tier_b: float | None = None
    angel_mode: str | None = None
    angel_share: float | None = None
    angel_count: int | None = None
    angel_min_score: float | None = None


class AngelOut(Schema):
    customer_id: int
    name: str
    external_userid: str
    score: float
    tier: str
    stage: str
    last_engaged_at: dt.datetime | None


def _policy_out(values: dict[str, Any]) -> PolicyOut:
    return PolicyOut(**values)


@router.get("/kpis", response=KpisOut)
def kpis(request: MemberRequest) -> KpisOut:
    found = lifecycle_kpis(request.workspace, request.membership)
    return KpisOut(**asdict(found))


@router.get("/policy", response=PolicyOut)
def read_policy(request: MemberRequest) -> PolicyOut:
    return _policy_out(policy_values(get_policy(request.workspace, request.membership)))


@router.put("/policy", response=PolicyOut)
def change_policy(request: MemberRequest, body: PolicyIn) -> PolicyOut:
    changes = {k: v for k, v in body.dict().items() if v is not None}
    policy = update_policy(request.workspace, request.membership, changes)
    return _policy_out(policy_values(policy))


@router.get("/angels", response=list[AngelOut])
def angels(request: MemberRequest, limit: int = 500) -> list[AngelOut]:
    rows = angel_users(request.workspace, request.membership, limit=min(max(limit, 1), 5000))
    return [AngelOut(customer_id=a.customer_id, name=a.name, external_userid=a.external_userid, score=a.score,
                     tier=a.tier, stage=a.stage, last_engaged_at=a.last_engaged_at) for a in rows]


@router.post("/recompute", response={202: dict[str, str]})
def recompute_now(request: MemberRequest) -> Status[dict[str, str]]:
    request_recompute(request.workspace, request.membership)
    return Status(202, {"status": "queued"})
