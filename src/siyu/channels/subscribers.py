"""The channels app's reactions to a customer adding a staff account (WECOM.md §3): the welcome
message with its welfare, inside WeCom's 20 s window, and the code's auto-tags.

The welcome is a batch subscriber (a drain batch of adds in one task, sent side by side) with
only 2 attempts: past 20 s a retry does nothing (`welcome_new_friends` skips adds past their
window), and a retry never sends twice (the claim). The bookkeeping after an add has no window,
so it keeps the bus's ordinary attempts.
"""

from __future__ import annotations

from siyu.channels.services.tagging import tag_new_friend
from siyu.channels.services.welcome import NewFriend, settle_late_welcome, welcome_new_friends
from siyu.core import events
from siyu.core.models import EventRecord, Workspace
from siyu.customers import services as customers
from siyu.wecom.events import FriendAdded, FriendHalfAdded

# WeCom takes a welcome only within 20 s of the add (WECOM.md §3): its lane runs before all
# bookkeeping, a drain batch at a time.
WELCOME_PRIORITY = 50
WELCOME_ATTEMPTS = 2
AddEvent = FriendAdded | FriendHalfAdded


def _new_friend(event: AddEvent) -> NewFriend:
    return NewFriend(staff_userid=event.staff_userid, external_userid=event.external_userid, state=event.state,
                     welcome_code=event.welcome_code, at=event.occurred_at)


def _welcome(workspace: Workspace, items: list[tuple[AddEvent, EventRecord]]) -> None:
    welcome_new_friends(workspace, [_new_friend(event) for event, _record in items])


def _after_add(workspace: Workspace, event: AddEvent) -> None:
    """The channel's bookkeeping of an add: its code's auto-tags, and its welcome's outcome when
    the lane skipped it (it came too late for WeCom's window)."""
    add = _new_friend(event)
    relation = customers.record_add(workspace, staff_userid=add.staff_userid, external_userid=add.external_userid,
                                    state=add.state, at=add.at)
    tag_new_friend(workspace, relation, state=add.state, at=add.at)
    settle_late_welcome(workspace, relation, add)


@events.subscribe(FriendAdded, max_attempts=WELCOME_ATTEMPTS, priority=WELCOME_PRIORITY, batch=True)
def welcome_friend_added(workspace: Workspace, items: list[tuple[FriendAdded, EventRecord]]) -> None:
    _welcome(workspace, list(items))


@events.subscribe(FriendHalfAdded, max_attempts=WELCOME_ATTEMPTS, priority=WELCOME_PRIORITY, batch=True)
def welcome_friend_half_added(workspace: Workspace, items: list[tuple[FriendHalfAdded, EventRecord]]) -> None:
    _welcome(workspace, list(items))


@events.subscribe(FriendAdded)
def after_friend_added(workspace: Workspace, event: FriendAdded, record: EventRecord) -> None:
    _after_add(workspace, event)


@events.subscribe(FriendHalfAdded)
def after_friend_half_added(workspace: Workspace, event: FriendHalfAdded, record: EventRecord) -> None:
    _after_add(workspace, event)
