"""The customers app's reactions to WeCom contact and group events (WECOM.md §3, §4): adds keep
the customer and the follow relation, deletions end it, joining or leaving a customer group goes
on the timeline. Each handler is idempotent (`customers.services` guards every write), so a
replayed or doubly delivered event changes nothing."""

from __future__ import annotations

from django.db import transaction

from siyu.core import events
from siyu.core.models import EventRecord, Workspace
from siyu.customers import services
from siyu.customers.models import DeletedBy
from siyu.wecom.events import (
    CustomerDeletedStaff,
    FriendAdded,
    FriendHalfAdded,
    GroupUpdated,
    StaffDeletedCustomer,
)

# WECOM.md §3: del_external_contact carries Source=DELETE_BY_TRANSFER when a transfer moved
# the customer to another account; that is not the staff member's choice.
TRANSFER_SOURCE = "DELETE_BY_TRANSFER"


def _keep_add(workspace: Workspace, event: FriendAdded | FriendHalfAdded) -> None:
    relation = services.record_add(workspace, staff_userid=event.staff_userid, external_userid=event.external_userid,
                                   state=event.state, at=event.occurred_at)
    customer = relation.customer
    # The profile is fetched after commit, so the database is not held during the WeCom call;
    # a failure only leaves the nickname empty until the next add or sync.
    transaction.on_commit(lambda: services.ensure_profile(workspace, customer), robust=True)


@events.subscribe(FriendAdded)
def keep_friend_added(workspace: Workspace, event: FriendAdded, record: EventRecord) -> None:
    _keep_add(workspace, event)


@events.subscribe(FriendHalfAdded)
def keep_friend_half_added(workspace: Workspace, event: FriendHalfAdded, record: EventRecord) -> None:
    """A skip-verify add not yet confirmed by staff is already a friendship for the customer
    (WECOM.md §3), so it counts as an add; the later confirmation changes nothing."""
    _keep_add(workspace, event)


@events.subscribe(CustomerDeletedStaff)
def keep_churn(workspace: Workspace, event: CustomerDeletedStaff, record: EventRecord) -> None:
    services.record_loss(workspace, staff_userid=event.staff_userid, external_userid=event.external_userid,
                         at=event.occurred_at, by=DeletedBy.CUSTOMER)


@events.subscribe(StaffDeletedCustomer)
def keep_staff_deletion(workspace: Workspace, event: StaffDeletedCustomer, record: EventRecord) -> None:
    by = DeletedBy.TRANSFER if event.source == TRANSFER_SOURCE else DeletedBy.STAFF
    services.record_loss(workspace, staff_userid=event.staff_userid, external_userid=event.external_userid,
                         at=event.occurred_at, by=by)


@events.subscribe(GroupUpdated)
def keep_group_membership(workspace: Workspace, event: GroupUpdated, record: EventRecord) -> None:
    """WECOM.md §4: `add_member` / `del_member` list the members who joined or left a group."""
    if event.update_detail in ("add_member", "del_member"):
        services.record_group_change(workspace, chat_id=event.chat_id, member_userids=event.member_changes,
                                     joined=event.update_detail == "add_member", at=event.occurred_at)
