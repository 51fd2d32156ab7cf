"""The fission app's reactions to follow changes (customers' events): an add through a
participant's code becomes an invite; a deletion inside the hold revokes it. Both idempotent
(the invite is unique per campaign and invitee; revoking is a conditional UPDATE)."""

from __future__ import annotations

from siyu.core import events
from siyu.core.models import EventRecord, Workspace
from siyu.customers.events import FollowEnded, FollowStarted
from siyu.customers.models import DeletedBy
from siyu.fission.services import AddSeen, record_add, revoke_for_relation
from siyu.fission.services.codes import STATE_PREFIX


@events.subscribe(FollowStarted)
def count_invite(workspace: Workspace, event: FollowStarted, record: EventRecord) -> None:
    if not event.state.startswith(STATE_PREFIX):
        return  # not a fission code: no query
    record_add(workspace, AddSeen(relation_id=event.relation_id, customer_id=event.customer_id, state=event.state,
                                  at=event.at, reactivated=event.reactivated))


@events.subscribe(FollowEnded)
def revoke_invite(workspace: Workspace, event: FollowEnded, record: EventRecord) -> None:
    # A transfer moves the customer to another account; they did not leave.
    if event.deleted_by == DeletedBy.TRANSFER or not event.state.startswith(STATE_PREFIX):
        return
    revoke_for_relation(workspace, event.relation_id, event.at)
