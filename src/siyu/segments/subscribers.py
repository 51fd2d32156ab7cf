"""人群 reactions to customer events: a follow started or ended, or something rules read
changed (tags, fields, lifecycle, transfer, sync). Each re-evaluates only the customers the
event names against every dynamic segment; idempotent, so a replay changes nothing."""

from __future__ import annotations

from siyu.core import events
from siyu.core.models import EventRecord, Workspace
from siyu.customers.events import CustomersChanged, FollowEnded, FollowStarted
from siyu.segments.services.membership import refresh_customers


@events.subscribe(FollowStarted)
def keep_members_on_follow_started(workspace: Workspace, event: FollowStarted, record: EventRecord) -> None:
    refresh_customers(workspace, [event.customer_id])


@events.subscribe(FollowEnded)
def keep_members_on_follow_ended(workspace: Workspace, event: FollowEnded, record: EventRecord) -> None:
    refresh_customers(workspace, [event.customer_id])


@events.subscribe(CustomersChanged)
def keep_members_on_change(workspace: Workspace, event: CustomersChanged, record: EventRecord) -> None:
    refresh_customers(workspace, event.customer_ids)
