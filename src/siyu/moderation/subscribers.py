"""群规与治理's reaction to members joining and leaving groups: blacklist the removed, flag the
blacklisted on joining, check nicknames against the keyword list. Idempotent (hits and alerts
are unique per join, entries per person)."""

from __future__ import annotations

from siyu.core import events
from siyu.core.models import EventRecord, Workspace
from siyu.moderation.services import screen_member_change
from siyu.wecom.events import GroupUpdated


@events.subscribe(GroupUpdated)
def screen_member_changes(workspace: Workspace, event: GroupUpdated, record: EventRecord | None) -> None:
    screen_member_change(workspace, chat_id=event.chat_id, update_detail=event.update_detail,
                         userids=list(event.member_changes), current_version=event.current_member_version,
                         at=event.occurred_at, quit_scene=event.quit_scene)
