"""Posting moments in WeCom, at most once each, and following each job to its moment_id.

- `post_due` claims each scheduled post whose time has come (scheduled → posting, by a
  conditional UPDATE committed before WeCom is called) and calls `add_moment_task`. The jobid is
  recorded after; a retry never creates a second moment.
- A post left `posting` without a jobid (a crash, or no answer) is matched by `track` against
  `get_moment_list` since the claim (same text, a moment_id no other post holds); none after
  `GIVE_UP_UNMATCHED` means WeCom never made it, and the post fails.
- `track` polls `get_moment_task_result` with back-off; the jobid lasts 24 h (WECOM.md §6).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from siyu.accounts.models import StaffAccount
from siyu.content.models import Material, MaterialKind, MediaPurpose
from siyu.content.services import media_id_for
from siyu.core.auditing import audit_change, change
from siyu.core.models import AuditAction, Workspace
from siyu.moments.models import MomentPost, PostStatus
from siyu.moments.services.common import MODULE, SUBJECT
from siyu.moments.services.planning import ATTACHMENT_KIND
from siyu.tags.models import Tag
from siyu.wecom.client import Attachment, MomentSpec, WeComClient, WeComError, WeComUnavailable
from siyu.wecom.services import NotConnected, client_for

FIRST_CHECK = dt.timedelta(seconds=10)
MAX_CHECK_INTERVAL = dt.timedelta(minutes=30)
JOB_LIFETIME = dt.timedelta(hours=24)  # WECOM.md §6
LEASE = dt.timedelta(minutes=5)  # a check taken by a worker that died is taken again after this
RECONCILE_AFTER = dt.timedelta(minutes=2)
GIVE_UP_UNMATCHED = dt.timedelta(minutes=10)
JOB_DONE = 3


def _attachments(workspace: Workspace, post: MomentPost, now: dt.datetime) -> list[Attachment]:
    by_id = Material.objects.for_workspace(workspace).in_bulk(post.material_ids)
    out = []
    for material_id in post.material_ids:
        material = by_id.get(material_id)
        if material is None:
            raise ValidationError({"material_ids": "a chosen material was deleted"})
        kind = ATTACHMENT_KIND.get(MaterialKind(material.kind))
        if kind == "link":
            out.append(Attachment.of_link(material.title, material.url, desc=material.description))
        else:
            media_id = media_id_for(workspace, material, MediaPurpose.MOMENT, now)
            out.append(Attachment.model_validate({"msgtype": kind, kind: {"media_id": media_id}}))
    return out


def moment_spec(workspace: Workspace, post: MomentPost, now: dt.datetime) -> MomentSpec:
    users = list(StaffAccount.objects.for_workspace(workspace).filter(pk__in=post.sender_ids)
                 .order_by("userid").values_list("userid", flat=True))
    tags = [t for t in Tag.objects.for_workspace(workspace).filter(pk__in=post.tag_ids)
            .order_by("pk").values_list("wecom_tag_id", flat=True) if t]
    scope: dict[str, Any] = {}
    if users:
        scope["sender_list"] = {"user_list": users}
    if tags:
        scope["external_contact_list"] = {"tag_list": tags}
    return MomentSpec(text=post.text, attachments=_attachments(workspace, post, now), visible_range=scope or None)


def _status_change(workspace: Workspace, post: MomentPost, before: str, after: str) -> None:
    """The worker's status changes are audited with no actor."""
    audit_change(workspace, None, AuditAction.UPDATED, module=MODULE, subject=SUBJECT, name=str(post),
                 changes=[change(gettext_lazy("status"), PostStatus(before).label, PostStatus(after).label)],
                 data={"post": post.pk})


def _fail(workspace: Workspace, post: MomentPost, error: str) -> None:
    with transaction.atomic():
        if MomentPost.unscoped.filter(pk=post.pk, status=PostStatus.POSTING).update(
                status=PostStatus.FAILED, error=error[:300], next_check_at=None):
            _status_change(workspace, post, PostStatus.POSTING, PostStatus.FAILED)


def _posted(workspace: Workspace, post: MomentPost, moment_id: str, now: dt.datetime) -> None:
    with transaction.atomic():
        if MomentPost.unscoped.filter(pk=post.pk, status=PostStatus.POSTING).update(
                status=PostStatus.POSTED, moment_id=moment_id, posted_at=now, next_check_at=now, error=""):
            _status_change(workspace, post, PostStatus.POSTING, PostStatus.POSTED)


def claim(post: MomentPost, now: dt.datetime) -> bool:
    """Scheduled → posting, once: a second worker (or a retry) finds nothing to claim."""
    return bool(MomentPost.unscoped.filter(pk=post.pk, status=PostStatus.SCHEDULED).update(
        status=PostStatus.POSTING, claimed_at=now, next_check_at=now + RECONCILE_AFTER))


def send_claimed(workspace: Workspace, client: WeComClient, post: MomentPost, now: dt.datetime) -> None:
    """Call WeCom for a post this worker claimed, and record the answer."""
    try:
        spec = moment_spec(workspace, post, now)
        jobid = client.add_moment_task(spec)
    except WeComUnavailable as exc:  # it may have reached WeCom: never call again, look it up later
        MomentPost.unscoped.filter(pk=post.pk).update(error=str(exc)[:300])
        return
    except (WeComError, ValidationError, NotConnected) as exc:
        _fail(workspace, post, str(exc))
        return
    MomentPost.unscoped.filter(pk=post.pk, status=PostStatus.POSTING).update(
        jobid=jobid, next_check_at=now + FIRST_CHECK)


def open_client(workspace: Workspace, due: list[MomentPost]) -> WeComClient | None:
    """A client when there is work and a connection; without one, the posts wait for it."""
    if not due:
        return None
    try:
        return client_for(workspace)
    except NotConnected:
        return None


def post_due(workspace: Workspace, now: dt.datetime | None = None) -> int:
    """Post every scheduled post whose time has come; returns how many this call claimed."""
    now = now or timezone.now()
    due = list(MomentPost.objects.for_workspace(workspace)
               .filter(status=PostStatus.SCHEDULED, planned_at__lte=now).order_by("planned_at")[:100])
    if (client := open_client(workspace, due)) is None:
        return 0
    claimed = 0
    with client:
        for post in due:
            if claim(post, now):  # committed before WeCom is called
                claimed += 1
                send_claimed(workspace, client, post, now)
    return claimed


def _next_check(post: MomentPost, now: dt.datetime) -> dt.datetime:
    since = now - (post.claimed_at or now)
    return now + min(max(FIRST_CHECK, since), MAX_CHECK_INTERVAL)  # double the wait each time


def _check_job(workspace: Workspace, client: WeComClient, post: MomentPost, now: dt.datetime) -> None:
    if post.claimed_at and now - post.claimed_at > JOB_LIFETIME:
        _fail(workspace, post, "the WeCom job expired (24 h) before it finished")
        return
    try:
        result = client.get_moment_task_result(post.jobid)
    except WeComError as exc:
        MomentPost.unscoped.filter(pk=post.pk).update(error=str(exc)[:300], next_check_at=_next_check(post, now))
        return
    if result.status != JOB_DONE or result.result is None:
        MomentPost.unscoped.filter(pk=post.pk).update(next_check_at=_next_check(post, now))
    elif result.result.errcode or not result.result.moment_id:
        _fail(workspace, post, f"{result.result.errcode} {result.result.errmsg}")
    else:
        _posted(workspace, post, result.result.moment_id, now)


def _reconcile(workspace: Workspace, client: WeComClient, post: MomentPost, now: dt.datetime) -> None:
    claimed = post.claimed_at or now
    try:
        page = client.list_moments(int(claimed.timestamp()) - 60, int(now.timestamp()) + 60, filter_type=0)
    except WeComError as exc:
        MomentPost.unscoped.filter(pk=post.pk).update(error=str(exc)[:300], next_check_at=now + RECONCILE_AFTER)
        return
    ids = [m.moment_id for m in page.moment_list]
    known = set(MomentPost.unscoped.filter(workspace=workspace, moment_id__in=ids).values_list("moment_id", flat=True))
    found = next((m for m in page.moment_list if m.moment_id not in known
                  and (m.text.content if m.text else "") == post.text), None)
    if found is not None:
        _posted(workspace, post, found.moment_id, now)
    elif now - claimed > GIVE_UP_UNMATCHED:
        _fail(workspace, post, "WeCom has no moment for this post: it was never made")
    else:
        MomentPost.unscoped.filter(pk=post.pk).update(next_check_at=now + RECONCILE_AFTER)


def track(workspace: Workspace, now: dt.datetime | None = None) -> int:
    """Check every posting post whose check is due; returns how many were checked."""
    now = now or timezone.now()
    due = list(MomentPost.objects.for_workspace(workspace)
               .filter(status=PostStatus.POSTING, next_check_at__lte=now).order_by("next_check_at")[:200])
    if (client := open_client(workspace, due)) is None:
        return 0
    checked = 0
    with client:
        for post in due:
            # Claim the check: the value read moves on, so a second worker skips this post.
            if not MomentPost.unscoped.filter(pk=post.pk, next_check_at=post.next_check_at).update(
                    next_check_at=now + LEASE):
                continue
            checked += 1
            if post.jobid:
                _check_job(workspace, client, post, now)
            else:
                _reconcile(workspace, client, post, now)
    return checked
