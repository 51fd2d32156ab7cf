"""社群's reactions to `change_external_chat` (WECOM.md §4). Every handler re-reads the group
from WeCom (or finds it already current by member version), so replays and events arriving out
of order converge on WeCom's state. The customers app keeps the timeline and engagement of the
same events (`customers.subscribers.keep_group_membership`)."""

from __future__ import annotations

from siyu.community import services
from siyu.community.sop_groups import group_changed
from siyu.core import events
from siyu.core.models import EventRecord, Workspace
from siyu.wecom.events import GroupCreated, GroupDismissed, GroupUpdated

MEMBER_CHANGES = ("add_member", "del_member")


@events.subscribe(GroupCreated)
def keep_group_created(workspace: Workspace, event: GroupCreated, record: EventRecord) -> None:
    services.refresh_group(workspace, event.chat_id)
    group_changed(workspace, event.chat_id, created=True, at=event.occurred_at)


@events.subscribe(GroupUpdated)
def keep_group_updated(workspace: Workspace, event: GroupUpdated, record: EventRecord) -> None:
    if event.update_detail in MEMBER_CHANGES:
        services.keep_member_change(workspace, event.chat_id, current_version=event.current_member_version,
                                    at=event.occurred_at, quit_scene=event.quit_scene,
                                    last_version=event.last_member_version, changed=event.member_changes)
        group_changed(workspace, event.chat_id, at=event.occurred_at)  # a member count SOP may start
    else:  # change_owner, change_name, change_notice: the group's facts, read again
        services.refresh_group(workspace, event.chat_id)


@events.subscribe(GroupDismissed)
def keep_group_dismissed(workspace: Workspace, event: GroupDismissed, record: EventRecord) -> None:
    services.mark_dismissed(workspace, event.chat_id, event.occurred_at)
