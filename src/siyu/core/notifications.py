"""站内通知 — console notifications for one member: a churn alert, a capacity alert, anything a
module wants a person to see next time they open the console.

A notice belongs to one membership and only that member reads it (the services take the
member's own seat, never an id chosen by the caller). `notify` is idempotent by `dedupe_key`
(unique per member), so an event handler that runs twice leaves one notice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.utils import timezone

from siyu.core.models import Membership, Notification, Workspace
from siyu.core.permissions import Role

PAGE_SIZE = 30
TITLE_MAX, BODY_MAX, URL_MAX, KEY_MAX = 120, 500, 300, 120


@dataclass(frozen=True)
class Notice:
    """What to tell: the same notice may go to several members. `title` and `body` are message
    ids (mark them with `gettext_noop`) filled with `params` when shown, in the reader's language."""

    kind: str
    title: str
    body: str = ""
    url: str = ""
    dedupe_key: str = ""
    params: dict[str, Any] = field(default_factory=dict)


def notify(
    workspace: Workspace,
    membership: Membership,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    dedupe_key: str = "",
    params: dict[str, Any] | None = None,
) -> bool:
    """One notice for one member; True if it was created, False if this member already had the
    notice with this `dedupe_key` (a replayed event) or the member is of another brand."""
    return notify_many(workspace, [membership], Notice(kind, title, body, url, dedupe_key, params or {})) == 1


def notify_many(workspace: Workspace, memberships: Iterable[Membership | None], notice: Notice) -> int:
    """The same notice for several members (each once; members of other brands are skipped).
    An insert that ignores the unique conflict, so two workers cannot both add it. Returns how
    many notices were new."""
    seats = {m.pk: m for m in memberships if m is not None and m.workspace_id == workspace.pk}
    if not seats:
        return 0
    key = notice.dedupe_key[:KEY_MAX]
    if key:
        already = set(Notification.unscoped.filter(workspace=workspace, membership_id__in=seats, dedupe_key=key)
                      .values_list("membership_id", flat=True))
        seats = {pk: m for pk, m in seats.items() if pk not in already}
    rows = [
        Notification(workspace=workspace, membership_id=pk, kind=notice.kind[:40], title=notice.title[:TITLE_MAX],
                     body=notice.body[:BODY_MAX], params=notice.params, url=notice.url[:URL_MAX], dedupe_key=key)
        for pk in seats
    ]
    Notification.unscoped.bulk_create(rows, ignore_conflicts=bool(key))
    return len(rows)


def leads_of(workspace: Workspace) -> list[Membership]:
    """Who hears about the brand's alerts besides an account's operator: every ops lead, or
    every admin when the brand has no ops lead."""
    seats = list(Membership.objects.for_workspace(workspace).filter(role__in=[Role.OPS_LEAD, Role.ADMIN])
                 .select_related("user"))
    leads = [m for m in seats if m.role == Role.OPS_LEAD]
    return leads or [m for m in seats if m.role == Role.ADMIN]


def _mine(workspace: Workspace, membership: Membership) -> QuerySet[Notification]:
    if membership is None or membership.workspace_id != workspace.pk:
        return Notification.objects.for_workspace(workspace).none()
    return Notification.objects.for_workspace(workspace).filter(membership=membership)


def unread_count(workspace: Workspace, membership: Membership) -> int:
    """The member's unread notices (an indexed count: membership, read_at)."""
    return _mine(workspace, membership).filter(read_at__isnull=True).count()


def list_for(workspace: Workspace, membership: Membership, *, unread_only: bool = False) -> QuerySet[Notification]:
    """The member's own notices, newest first."""
    notices = _mine(workspace, membership)
    if unread_only:
        notices = notices.filter(read_at__isnull=True)
    return notices.order_by("-created_at", "-id")


def page_for(workspace: Workspace, membership: Membership, page: int | str = 1, *, unread_only: bool = False) -> Page:
    return Paginator(list_for(workspace, membership, unread_only=unread_only), PAGE_SIZE).get_page(page)


def mark_read(workspace: Workspace, membership: Membership, notification_ids: Iterable[int] | None = None) -> int:
    """Mark the member's notices read: the given ids, or all of them (`None`). Ids of other
    members' notices are ignored. Returns how many changed."""
    notices = _mine(workspace, membership).filter(read_at__isnull=True)
    if notification_ids is not None:
        notices = notices.filter(pk__in=list(notification_ids))
    return notices.update(read_at=timezone.now())
