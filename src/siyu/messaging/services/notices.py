"""Notices to staff (应用消息): an outbox of `StaffNotice` rows sent with `message/send`.

Any app queues with `notify_staff` (one row per brand, source, ref and account: asking twice
queues once); `send_due_notices` (the brand's minute task) sends what is due, **paced within
WeCom's limits** (WECOM.md §10): a member receives at most 30 a minute and 1,000 an hour, and
WeCom drops the excess without an error, so Siyu never sends past them and moves the rest to
the next minute; an app sends at most licences x 200 person-times a Shanghai day (the brand's
active staff accounts stand for its licences).

- Each notice is claimed queued → sending by a conditional UPDATE and committed before WeCom is
  called: a worker that dies leaves it `sending`, and after `LEASE` it is marked failed, never
  sent again.
- No answer or WeCom's frequency limit: queued again with back-off (1, 2, 4, 8 minutes), failed
  after `MAX_ATTEMPTS`; other errors and members WeCom does not know fail at once, with the reason.
- The pacing window is counted from when each notice was handed to WeCom (`claimed_at`, set
  just before the call), with a margin for the network, under a lock on the account's row so
  two workers never both spend a member's last slots.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from siyu.accounts.models import StaffAccount
from siyu.core.auditing import audit_change, fact
from siyu.core.models import AuditAction, Workspace
from siyu.core.queue import enqueue
from siyu.messaging.models import NoticeStatus, StaffNotice
from siyu.messaging.services.planning import MODULE
from siyu.wecom.client import (
    NoticeCard,
    RateLimited,
    StaffNoticeSpec,
    WeComClient,
    WeComError,
    WeComUnavailable,
)
from siyu.wecom.services import NotConnected, client_for

SHANGHAI = ZoneInfo("Asia/Shanghai")
PER_MEMBER_MINUTE = 30  # WECOM.md §10: the excess is dropped silently
PER_MEMBER_HOUR = 1_000
PER_LICENCE_DAY = 200  # person-times per licence per day, per app
MARGIN = dt.timedelta(seconds=5)  # WeCom stamps a notice on arrival, a little after we hand it over
MAX_ATTEMPTS = 5
BACK_OFF = dt.timedelta(minutes=1)
LEASE = dt.timedelta(minutes=10)
TEXT_MAX_BYTES = 2048  # WeCom cuts longer text; we cut it ourselves, on a character boundary
CARD_TITLE_MAX_BYTES = 128
CARD_DESCRIPTION_MAX_BYTES = 512


def _cut(text: str, max_bytes: int) -> str:
    return text.encode("utf-8")[:max_bytes].decode("utf-8", "ignore")


def notify_staff(workspace: Workspace, *, accounts: Iterable[StaffAccount], text: str, source: str, ref: str,
                 title: str = "", url: str = "", now: dt.datetime | None = None) -> int:
    """Queue one notice per account (a textcard when `title` and `url` are given, else text);
    returns how many were new. The same (source, ref, account) again queues nothing."""
    if not text.strip() or not source or not ref:
        raise ValidationError(_("A notice to staff needs a text, a source and a reference."))
    if bool(title) != bool(url):
        raise ValidationError(_("A card notice needs both a title and a link."))
    now = now or timezone.now()
    ids = sorted({a.pk for a in accounts if a.workspace_id == workspace.pk})
    if not ids:
        return 0
    same = StaffNotice.objects.for_workspace(workspace).filter(source=source, ref=ref, account_id__in=ids)
    with transaction.atomic():
        before = same.count()
        StaffNotice.unscoped.bulk_create([
            StaffNotice(workspace=workspace, account_id=pk, source=source, ref=ref, text=text, title=title, url=url,
                        due_at=now) for pk in ids], ignore_conflicts=True)
        queued = same.count() - before
        if queued:
            audit_change(workspace, None, AuditAction.CREATED, module=MODULE,
                         subject=gettext_lazy("notice to staff"), name=title or _cut(text, 60),
                         facts=[fact(gettext_lazy("source"), source), fact(gettext_lazy("recipients"), queued)],
                         data={"source": source, "ref": ref})
            enqueue("siyu.messaging.tasks.send_notices", workspace.pk)
    return queued


def _spec(notice: StaffNotice, userid: str) -> StaffNoticeSpec:
    if notice.title and notice.url:
        card = NoticeCard(title=_cut(notice.title, CARD_TITLE_MAX_BYTES),
                          description=_cut(notice.text, CARD_DESCRIPTION_MAX_BYTES), url=notice.url)
        return StaffNoticeSpec(touser=[userid], msgtype="textcard", textcard=card)
    return StaffNoticeSpec(touser=[userid], content=_cut(notice.text, TEXT_MAX_BYTES))


def _day_start(now: dt.datetime) -> dt.datetime:
    return dt.datetime.combine(now.astimezone(SHANGHAI).date(), dt.time(), SHANGHAI)


def _app_day_left(workspace: Workspace, now: dt.datetime) -> int:
    licences = max(StaffAccount.objects.for_workspace(workspace).filter(active=True).count(), 1)
    used = StaffNotice.objects.for_workspace(workspace).filter(claimed_at__gte=_day_start(now)).count()
    return licences * PER_LICENCE_DAY - used


def _next_room(mine: QuerySet[StaffNotice], now: dt.datetime, in_minute: int, day_left: int) -> dt.datetime:
    """When a member's deferred notices may go: tomorrow when the app's day is spent, when the
    oldest notice of the last minute leaves WeCom's window, else (the hour is full) a minute on."""
    if day_left <= 0:
        return _day_start(now) + dt.timedelta(days=1)
    if in_minute >= PER_MEMBER_MINUTE:
        oldest = (mine.filter(claimed_at__gt=now - dt.timedelta(minutes=1) - MARGIN).order_by("claimed_at")
                  .values_list("claimed_at", flat=True).first())
        if oldest is not None:
            return max(oldest + dt.timedelta(minutes=1) + MARGIN, now)
    return now + dt.timedelta(minutes=1)


def _claim(workspace: Workspace, account_id: int, now: dt.datetime, day_left: int) -> list[StaffNotice]:
    """Take the account's due notices it may still receive now; move the rest to the next minute."""
    mine = StaffNotice.objects.for_workspace(workspace).filter(account_id=account_id)
    with transaction.atomic():
        list(StaffAccount.unscoped.select_for_update().filter(pk=account_id).values_list("pk"))
        minute = mine.filter(claimed_at__gt=now - dt.timedelta(minutes=1) - MARGIN).count()
        hour = mine.filter(claimed_at__gt=now - dt.timedelta(hours=1) - MARGIN).count()
        room = max(min(PER_MEMBER_MINUTE - minute, PER_MEMBER_HOUR - hour, day_left), 0)
        due = mine.filter(status=NoticeStatus.QUEUED, due_at__lte=now).order_by("due_at", "pk")
        ids = list(due.values_list("pk", flat=True)[:room])
        StaffNotice.unscoped.filter(pk__in=ids, status=NoticeStatus.QUEUED).update(
            status=NoticeStatus.SENDING, claimed_at=now)
        due.exclude(pk__in=ids).update(due_at=_next_room(mine, now, minute + len(ids), day_left - len(ids)))
    return list(StaffNotice.unscoped.filter(pk__in=ids).select_related("account").order_by("due_at", "pk"))


def _send(client: WeComClient, notice: StaffNotice, at: dt.datetime) -> bool:
    """Hand one claimed notice to WeCom; True when it was accepted."""
    rows = StaffNotice.unscoped.filter(pk=notice.pk, status=NoticeStatus.SENDING)
    rows.update(claimed_at=at)  # the pacing window counts from the hand-over
    try:
        answer = client.send_notice(_spec(notice, notice.account.userid))
    except (WeComUnavailable, RateLimited) as exc:
        attempts = notice.attempts + 1
        if attempts >= MAX_ATTEMPTS:
            rows.update(status=NoticeStatus.FAILED, attempts=attempts, error=str(exc)[:300])
        else:
            rows.update(status=NoticeStatus.QUEUED, attempts=attempts, error=str(exc)[:300],
                        due_at=at + BACK_OFF * 2 ** (attempts - 1))
        return False
    except WeComError as exc:
        rows.update(status=NoticeStatus.FAILED, attempts=notice.attempts + 1, error=str(exc)[:300])
        return False
    if notice.account.userid.lower() in answer.invalid_users:
        rows.update(status=NoticeStatus.FAILED, attempts=notice.attempts + 1,
                    error=str(_("WeCom does not know this member (left the corp or outside the app's range)."))[:300])
        return False
    rows.update(status=NoticeStatus.SENT, attempts=notice.attempts + 1, sent_at=at, msgid=answer.msgid, error="")
    return True


def send_due_notices(workspace: Workspace, now: dt.datetime | None = None) -> int:
    """Send the brand's due notices within WeCom's limits; returns how many WeCom accepted.
    Safe to run twice at once: each notice is claimed before it is sent."""
    now = now or timezone.now()
    started = time.monotonic()
    notices = StaffNotice.objects.for_workspace(workspace)
    notices.filter(status=NoticeStatus.SENDING, claimed_at__lt=now - LEASE).update(
        status=NoticeStatus.FAILED, error=str(_("The worker stopped while sending it; not sent again, it may not have "
                                                "arrived.")))
    accounts = list(notices.filter(status=NoticeStatus.QUEUED, due_at__lte=now).values_list("account_id", flat=True)
                    .distinct().order_by("account_id"))
    if not accounts:
        return 0
    try:
        client = client_for(workspace)
    except NotConnected:
        return 0  # they wait until the brand is connected again
    accepted = 0
    day_left = _app_day_left(workspace, now)
    with client:
        for account_id in accounts:
            claimed = _claim(workspace, account_id, now, day_left)
            day_left -= len(claimed)
            for notice in claimed:
                # `now` is when the run began; the hand-over is that plus the time spent since.
                accepted += _send(client, notice, now + dt.timedelta(seconds=time.monotonic() - started))
    return accepted
