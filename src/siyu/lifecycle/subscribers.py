"""The lifecycle's reactions: a follow started or ended, or another module changed what the
rules read (`CustomersChanged`), recomputes those customers at once. Its own changes (reason
"lifecycle") are ignored, so recomputing never feeds itself, and so are tag changes. Idempotent: a replay finds nothing
to change."""

from __future__ import annotations

from siyu.core import events
from siyu.core.models import EventRecord, Workspace
from siyu.customers.events import CustomersChanged, FollowEnded, FollowStarted
from siyu.lifecycle.services.recompute import REASON, recompute

# Bookkeeping: after welcome messages and routing.
PRIORITY = -10
# Lifecycle's own changes (no loop), and tags, which no stage or score rule reads: a bulk tagging
# of 1M customers must not become a full recompute. Any other reason (fields, transfer, sync,
# later modules' orders or check-ins) is recomputed.
IGNORED_REASONS = frozenset({REASON, "tags"})


@events.subscribe(FollowStarted, priority=PRIORITY)
def recompute_after_follow_started(workspace: Workspace, event: FollowStarted, record: EventRecord) -> None:
    recompute(workspace, [event.customer_id])


@events.subscribe(FollowEnded, priority=PRIORITY)
def recompute_after_follow_ended(workspace: Workspace, event: FollowEnded, record: EventRecord) -> None:
    recompute(workspace, [event.customer_id])


@events.subscribe(CustomersChanged, priority=PRIORITY)
def recompute_changed_customers(workspace: Workspace, event: CustomersChanged, record: EventRecord) -> None:
    if event.reason in IGNORED_REASONS:
        return
    recompute(workspace, event.customer_ids)
