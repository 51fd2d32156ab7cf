"""The channels app's reactions to a customer adding a staff account (WECOM.md §3): the welcome
message with its welfare, inside WeCom's 20 s window, and the code's auto-tags.

Welcome handlers get only 2 attempts: past 20 s a retry could only record a miss (the window
check in `welcome_new_friend` sees to that), and a retry never sends twice (the claim).
Tagging has no window, so it keeps the bus's ordinary attempts.
"""

from __future__ import annotations

from siyu.channels.services.tagging import tag_new_friend
from siyu.channels.services.welcome import welcome_new_friend
from siyu.core import events
from siyu.core.models import EventRecord, Workspace
from siyu.wecom.events import FriendAdded, FriendHalfAdded

# WeCom takes a welcome only within 20 s of the add (WECOM.md §3): workers run it before bookkeeping.
WELCOME_PRIORITY = 50
WELCOME_ATTEMPTS = 2


def _welcome(workspace: Workspace, event: FriendAdded | FriendHalfAdded) -> None:
    welcome_new_friend(workspace, staff_userid=event.staff_userid, external_userid=event.external_userid,
                       state=event.state, welcome_code=event.welcome_code, at=event.occurred_at)


def _tag(workspace: Workspace, event: FriendAdded | FriendHalfAdded) -> None:
    tag_new_friend(workspace, staff_userid=event.staff_userid, external_userid=event.external_userid,
                   state=event.state, at=event.occurred_at)


@events.subscribe(FriendAdded, max_attempts=WELCOME_ATTEMPTS, priority=WELCOME_PRIORITY)
def welcome_friend_added(workspace: Workspace, event: FriendAdded, record: EventRecord) -> None:
    _welcome(workspace, event)


@events.subscribe(FriendHalfAdded, max_attempts=WELCOME_ATTEMPTS, priority=WELCOME_PRIORITY)
def welcome_friend_half_added(workspace: Workspace, event: FriendHalfAdded, record: EventRecord) -> None:
    _welcome(workspace, event)


@events.subscribe(FriendAdded)
def tag_friend_added(workspace: Workspace, event: FriendAdded, record: EventRecord) -> None:
    _tag(workspace, event)


@events.subscribe(FriendHalfAdded)
def tag_friend_half_added(workspace: Workspace, event: FriendHalfAdded, record: EventRecord) -> None:
    _tag(workspace, event)
