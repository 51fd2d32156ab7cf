"""群活码's reactions to `change_external_chat` (WECOM.md §4): a join into a group of a code
rotates the code's groups; a new group may be the one WeCom opened for a waiting code."""

from __future__ import annotations

from siyu.core import events
from siyu.core.models import EventRecord, Workspace
from siyu.groupcodes import services
from siyu.wecom.events import GroupCreated, GroupUpdated


@events.subscribe(GroupUpdated)
def rotate_on_join(workspace: Workspace, event: GroupUpdated, record: EventRecord) -> None:
    if event.update_detail == "add_member":
        services.on_member_joined(workspace, event.chat_id, event.current_member_version)


@events.subscribe(GroupCreated)
def link_new_group(workspace: Workspace, event: GroupCreated, record: EventRecord) -> None:
    services.on_group_created(workspace, event.chat_id)
