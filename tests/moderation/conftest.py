"""Moderation fixtures: the community's club (a brand with two staff accounts and six customers,
the WeCom twin over real HTTP holding the same people, the brand connected to it)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from siyu.community.models import CustomerGroup
from siyu.moderation import subscribers
from siyu.wecom.events import GroupCreated, GroupUpdated
from tests.community.conftest import Club, club, twin  # noqa: F401 - fixtures

__all__ = ["club", "twin", "made_group", "joined", "removed"]


def made_group(club: Club, name: str, members: list[str] = (), owner: str = "staff0", **extra: Any) -> CustomerGroup:  # type: ignore[assignment]
    """A group made in the twin and read by the community app, as its subscriber would."""
    from siyu.community import subscribers as community_subscribers
    chat_id = club.group(name, list(members), owner=owner, **extra)
    community_subscribers.keep_group_created(club.workspace, GroupCreated(occurred_at=timezone.now(), chat_id=chat_id),
                                             None)
    return CustomerGroup.objects.for_workspace(club.workspace).get(chat_id=chat_id)


def _event(club: Club, chat_id: str, detail: str, userid: str, last: str, **extra: Any) -> GroupUpdated:
    return GroupUpdated(occurred_at=timezone.now(), chat_id=chat_id, update_detail=detail, member_changes=[userid],
                        member_change_count=1, last_member_version=last,
                        current_member_version=club.version(chat_id), **extra)


def joined(club: Club, group: CustomerGroup, userid: str) -> GroupUpdated:
    """`userid` joins in the twin; moderation's subscriber sees the event (before community's)."""
    last = club.version(group.chat_id)
    club.join(group.chat_id, userid)
    event = _event(club, group.chat_id, "add_member", userid, last, join_scene=0)
    subscribers.screen_member_changes(club.workspace, event, None)
    return event


def removed(club: Club, group: CustomerGroup, userid: str, scene: str = "removed") -> GroupUpdated:
    last = club.version(group.chat_id)
    club.leave(group.chat_id, userid, scene=scene)
    event = _event(club, group.chat_id, "del_member", userid, last, quit_scene=1 if scene == "removed" else 0)
    subscribers.screen_member_changes(club.workspace, event, None)
    return event
