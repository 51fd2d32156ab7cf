"""Score inputs (评分输入) — the registry through which modules feed the super-user score and the
lifecycle stages. A provider is `(workspace, customer_ids) -> dict[customer_id, value]`; several
providers of one input are combined (counts and money are summed, `last_engaged_at` takes the
latest). An input with no provider, or a customer a provider leaves out, counts as zero (or
"never" for `last_engaged_at`).

Inputs and who provides them:
- `orders` — paid orders (commerce). Stages customer / repeat.
- `spend_fen` — money spent in fen (commerce).
- `referrals` — friends brought in (fission).
- `visits` — times the customer came to the brand: every add of a staff account, including
  coming back after a deletion (built in); commerce and community may add orders and check-ins.
- `interactions` — engagement actions: welfare redeemed and customer groups joined (built in,
  from the timeline); later modules add replies, check-ins, likes and comments.
- `last_engaged_at` — the latest engagement: `Customer.last_engaged_at` and the latest engagement
  entry on the timeline (built in); later modules add theirs.

Commerce registers, for example, `register_input(ORDERS, orders_by_customer)` in its
`AppConfig.ready`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Max, Sum

from siyu.core.models import Workspace
from siyu.customers.models import Customer, FollowRelation, TimelineEntry
from siyu.customers.timeline import TimelineKind

ORDERS = "orders"
SPEND_FEN = "spend_fen"
REFERRALS = "referrals"
VISITS = "visits"
INTERACTIONS = "interactions"
LAST_ENGAGED_AT = "last_engaged_at"

# Timeline entries that are the customer doing something, not something done to them. Kinds are
# open keys: another app's kind is read by its key, without importing that app.
ENGAGEMENT_KINDS = ("channels.welfare_redeemed", TimelineKind.GROUP_JOINED)

Provider = Callable[[Workspace, list[int]], dict[int, Any]]


def _latest(values: Iterable[Any]) -> Any:
    present = [v for v in values if v is not None]
    return max(present) if present else None


@dataclass(frozen=True)
class InputSpec:
    name: str
    combine: Callable[[Iterable[Any]], Any]
    zero: Any


INPUTS: dict[str, InputSpec] = {
    ORDERS: InputSpec(ORDERS, sum, 0),
    SPEND_FEN: InputSpec(SPEND_FEN, sum, 0),
    REFERRALS: InputSpec(REFERRALS, sum, 0),
    VISITS: InputSpec(VISITS, sum, 0),
    INTERACTIONS: InputSpec(INTERACTIONS, sum, 0),
    LAST_ENGAGED_AT: InputSpec(LAST_ENGAGED_AT, _latest, None),
}

_providers: dict[str, dict[str, Provider]] = {}


def register_input(name: str, provider: Provider, *, key: str | None = None) -> None:
    """Add a provider of the named input. Registering the same provider again (same `key`,
    by default its import path) replaces it, so a module reloaded in tests does not count twice."""
    if name not in INPUTS:
        raise KeyError(f"unknown lifecycle input {name!r}; known: {sorted(INPUTS)}")
    key = key or f"{provider.__module__}.{provider.__qualname__}"
    _providers.setdefault(name, {})[key] = provider


def unregister_input(name: str, key: str) -> None:
    _providers.get(name, {}).pop(key, None)


def providers_of(name: str) -> list[Provider]:
    return list(_providers.get(name, {}).values())


@dataclass(frozen=True)
class Inputs:
    """Every input's value for a batch of customers; a missing customer reads as the zero."""

    values: dict[str, dict[int, Any]]

    def get(self, name: str, customer_id: int) -> Any:
        found = self.values.get(name, {}).get(customer_id)
        return INPUTS[name].zero if found is None else found


def collect(workspace: Workspace, customer_ids: list[int]) -> Inputs:
    """Ask every provider of every input about these customers (one call per provider per batch)."""
    return Inputs({name: collect_one(workspace, name, customer_ids) for name in INPUTS})


def collect_one(workspace: Workspace, name: str, customer_ids: list[int]) -> dict[int, Any]:
    """One input for a batch of customers; customers no provider knows are left out."""
    spec = INPUTS[name]
    combined: dict[int, list[Any]] = {}
    for provider in providers_of(name):
        for customer_id, value in provider(workspace, customer_ids).items():
            combined.setdefault(customer_id, []).append(value)
    return {cid: spec.combine(found) for cid, found in combined.items()}


# --- built-in providers: what the customers app already knows --------------------------------

def visits_from_adds(workspace: Workspace, customer_ids: list[int]) -> dict[int, int]:
    rows = (FollowRelation.objects.for_workspace(workspace).filter(customer_id__in=customer_ids)
            .values("customer_id").annotate(adds=Sum("times_added")))
    return {r["customer_id"]: int(r["adds"] or 0) for r in rows}


def interactions_from_timeline(workspace: Workspace, customer_ids: list[int]) -> dict[int, int]:
    rows = (TimelineEntry.objects.for_workspace(workspace)
            .filter(customer_id__in=customer_ids, kind__in=ENGAGEMENT_KINDS)
            .values("customer_id").annotate(n=Count("id")))
    return {r["customer_id"]: r["n"] for r in rows}


def last_engaged_from_timeline(workspace: Workspace, customer_ids: list[int]) -> dict[int, dt.datetime]:
    rows = (TimelineEntry.objects.for_workspace(workspace)
            .filter(customer_id__in=customer_ids, kind__in=ENGAGEMENT_KINDS)
            .values("customer_id").annotate(last=Max("at")))
    return {r["customer_id"]: r["last"] for r in rows}


def last_engaged_from_customer(workspace: Workspace, customer_ids: list[int]) -> dict[int, dt.datetime]:
    rows = (Customer.objects.for_workspace(workspace)
            .filter(pk__in=customer_ids, last_engaged_at__isnull=False).values_list("pk", "last_engaged_at"))
    return {pk: at for pk, at in rows if at is not None}  # all of them (the filter)


register_input(VISITS, visits_from_adds)
register_input(INTERACTIONS, interactions_from_timeline)
register_input(LAST_ENGAGED_AT, last_engaged_from_timeline)
register_input(LAST_ENGAGED_AT, last_engaged_from_customer)
