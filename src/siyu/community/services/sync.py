"""客户群同步 — keep the brand's customer groups in line with WeCom (WECOM.md §4).

`apply_group` writes one `groupchat/get` answer: the group's facts and its members, reconciled
(new members added, a rejoin reopened, members WeCom no longer lists closed with `left_at`).
It is the only writer of members, so the full sync and every event converge on WeCom's truth:
an event whose `CurMemVer` we already hold changes nothing, and any other re-reads the group,
so a replay or an event arriving out of order re-applies the current state.

The full sync pages `groupchat/list` (cursor) and reads each group; a page and the sync's cursor
are saved in one transaction, so a cut-off sync resumes at its page. One running sync per brand.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Collection
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from siyu.accounts.models import StaffAccount
from siyu.accounts.services import account_for_userid
from siyu.community.models import CustomerGroup, GroupMember, GroupSync, MemberKind, SyncStatus
from siyu.core import queue
from siyu.core.models import Workspace
from siyu.core.permissions import Action, Seat, require, role_of
from siyu.customers.models import Customer
from siyu.wecom.client import GroupChat, GroupChatMissing, WeComError
from siyu.wecom.services import client_for

logger = logging.getLogger("siyu.community")

MODULE = "community"
GROUPS_PER_PAGE = 100  # groupchat/list limit is 1..1000 (WECOM.md §4); 100 keeps a page's reads short
STALE_AFTER = dt.timedelta(minutes=10)
MEMBER_STAFF = 1  # groupchat/get member type: 1 staff, 2 external
MEMBER_FACTS = ("kind", "customer_id", "nickname", "join_time", "join_scene", "invitor", "state")


def _at(ts: int) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(ts, tz=dt.UTC) if ts else None


def _owner(workspace: Workspace, userid: str, cache: dict[str, StaffAccount]) -> StaffAccount | None:
    if not userid:
        return None
    if userid not in cache:
        cache[userid] = account_for_userid(workspace, userid)
    return cache[userid]


def apply_group(workspace: Workspace, chat: GroupChat, *, sync_id: int | None = None,
                left_at: dt.datetime | None = None, quit_scene: int | None = None,
                owners: dict[str, StaffAccount] | None = None,
                changed: Collection[str] | None = None, base_version: str = "") -> CustomerGroup:
    """Write one `groupchat/get` answer (call inside a transaction). Idempotent. Members WeCom no
    longer lists leave at `left_at` (the event's time when an event told us, else now).

    `changed` (with `base_version`): only these members changed since `base_version`, so only
    their rows are compared, not the whole group's (a join event in a group of 500). Used only
    while we still hold `base_version` under the group's row lock; otherwise every member is."""
    now = timezone.now()
    members = {m.userid: m for m in chat.member_list}
    group = CustomerGroup.objects.for_workspace(workspace).select_for_update().filter(chat_id=chat.chat_id).first()
    facts: dict[str, Any] = {
        "name": chat.name[:200], "owner_userid": chat.owner[:64], "notice": chat.notice,
        "created_at": _at(chat.create_time), "member_version": chat.member_version[:64], "synced_at": now,
        "member_count": len(members),
        "customer_count": sum(1 for m in members.values() if m.type != MEMBER_STAFF),
        "dismissed_at": None,
    }
    if group is not None and group.owner_userid == facts["owner_userid"]:
        facts["owner_id"] = group.owner_id  # the same owner: no lookup on every join
    else:
        owner = _owner(workspace, chat.owner, owners if owners is not None else {})
        facts["owner_id"] = owner.pk if owner else None
    if sync_id is not None:
        facts["last_sync_id"] = sync_id
    created = False
    if group is None:
        group, created = CustomerGroup.objects.for_workspace(workspace).select_for_update().get_or_create(
            workspace=workspace, chat_id=chat.chat_id, defaults=facts)
    if created or group.member_version != base_version:
        changed = None
    if changed is not None:
        members = {userid: m for userid, m in members.items() if userid in changed}
    customers = dict(Customer.objects.for_workspace(workspace)
                     .filter(external_userid__in=[u for u, m in members.items() if m.type != MEMBER_STAFF])
                     .values_list("external_userid", "pk"))
    if not created:
        CustomerGroup.unscoped.filter(pk=group.pk).update(**facts)
        for key, value in facts.items():
            setattr(group, key, value)
    # Compared as tuples, not model instances: a join event re-applies a group of up to 500 members.
    held = {userid: (pk, left_at, tuple(rest)) for userid, pk, left_at, *rest in
            GroupMember.objects.for_workspace(workspace)
            .filter(group=group, **({} if changed is None else {"userid__in": list(changed)}))
            .values_list("userid", "pk", "left_at", *MEMBER_FACTS)}
    new_rows = []
    for userid, m in members.items():
        values = (MemberKind.STAFF if m.type == MEMBER_STAFF else MemberKind.CUSTOMER, customers.get(userid),
                  (m.group_nickname or m.name)[:64], _at(m.join_time), m.join_scene,
                  (m.invitor.userid if m.invitor else "")[:64], m.state[:30])
        row = held.get(userid)
        if row is None:
            new_rows.append(GroupMember(workspace=workspace, group=group, userid=userid[:64],
                                        **dict(zip(MEMBER_FACTS, values, strict=True))))
        elif row[1] is not None or row[2] != values:
            GroupMember.unscoped.filter(pk=row[0]).update(left_at=None, quit_scene=None,
                                                          **dict(zip(MEMBER_FACTS, values, strict=True)))
    GroupMember.unscoped.bulk_create(new_rows, ignore_conflicts=True)
    gone = [pk for userid, (pk, left, _facts) in held.items() if userid not in members and left is None]
    if gone:
        GroupMember.unscoped.filter(pk__in=gone, left_at__isnull=True).update(
            left_at=left_at or now, quit_scene=quit_scene)
    return group


def mark_dismissed(workspace: Workspace, chat_id: str, at: dt.datetime) -> int:
    """群解散: kept with its members for the history; idempotent (the first time seen wins)."""
    return CustomerGroup.objects.for_workspace(workspace).filter(chat_id=chat_id, dismissed_at__isnull=True).update(
        dismissed_at=at)


def refresh_group(workspace: Workspace, chat_id: str, *, left_at: dt.datetime | None = None,
                  quit_scene: int | None = None, changed: Collection[str] | None = None,
                  base_version: str = "", expected_version: str = "") -> CustomerGroup | None:
    """Read one group from WeCom and apply it; a group WeCom no longer knows is dismissed. With
    `changed`, only those members are compared when WeCom answers at `expected_version` (the
    event's own result) and we still hold `base_version` (see `apply_group`)."""
    try:
        with client_for(workspace) as client:
            chat = client.get_group(chat_id)
    except GroupChatMissing:
        mark_dismissed(workspace, chat_id, timezone.now())
        return None
    if changed is not None and chat.member_version != expected_version:
        changed = None  # WeCom has moved on since the event: compare every member
    with transaction.atomic():
        return apply_group(workspace, chat, left_at=left_at, quit_scene=quit_scene, changed=changed,
                           base_version=base_version)


def keep_member_change(workspace: Workspace, chat_id: str, *, current_version: str, at: dt.datetime,
                       quit_scene: int | None = None, last_version: str = "",
                       changed: Collection[str] = ()) -> CustomerGroup | None:
    """add_member / del_member: nothing to do when we already hold `CurMemVer` (a replay, or a
    later read already saw it); otherwise the group is read again, which also repairs any change
    we missed between `LastMemVer` and now. When we hold `LastMemVer` and the event names its
    members (`MemChangeList`), only their rows are written."""
    held = CustomerGroup.objects.for_workspace(workspace).filter(chat_id=chat_id).first()
    if held is not None and current_version and held.member_version == current_version:
        return held
    incremental = held is not None and bool(last_version) and held.member_version == last_version and bool(changed)
    return refresh_group(workspace, chat_id, left_at=at, quit_scene=quit_scene,
                         changed=set(changed) if incremental else None, base_version=last_version,
                         expected_version=current_version)


# --- the full sync ------------------------------------------------------------------------------

def running_sync(workspace: Workspace) -> GroupSync | None:
    return GroupSync.objects.for_workspace(workspace).filter(status=SyncStatus.RUNNING).first()


def start_sync(workspace: Workspace, membership: Seat | None, *, enqueue: bool = True) -> GroupSync:
    """Start a full group sync (run by a worker). A stale running sync is resumed instead."""
    require(role_of(membership), MODULE, Action.EDIT)
    with transaction.atomic():
        Workspace.objects.select_for_update().filter(pk=workspace.pk).first()
        running = running_sync(workspace)
        if running is not None:
            if timezone.now() - running.updated_at <= STALE_AFTER:
                raise ValidationError(_("A group sync is already running."))
            sync = running
        else:
            sync = GroupSync.objects.create(workspace=workspace)
        if enqueue:
            queue.enqueue("siyu.community.tasks.run_group_sync", workspace.pk, sync.pk)
    return sync


def _finish_unlisted(workspace: Workspace, sync: GroupSync) -> int:
    """Groups we hold as live that a complete sync no longer listed were dismissed while the
    callback was missed. Only groups known before the sync began (newer ones may sit behind the
    cursor)."""
    return (CustomerGroup.objects.for_workspace(workspace)
            .filter(dismissed_at__isnull=True, synced_at__lt=sync.started_at)
            .filter(Q(last_sync_id__isnull=True) | ~Q(last_sync_id=sync.pk))
            .update(dismissed_at=timezone.now()))


def run_sync(workspace: Workspace, sync_id: int, *, max_pages: int | None = None) -> GroupSync:
    """Work a running sync until done, failed or `max_pages` pages applied. Each page's groups
    are read first (no transaction held across WeCom calls), then applied with the cursor."""
    sync = GroupSync.objects.for_workspace(workspace).get(pk=sync_id)
    pages = 0
    owners: dict[str, StaffAccount] = {}
    try:
        with client_for(workspace) as client:
            while sync.status == SyncStatus.RUNNING:
                if max_pages is not None and pages >= max_pages:
                    return sync
                page = client.list_groups(cursor=sync.cursor, limit=GROUPS_PER_PAGE)
                chats: list[GroupChat] = []
                for ref in page.group_chat_list:
                    try:
                        chats.append(client.get_group(ref.chat_id))
                    except GroupChatMissing:
                        continue  # dismissed between the list and the read
                with transaction.atomic():
                    if not GroupSync.unscoped.filter(pk=sync.pk, cursor=sync.cursor, pages=sync.pages,
                                                     status=SyncStatus.RUNNING).update(
                            cursor=page.next_cursor[:200], pages=sync.pages + 1,
                            groups_seen=sync.groups_seen + len(chats), updated_at=timezone.now()):
                        return sync  # another worker saved this page first
                    for chat in chats:
                        apply_group(workspace, chat, sync_id=sync.pk, owners=owners)
                    sync.refresh_from_db()
                    if not page.next_cursor:
                        _finish_unlisted(workspace, sync)
                        GroupSync.unscoped.filter(pk=sync.pk).update(status=SyncStatus.DONE,
                                                                      finished_at=timezone.now())
                        sync.refresh_from_db()
                pages += 1
    except WeComError as exc:
        GroupSync.unscoped.filter(pk=sync.pk).update(status=SyncStatus.FAILED, error=str(exc)[:300],
                                                      finished_at=timezone.now())
        sync.refresh_from_db()
    return sync
