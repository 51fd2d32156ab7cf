"""超级用户指标 — the ops lead's lifecycle figures (seed 000: 超级用户比例, 超级用户活跃度): the stage
funnel, the super-user ratio and activity, the tier distribution and the angel users
(天使用户). Grouped counts on indexed columns of the customer row; analytics reuses them. A customer
ops member's figures and lists count only their accounts' customers (`customers.services.scoped`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, QuerySet
from django.utils import timezone

from siyu.core.models import Membership, Workspace
from siyu.core.permissions import Action, Module, require, role_of
from siyu.customers.models import Customer, LifecycleStage
from siyu.customers.services import scoped
from siyu.lifecycle import inputs
from siyu.lifecycle.services.recompute import BATCH, _chunks
from siyu.lifecycle.services.scoring import TIERS

FUNNEL = (LifecycleStage.NEW, LifecycleStage.ENGAGED, LifecycleStage.CUSTOMER, LifecycleStage.REPEAT,
          LifecycleStage.SUPER, LifecycleStage.DORMANT, LifecycleStage.LOST)
ACTIVITY_WINDOWS = (7, 30)


@dataclass(frozen=True)
class StageCount:
    stage: str
    label: str
    count: int


@dataclass(frozen=True)
class TierCount:
    tier: str
    count: int


@dataclass(frozen=True)
class LifecycleKpis:
    """`following`: customers still friends of at least one staff account (every stage but lost).
    `super_ratio`: super users / following. `super_active_7d` / `_30d`: the share of super users
    who engaged in the last 7 / 30 days. Ratios are None when there is nobody to divide by."""

    stages: list[StageCount]
    total: int
    following: int
    super_users: int
    super_ratio: float | None
    super_active_7d: float | None
    super_active_30d: float | None
    tiers: list[TierCount]
    angels: int


@dataclass(frozen=True)
class AngelUser:
    customer_id: int
    name: str
    external_userid: str
    score: float
    tier: str
    stage: str
    stage_label: str
    last_engaged_at: dt.datetime | None


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _customers(workspace: Workspace, membership: Membership | None) -> QuerySet[Customer]:
    """The customers the member sees (数据范围: customer ops, their accounts' customers)."""
    return scoped(Customer.objects.for_workspace(workspace), workspace, membership)


def stage_counts(customers: QuerySet[Customer]) -> dict[str, int]:
    return {r["stage"]: r["n"] for r in customers.values("stage").annotate(n=Count("id")).order_by()}


def super_activity(workspace: Workspace, customers: QuerySet[Customer], now: dt.datetime,
                   days: tuple[int, ...] = ACTIVITY_WINDOWS) -> dict[int, int]:
    """How many of `customers`' super users engaged within each window (the same engagement
    inputs as the rules)."""
    ids = list(customers.filter(stage=LifecycleStage.SUPER).order_by("pk").values_list("pk", flat=True))
    counts = dict.fromkeys(days, 0)
    for chunk in _chunks(ids, BATCH):
        found = inputs.collect_one(workspace, inputs.LAST_ENGAGED_AT, chunk)
        for last in found.values():
            for window in days:
                if last is not None and now - last <= dt.timedelta(days=window):
                    counts[window] += 1
    return counts


def lifecycle_kpis(workspace: Workspace, membership: Membership | None, now: dt.datetime | None = None) -> LifecycleKpis:
    require(role_of(membership), Module.CUSTOMERS, Action.VIEW)
    now = now or timezone.now()
    customers = _customers(workspace, membership)
    counts = stage_counts(customers)
    total = sum(counts.values())
    following = total - counts.get(LifecycleStage.LOST, 0)
    supers = counts.get(LifecycleStage.SUPER, 0)
    active = super_activity(workspace, customers, now) if supers else dict.fromkeys(ACTIVITY_WINDOWS, 0)
    tier_rows = (customers.exclude(stage=LifecycleStage.LOST)
                 .values("tier").annotate(n=Count("id")).order_by())
    tiers = {r["tier"]: r["n"] for r in tier_rows}
    return LifecycleKpis(
        stages=[StageCount(str(s), str(s.label), counts.get(s, 0)) for s in FUNNEL],
        total=total,
        following=following,
        super_users=supers,
        super_ratio=_share(supers, following),
        super_active_7d=_share(active[7], supers),
        super_active_30d=_share(active[30], supers),
        tiers=[TierCount(t, tiers.get(t, 0)) for t in TIERS],
        angels=customers.filter(is_angel=True).count(),
    )


def angel_users(workspace: Workspace, membership: Membership | None, limit: int = 500) -> list[AngelUser]:
    """天使用户 — highest score first: the customers to invite first when a fission campaign starts."""
    require(role_of(membership), Module.CUSTOMERS, Action.VIEW)
    rows = list(_customers(workspace, membership).filter(is_angel=True).order_by("-score", "pk")
                .only("id", "name", "external_userid", "score", "tier", "stage")[:limit])
    last = inputs.collect_one(workspace, inputs.LAST_ENGAGED_AT, [r.pk for r in rows]) if rows else {}
    return [AngelUser(r.pk, r.name, r.external_userid, r.score, r.tier, r.stage, str(LifecycleStage(r.stage).label),
                      last.get(r.pk)) for r in rows]
