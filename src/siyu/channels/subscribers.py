"""The channels app's reactions to a customer adding a staff account (WECOM.md §3): the welcome
message with its welfare, inside WeCom's 20 s window, and the code's auto-tags.

The welcome is a batch subscriber (a drain batch of adds in one task, sent side by side) with
only 2 attempts: past 20 s a retry could only record a miss (`welcome_new_friends` checks the
window), and a retry never sends twice (the claim). Tagging has no window, so it keeps the bus's
ordinary attempts.
"""

from __future__ import annotations

from siyu.channels.services.tagging import tag_new_friend
from siyu.channels.services.welcome import NewFriend, welcome_new_friends
from siyu.core import events
from siyu.core.models import EventRecord, Workspace
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


def _tag(workspace: Workspace, event: AddEvent) -> None:
    tag_new_friend(workspace, staff_userid=event.staff_userid, external_userid=event.external_userid,
                   state=event.state, at=event.occurred_at)


@events.subscribe(FriendAdded, max_attempts=WELCOME_ATTEMPTS, priority=WELCOME_PRIORITY, batch=True)
def welcome_friend_added(workspace: Workspace, items: list[tuple[FriendAdded, EventRecord]]) -> None:
    _welcome(workspace, list(items))


@events.subscribe(FriendHalfAdded, max_attempts=WELCOME_ATTEMPTS, priority=WELCOME_PRIORITY, batch=True)
def welcome_friend_half_added(workspace: Workspace, items: list[tuple[FriendHalfAdded, EventRecord]]) -> None:
    _welcome(workspace, list(items))


@events.subscribe(FriendAdded)
def tag_friend_added(workspace: Workspace, event: FriendAdded, record: EventRecord) -> None:
    _tag(workspace, event)


@events.subscribe(FriendHalfAdded)
def tag_friend_half_added(workspace: Workspace, event: FriendHalfAdded, record: EventRecord) -> None:
    _tag(workspace, event)
