"""生命周期重算 — keeping each customer's stage, score, tier and angel flag (天使用户) up to date.

Incremental for the customers an event names (follow started or ended, `CustomersChanged` from
another module), and nightly for every customer of the brand (time alone moves people from
engaged to dormant). Both work in batches of `BATCH` ids: a handful of queries per batch (the
customers, their follow relations, one per input provider) and one UPDATE per distinct new value of the rows
that changed, so a brand of 1M customers is a few hundred batches.

Idempotent: a customer whose values did not change is not written, gets no timeline entry and
is not announced; a stage change's timeline entry is keyed on the change, so two workers
recomputing the same customer at once add it once. Changes are announced with
`customers_changed(..., "lifecycle")`, which lifecycle's own subscriber ignores (no loop).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone, translation

from siyu.core.models import Membership, Workspace
from siyu.core.permissions import Action, Module, require, role_of
from siyu.core.queue import enqueue
from siyu.customers.models import (
    Customer,
    FollowRelation,
    LifecycleStage,
    TimelineEntry,
)
from siyu.customers.services import DETAIL_MAX_CHARS, add_timeline, customers_changed
from siyu.lifecycle import inputs
from siyu.lifecycle.models import AngelMode, LifecyclePolicy
from siyu.lifecycle.services.policy import RECOMPUTE_TASK, policy_for
from siyu.lifecycle.services.scoring import Facts, evaluate
from siyu.lifecycle.timeline import LifecycleTimeline

BATCH = 2000
REASON = "lifecycle"
_ROW_FIELDS = ("id", "workspace_id", "stage", "stage_changed_at", "score", "tier", "first_added_at", "last_engaged_at")


@dataclass
class RecomputeResult:
    customers: int = 0
    changed: int = 0
    stage_changes: dict[str, int] = field(default_factory=dict)  # "new→engaged": n
    angels_added: int = 0
    angels_removed: int = 0


def _chunks(ids: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def _all_batches(workspace: Workspace, size: int, after_id: int = 0) -> Iterator[list[Customer]]:
    """Every customer of the brand past `after_id`, by id ranges (keyset paging: no OFFSET at 1M rows)."""
    last = after_id
    while True:
        rows = list(Customer.objects.for_workspace(workspace).filter(pk__gt=last).order_by("pk")
                    .only(*_ROW_FIELDS)[:size])
        if not rows:
            return
        yield rows
        last = rows[-1].pk


def _facts(workspace: Workspace, rows: list[Customer]) -> dict[int, Facts]:
    ids = [r.pk for r in rows]
    active = Q(deleted_at__isnull=True)
    follows = {
        r["customer_id"]: r for r in FollowRelation.objects.for_workspace(workspace).filter(customer_id__in=ids)
        .values("customer_id").annotate(n_active=Count("id", filter=active), last_added=Max("added_at", filter=active))
    }
    found = inputs.collect(workspace, ids)
    facts = {}
    for row in rows:
        follow: Mapping[str, Any] = follows.get(row.pk, {})
        facts[row.pk] = Facts(
            customer_id=row.pk,
            active_follows=follow.get("n_active") or 0,
            first_added_at=row.first_added_at,
            last_added_at=follow.get("last_added"),
            last_engaged_at=found.get(inputs.LAST_ENGAGED_AT, row.pk),
            orders=int(found.get(inputs.ORDERS, row.pk)),
            spend_fen=int(found.get(inputs.SPEND_FEN, row.pk)),
            referrals=int(found.get(inputs.REFERRALS, row.pk)),
            visits=int(found.get(inputs.VISITS, row.pk)),
            interactions=int(found.get(inputs.INTERACTIONS, row.pk)),
        )
    return facts


def _stamp(moment: dt.datetime | None) -> str:
    return str(int(moment.timestamp())) if moment else "0"


def _write(workspace: Workspace, rows: list[Customer], *, moved: set[int], now: dt.datetime) -> None:
    """One UPDATE per distinct (stage, score, tier): whole-point scores and seven stages make a
    few hundred groups per batch at most, far cheaper than `bulk_update`'s per-row CASE."""
    groups: dict[tuple[str, float, str, bool], list[int]] = {}
    for row in rows:
        groups.setdefault((row.stage, row.score, row.tier, row.pk in moved), []).append(row.pk)
    customers = Customer.objects.for_workspace(workspace)
    for (stage, score, tier, stage_moved), ids in groups.items():
        values = {"stage": stage, "score": score, "tier": tier}
        if stage_moved:
            values["stage_changed_at"] = now
        customers.filter(pk__in=ids).update(**values)


# Up to this many stage changes go through `add_timeline` one by one; a nightly batch that moves
# thousands inserts them in one statement with the same rules (a round trip per entry was 2/3
# of a full recompute's time on PostgreSQL).
SINGLE_ENTRIES = 20


def _add_stage_entries(workspace: Workspace, moves: list[tuple[Customer, str, str, str]], now: dt.datetime) -> None:
    """A STAGE_CHANGED timeline entry ("from → to") per move, once per dedupe key."""
    with translation.override(settings.LANGUAGE_CODE):
        # Written once, read in the console's language (the worker has no request language).
        details = [f"{LifecycleStage(before).label} → {LifecycleStage(after).label}" for _, before, after, _ in moves]
    if len(moves) <= SINGLE_ENTRIES:
        for (row, _before, _after, key), detail in zip(moves, details, strict=True):
            add_timeline(workspace, row, LifecycleTimeline.STAGE_CHANGED, now, detail=detail, dedupe_key=key)
        return
    TimelineEntry.unscoped.bulk_create(
        [TimelineEntry(workspace=workspace, customer_id=row.pk, kind=LifecycleTimeline.STAGE_CHANGED, at=now,
                       detail=detail[:DETAIL_MAX_CHARS], dedupe_key=key)
         for (row, _before, _after, key), detail in zip(moves, details, strict=True)],
        ignore_conflicts=True,
    )


def _apply(workspace: Workspace, policy: LifecyclePolicy, rows: list[Customer], now: dt.datetime,
           result: RecomputeResult) -> list[int]:
    facts = _facts(workspace, rows)
    changed: list[Customer] = []
    moves: list[tuple[Customer, str, str, str]] = []
    for row in rows:
        verdict = evaluate(policy, facts[row.pk], now)
        stage_moved = row.stage != verdict.stage
        if not stage_moved and row.score == verdict.score and row.tier == verdict.tier:
            continue
        if stage_moved:
            # Keyed on the change seen (from, to, since when): a concurrent recompute adds it once.
            key = f"stage:{row.pk}:{row.stage}:{verdict.stage}:{_stamp(row.stage_changed_at)}"
            moves.append((row, str(row.stage), str(verdict.stage), key))
            row.stage, row.stage_changed_at = verdict.stage, now
        row.score, row.tier = verdict.score, verdict.tier
        changed.append(row)
    result.customers += len(rows)
    if not changed:
        return []
    with transaction.atomic():
        _write(workspace, changed, moved={row.pk for row, *_ in moves}, now=now)
        _add_stage_entries(workspace, moves, now)
        for _row, before, after, _key in moves:
            name = f"{before}→{after}"
            result.stage_changes[name] = result.stage_changes.get(name, 0) + 1
        customers_changed(workspace, [r.pk for r in changed], REASON)
    result.changed += len(changed)
    return [r.pk for r in changed]


def angel_quota(workspace: Workspace, policy: LifecyclePolicy) -> int:
    """How many angel users the policy asks for: a fixed number, or a share of the customers
    still following the brand (rounded up)."""
    if policy.angel_mode == AngelMode.COUNT:
        return policy.angel_count
    following = Customer.objects.for_workspace(workspace).exclude(stage=LifecycleStage.LOST).count()
    return math.ceil(following * policy.angel_share / 100)


def refresh_angels(workspace: Workspace, policy: LifecyclePolicy | None = None) -> tuple[list[int], list[int]]:
    """天使用户 — the top-scored customers still engaged with the brand (not lost, not dormant),
    at least `angel_min_score`, up to the policy's quota; ties go to the earlier customer.
    Returns (ids that became angels, ids that stopped being angels)."""
    policy = policy or policy_for(workspace)
    customers = Customer.objects.for_workspace(workspace)
    quota = angel_quota(workspace, policy)
    top = set(customers.filter(score__gte=policy.angel_min_score)
              .exclude(stage__in=[LifecycleStage.LOST, LifecycleStage.DORMANT])
              .order_by("-score", "pk").values_list("pk", flat=True)[:quota]) if quota else set()
    current = set(customers.filter(is_angel=True).values_list("pk", flat=True))
    added, removed = sorted(top - current), sorted(current - top)
    if added or removed:
        with transaction.atomic():
            for chunk in _chunks(added, BATCH):
                customers.filter(pk__in=chunk).update(is_angel=True)
            for chunk in _chunks(removed, BATCH):
                customers.filter(pk__in=chunk).update(is_angel=False)
            customers_changed(workspace, added + removed, REASON)
    return added, removed


def recompute(workspace: Workspace, customer_ids: Iterable[int] | None = None, *,
              now: dt.datetime | None = None, batch_size: int = BATCH) -> RecomputeResult:
    """Recompute the stage, score and tier of these customers (every customer of the brand if
    `customer_ids` is None), then the angel users if anything moved (always, for a full run)."""
    now = now or timezone.now()
    policy = policy_for(workspace)
    result = RecomputeResult()
    if customer_ids is None:
        batches: Iterable[list[Customer]] = _all_batches(workspace, batch_size)
    else:
        ids = sorted(set(customer_ids))
        batches = (list(Customer.objects.for_workspace(workspace).filter(pk__in=chunk).only(*_ROW_FIELDS))
                   for chunk in _chunks(ids, batch_size))
    for rows in batches:
        _apply(workspace, policy, rows, now, result)
    if customer_ids is None or result.changed:
        added, removed = refresh_angels(workspace, policy)
        result.angels_added, result.angels_removed = len(added), len(removed)
    return result


@dataclass
class SliceResult:
    result: RecomputeResult
    next_after_id: int | None  # None: the brand is done (and its angel users refreshed)


def recompute_slice(workspace: Workspace, after_id: int = 0, *, max_batches: int = 25,
                    now: dt.datetime | None = None, batch_size: int = BATCH) -> SliceResult:
    """Part of a full recompute: up to `max_batches` batches of customers after `after_id`. The
    background task runs one slice and queues the next, so a brand of 1M customers never holds
    one worker for long and a crash resumes from the last slice."""
    now = now or timezone.now()
    policy = policy_for(workspace)
    result = RecomputeResult()
    last = after_id
    for count, rows in enumerate(_all_batches(workspace, batch_size, after_id), start=1):
        _apply(workspace, policy, rows, now, result)
        last = rows[-1].pk
        if count >= max_batches:
            return SliceResult(result, last)
    added, removed = refresh_angels(workspace, policy)
    result.angels_added, result.angels_removed = len(added), len(removed)
    return SliceResult(result, None)


def request_recompute(workspace: Workspace, membership: Membership | None) -> None:
    """The console's "recompute now": every customer of the brand, in the background."""
    require(role_of(membership), Module.CUSTOMERS, Action.EDIT)
    enqueue(RECOMPUTE_TASK, workspace.pk)
