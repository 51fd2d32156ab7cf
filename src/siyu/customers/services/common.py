"""What every customer service shares: writing the timeline, telling the other apps which
customers changed, and how much of a phone number a role may see. Re-exported by
`siyu.customers.services`; a leaf, so the package's modules import it without a cycle."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass

from siyu.core import events
from siyu.core.contract import timeline_kinds
from siyu.core.models import Workspace
from siyu.core.permissions import Role
from siyu.customers.events import CustomersChanged
from siyu.customers.models import Customer, TimelineEntry

DETAIL_MAX_CHARS = 300  # TimelineEntry.detail


# --- the timeline ------------------------------------------------------------------------------

@functools.cache
def _declared_kinds() -> frozenset[str]:
    return frozenset(timeline_kinds())


@dataclass(frozen=True)
class TimelineNote:
    """One entry for `add_timelines`."""

    customer: Customer
    kind: str
    at: dt.datetime
    account_id: int | None = None
    detail: str = ""
    dedupe_key: str = ""


def add_timeline(
    workspace: Workspace,
    customer: Customer,
    kind: str,
    at: dt.datetime,
    *,
    account_id: int | None = None,
    detail: str = "",
    dedupe_key: str = "",
) -> None:
    """One entry on the customer's timeline; with a `dedupe_key`, a repeat inserts nothing
    (an insert that ignores the unique conflict, so two workers cannot both add it)."""
    add_timelines(workspace, [TimelineNote(customer, kind, at, account_id, detail, dedupe_key)])


def add_timelines(workspace: Workspace, notes: Sequence[TimelineNote]) -> None:
    """`add_timeline` for many entries in one insert."""
    for note in notes:
        if note.kind not in _declared_kinds():
            raise ValueError(f"timeline kind {note.kind!r} is not declared by an installed app (SiyuApp.timeline_kinds)")
    TimelineEntry.unscoped.bulk_create(
        [TimelineEntry(workspace=workspace, customer=n.customer, kind=n.kind, at=n.at, account_id=n.account_id,
                       detail=n.detail[:DETAIL_MAX_CHARS], dedupe_key=n.dedupe_key) for n in notes],
        ignore_conflicts=any(n.dedupe_key for n in notes),
    )


def has_timeline(workspace: Workspace, dedupe_key: str) -> bool:
    return TimelineEntry.objects.for_workspace(workspace).filter(dedupe_key=dedupe_key).exists()


# --- change notices ----------------------------------------------------------------------------

CHANGED_BATCH = 500


def customers_changed(workspace: Workspace, customer_ids: list[int], reason: str) -> None:
    """Tell segments and lifecycle that these customers changed (`CustomersChanged`), in batches,
    after this transaction commits. Call it from every service that changes what rules read."""
    ids = sorted(set(customer_ids))
    for start in range(0, len(ids), CHANGED_BATCH):
        events.publish(workspace, CustomersChanged(customer_ids=ids[start:start + CHANGED_BATCH], reason=reason))


# --- privacy -----------------------------------------------------------------------------------

PHONE_ROLES = frozenset({Role.ADMIN, Role.OPS_LEAD, Role.CUSTOMER_OPS})


def may_see_phone(role: str | None) -> bool:
    """Admins, ops leads and customer ops serve customers by phone; other roles see it masked."""
    return role in PHONE_ROLES


def shown_phone(phone: str, role: str | None) -> str:
    """The phone as this role may see it: whole, or masked as 138****5678."""
    if not phone or may_see_phone(role):
        return phone
    return phone[:3] + "*" * max(len(phone) - 7, 1) + phone[-4:] if len(phone) > 7 else "*" * len(phone)
