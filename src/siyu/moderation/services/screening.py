"""What moderation does when WeCom reports members joining or leaving a group (`change_external_chat`
update, WECOM.md §4). The community app is the only writer of members; its `keep_member_change`
is idempotent (nothing to do once it holds the event's member version), so calling it here makes
the member rows current whichever subscriber runs first, without a second read of the group."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from siyu.community import services as community
from siyu.community.models import CustomerGroup, GroupMember, MemberKind
from siyu.core.models import Workspace
from siyu.moderation.services.alerts import screen_nicknames
from siyu.moderation.services.blacklist import blacklist_removed, flag_joins
from siyu.wecom.client import GroupChatMissing
from siyu.wecom.services import client_for

QUIT_REMOVED = 1  # QuitScene: 0 left, 1 removed by the owner or an admin (WECOM.md §4)


@dataclass(frozen=True)
class Screened:
    blacklisted: int = 0
    flagged: int = 0
    alerts: int = 0


def screen_member_change(workspace: Workspace, *, chat_id: str, update_detail: str, userids: list[str],
                         current_version: str, at: dt.datetime, quit_scene: int | None = None) -> Screened:
    if update_detail not in ("add_member", "del_member") or not userids:
        return Screened()
    group = community.keep_member_change(workspace, chat_id, current_version=current_version, at=at,
                                         quit_scene=quit_scene)
    if group is None:
        return Screened()
    if update_detail == "del_member":
        if quit_scene != QUIT_REMOVED:
            return Screened()
        return Screened(blacklisted=blacklist_removed(workspace, chat_id, userids, at))
    group = CustomerGroup.objects.for_workspace(workspace).select_related("owner").get(pk=group.pk)
    rows = list(GroupMember.objects.for_workspace(workspace)
                .filter(group=group, userid__in=userids, left_at__isnull=True).select_related("customer"))
    flagged = len(flag_joins(workspace, group, rows, at))
    _fill_names(workspace, chat_id, rows)
    return Screened(flagged=flagged, alerts=len(screen_nicknames(workspace, group, rows, at)))


def _fill_names(workspace: Workspace, chat_id: str, rows: list[GroupMember]) -> None:
    """Members' WeChat names, for the keyword check, where the community app holds no nickname:
    it reads groups without `need_name`, so only a group nickname a member set arrives. One more
    read of the group, only when a joining customer has no name; the names stay in memory (the
    community app is the only writer of members)."""
    missing = [r for r in rows if r.kind == MemberKind.CUSTOMER and not r.nickname]
    if not missing:
        return
    try:
        with client_for(workspace) as client:
            chat = client.get_group(chat_id, need_name=True)
    except GroupChatMissing:
        return
    names = {m.userid: m.group_nickname or m.name for m in chat.member_list}
    for row in missing:
        row.nickname = names.get(row.userid, "")[:64]
