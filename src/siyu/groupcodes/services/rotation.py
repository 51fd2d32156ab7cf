"""群活码轮换 — rotating a group code's groups by live member counts (WECOM.md §4).

WeCom lets people join a group by QR only below 200 members and holds at most 500; a join way
sends each scan to the first of its (<= 5) groups still open to QR joins, and with
`auto_create_room` opens a new group (`room_base_name` + `room_base_id`, counting up) once none
is. Siyu's part, on every join into a group of a code:

- count from the callbacks: under the code's row lock, the group the join is about is read again
  unless we already hold the event's `CurMemVer` (community's `keep_member_change`; community is
  the only writer of members), so the count is the one after this join whatever order the events
  arrive in;
- unbind groups at the code's QR cap (`update_join_way` with the others), which enforces a cap
  set below WeCom's 200. The last group stays bound: a join way needs one, and WeCom opens the
  next group from it. WeCom has no API to create a customer group, so only auto_create_room (or
  staff binding one) brings the next;
- record a group WeCom added to the join way as the next generation of the chain, the child of
  the newest one.

Rotations of one code run one at a time (`select_for_update` on the code row, held across the
two or three WeCom calls: a rotation that read the join way before another one wrote it would
bind closed groups again or drop the group WeCom just opened). Replays are harmless: a rotation
reads WeCom's join way and converges on it.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from siyu.community import services as community
from siyu.community.models import CustomerGroup, GroupMember
from siyu.core.models import Workspace
from siyu.groupcodes.models import CodeStatus, GroupCode, GroupCodeLink, LinkOrigin
from siyu.wecom.client import GroupChatMissing, JoinWayMissing, JoinWayUpdate
from siyu.wecom.services import client_for

logger = logging.getLogger("siyu.groupcodes")

LIVE = (CodeStatus.ACTIVE, CodeStatus.WAITING, CodeStatus.EXHAUSTED)


@dataclass(frozen=True)
class Rotation:
    code_id: int
    bound: list[str]
    unbound: list[str]  # taken off the join way by this rotation
    new_generations: list[int]  # groups WeCom opened, first seen by this rotation
    status: str


def rotate(workspace: Workspace, code_id: int, *, joined_chat: str = "", joined_version: str = "",
           now: dt.datetime | None = None) -> Rotation | None:
    """Bring the code's join way and chain in line with its groups' live counts. `joined_chat`,
    when given, is read again from WeCom first (a join into it is what this rotation is for),
    unless we already hold its `joined_version` (the event's CurMemVer)."""
    now = now or timezone.now()
    with transaction.atomic():
        code = GroupCode.objects.for_workspace(workspace).select_for_update().filter(pk=code_id).first()
        if code is None or code.status not in LIVE or not code.config_id:
            return None
        if joined_chat:
            community.keep_member_change(workspace, joined_chat, current_version=joined_version, at=now)
        with client_for(workspace) as client:
            try:
                fresh = list(client.get_join_way(code.config_id).chat_id_list)
            except JoinWayMissing:
                logger.warning("join way of group code %s is gone at WeCom", code.pk)
                GroupCode.objects.for_workspace(workspace).filter(pk=code.pk).update(status=CodeStatus.EXHAUSTED)
                return None
            links = {link.chat_id: link for link in GroupCodeLink.objects.for_workspace(workspace).filter(code=code)}
            # A group WeCom opened and already dropped from the list (it keeps 5) is known by
            # its members' state: it still belongs to the chain.
            extra = [joined_chat] if joined_chat and joined_chat not in fresh and joined_chat not in links else []
            made = _link_new(workspace, code, extra + fresh, links)
            counts = dict(CustomerGroup.objects.for_workspace(workspace)
                          .filter(chat_id__in=list(links)).values_list("chat_id", "member_count"))
            closed = {c for c in fresh if counts.get(c, 0) >= code.qr_cap}
            keep = [c for c in fresh if c not in closed]
            if keep:
                status = CodeStatus.ACTIVE
            else:  # the newest stays: WeCom opens the next group from it
                keep = fresh[-1:]
                status = CodeStatus.WAITING if code.auto_create_room else CodeStatus.EXHAUSTED
            if keep != fresh:
                client.update_join_way(JoinWayUpdate(config_id=code.config_id, chat_id_list=keep))
        _stamp(workspace, code, counts, keep, now)
        GroupCode.objects.for_workspace(workspace).filter(pk=code.pk).update(
            chat_ids=keep, status=status, rotated_at=now)
    return Rotation(code.pk, keep, [c for c in fresh if c not in keep], [link.generation for link in made], status)


def _link_new(workspace: Workspace, code: GroupCode, fresh: list[str],
              links: dict[str, GroupCodeLink]) -> list[GroupCodeLink]:
    """Groups on the join way that the chain does not hold yet: WeCom opened them
    (auto_create_room), or staff bound them in WeCom's admin console."""
    made = []
    last = max(links.values(), key=lambda link: link.generation, default=None)
    for chat_id in fresh:
        if chat_id in links:
            continue
        last = GroupCodeLink.objects.create(
            workspace=workspace, code=code, chat_id=chat_id, generation=(last.generation if last else 0) + 1,
            parent=last, origin=LinkOrigin.CREATED if code.auto_create_room and last is not None else LinkOrigin.BOUND)
        links[chat_id] = last
        made.append(last)
    return made


def _stamp(workspace: Workspace, code: GroupCode, counts: dict[str, int], keep: list[str],
           now: dt.datetime) -> None:
    links = GroupCodeLink.objects.for_workspace(workspace).filter(code=code)
    links.filter(bound=True).exclude(chat_id__in=keep).update(bound=False, unbound_at=now)
    links.filter(bound=False, chat_id__in=keep).update(bound=True, unbound_at=None)
    closed = [c for c, n in counts.items() if n >= code.qr_cap]
    full = [c for c, n in counts.items() if n >= code.full_at]
    links.filter(chat_id__in=closed, closed_at__isnull=True).update(closed_at=now)
    links.filter(chat_id__in=full, full_since__isnull=True).update(full_since=now)


# --- reacting to change_external_chat -------------------------------------------------------------

def _live_codes(workspace: Workspace) -> QuerySet[GroupCode]:
    return GroupCode.objects.for_workspace(workspace).filter(status__in=LIVE).exclude(config_id="")


def codes_of_chat(workspace: Workspace, chat_id: str) -> list[int]:
    """Codes whose chain holds the group, or whose `state` a member of it joined with (a group
    WeCom opened for a code and that the chain has not recorded yet)."""
    linked = set(GroupCodeLink.objects.for_workspace(workspace).filter(chat_id=chat_id)
                 .values_list("code_id", flat=True))
    states = set(GroupMember.objects.for_workspace(workspace).filter(group__chat_id=chat_id)
                 .exclude(state="").values_list("state", flat=True).distinct())
    by_state = set(_live_codes(workspace).filter(state__in=states).values_list("pk", flat=True)) if states else set()
    return sorted(linked | by_state)


def on_member_joined(workspace: Workspace, chat_id: str, current_version: str = "") -> list[Rotation]:
    """add_member: rotate every code the group belongs to. Nothing at all for a brand without
    live group codes."""
    if not _live_codes(workspace).exists():
        return []
    code_ids = codes_of_chat(workspace, chat_id)
    if not GroupCodeLink.objects.for_workspace(workspace).filter(chat_id=chat_id).exists():
        # Maybe a group WeCom just opened for a code: its members' state tells. Read from WeCom,
        # not through community's rows, so no group row is locked before a code row (rotations
        # lock the code, then the group: one order, no deadlock).
        try:
            with client_for(workspace) as client:
                chat = client.get_group(chat_id)
        except GroupChatMissing:
            return []
        states = {m.state for m in chat.member_list if m.state}
        code_ids = sorted(set(code_ids) | set(_live_codes(workspace).filter(state__in=states)
                                               .values_list("pk", flat=True)))
    return [r for code_id in code_ids
            if (r := rotate(workspace, code_id, joined_chat=chat_id, joined_version=current_version)) is not None]


def on_group_created(workspace: Workspace, chat_id: str) -> list[Rotation]:
    """A new group: if a code was waiting for WeCom's next group, that may be it (WeCom adds it to
    the join way). Codes with auto_create_room whose bound groups are all at the cap are asked."""
    codes = list(_live_codes(workspace).filter(auto_create_room=True))
    counts = dict(CustomerGroup.objects.for_workspace(workspace)
                  .filter(chat_id__in={c for code in codes for c in code.chat_ids})
                  .values_list("chat_id", "member_count"))
    candidates = [code.pk for code in codes
                  if code.status == CodeStatus.WAITING or all(counts.get(c, 0) >= code.qr_cap for c in code.chat_ids)]
    return [r for code_id in candidates if (r := rotate(workspace, code_id)) is not None]


def rotate_all(workspace: Workspace) -> int:
    """Every live code once (the cron's safety net for a callback that never came)."""
    n = 0
    for code_id in _live_codes(workspace).filter(~Q(status=CodeStatus.EXPIRED)).values_list("pk", flat=True):
        n += rotate(workspace, code_id) is not None
    return n
