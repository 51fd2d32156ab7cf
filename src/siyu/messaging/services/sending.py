"""Sending a 群发 and following it until every sender has confirmed or it was cancelled.

- `confirm_message` reserves the receive-limit budget for every planned recipient (who lost
  their last unit to another sender meanwhile is refused) and schedules the send.
- `send_message` creates one WeCom task per batch (`add_msg_template`). Each batch is claimed
  (new → creating) and committed before WeCom is called, and its msgid recorded with its
  recipients' states in one transaction after: a retry never creates a task twice. A batch
  left `creating` (a crash, no answer) is matched later against `get_groupmsg_list_v2`.
- `track` polls each waiting batch with back-off (never straight after creating: WeCom answers
  41063, `NotReady`), records per-recipient results, reminds the sender on the brand's ladder
  (WECOM.md §5: at most 3 reminders per message in 24 h) and gives back the budget of every
  recipient who did not receive it.
- `cancel_message` cancels in WeCom (`cancel_groupmsg_send`) and follows its answer.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from siyu.core.auditing import audit_change, change, fact
from siyu.core.models import AuditAction, Workspace
from siyu.core.permissions import Seat
from siyu.core.queue import enqueue
from siyu.messaging.models import (
    BatchStatus,
    MassBatch,
    MassMessage,
    MassStatus,
    MessagingSettings,
    RecipientStatus,
)
from siyu.messaging.services import budget, notices, tally
from siyu.messaging.services.budget import Source
from siyu.messaging.services.planning import MODULE, SUBJECT, require_edit
from siyu.messaging.services.recipients import GROUPS, table_of
from siyu.wecom.client import (
    Attachment,
    MassMessageSpec,
    NotReady,
    WeComClient,
    WeComError,
    WeComUnavailable,
)
from siyu.wecom.services import NotConnected, client_for

FIRST_CHECK = dt.timedelta(seconds=60)  # WECOM.md §10: a task queried at once answers 41063
MAX_CHECK_INTERVAL = dt.timedelta(hours=1)
TRACK_FOR = dt.timedelta(days=7)  # after a week a sender who has not confirmed is not waited for
LEASE = dt.timedelta(minutes=5)  # a check claimed by a worker that died is taken again after this
RECONCILE_AFTER = dt.timedelta(minutes=2)
REMINDERS_PER_DAY = 3  # WECOM.md §5
OPEN_BATCHES = (BatchStatus.NEW, BatchStatus.CREATING, BatchStatus.PENDING)
# A sender's result (get_groupmsg_send_result status) → the recipient's state.
RESULT_STATUS = {1: RecipientStatus.SENT, 2: RecipientStatus.NOT_FRIEND, 3: RecipientStatus.OVER_LIMIT,
                 0: RecipientStatus.CANCELLED}
SENDER_CONFIRMED = 2  # get_groupmsg_task status


def _status_label(status: str) -> Any:
    return MassStatus(status).label


def _budget_at(message: MassMessage) -> dt.datetime:
    return message.budget_at or message.send_at or message.created_at


def spend_key(message: MassMessage) -> tuple[Source, str]:
    """The (source, ref) the message's budget is reserved and released under."""
    return Source(message.source), message.ref or str(message.pk)


def _finish_recipients(workspace: Workspace, message: MassMessage, rows: Any, status: RecipientStatus,
                       sent_at: dt.datetime | None = None) -> int:
    """Move `rows` (a queryset of the message's recipients, still planned or pending) to `status`,
    giving back the budget of those who did not receive it. Each row moves once: the ids are
    locked and moved in this transaction, so a second caller finds none left."""
    table = table_of(message)
    with transaction.atomic():
        found = list(rows.filter(status__in=(RecipientStatus.PLANNED, RecipientStatus.PENDING))
                     .select_for_update(of=("self",)).values_list(table.key, "status", "sender_id", "batch_number"))
        if not found:
            return 0
        ids = [row[0] for row in found]
        table.rows(message).filter(**{f"{table.key}__in": ids}).update(status=status, sent_at=sent_at)
        tally.shift(message, Counter(row[1] for row in found), status)
        if status == RecipientStatus.SENT:
            for (sender_id, number), n in Counter((row[2], row[3]) for row in found).items():
                MassBatch.unscoped.filter(message=message, sender_id=sender_id, number=number).update(
                    sent_count=F("sent_count") + n)
        if status != RecipientStatus.SENT:
            budget.release(workspace, table.budget(ids), _budget_at(message), *spend_key(message))
    return len(ids)


def _client(workspace: Workspace) -> WeComClient:
    try:
        return client_for(workspace)
    except NotConnected as exc:
        raise ValidationError({"status": str(exc)}) from exc


# --- confirm --------------------------------------------------------------------------------------


def confirm_message(workspace: Workspace, membership: Seat | None, message_id: int,
                    now: dt.datetime | None = None) -> MassMessage:
    """Reserve the budget and schedule the draft (at its time, or now). Refused recipients —
    those the preview showed and any who lost their last unit since — are not sent it."""
    require_edit(membership)
    now = now or timezone.now()
    message = MassMessage.objects.for_workspace(workspace).get(pk=message_id)
    with transaction.atomic():
        schedule(workspace, message, now)
        audit_change(workspace, membership, AuditAction.UPDATED, module=MODULE, subject=SUBJECT, name=message.name,
                     changes=[change(gettext_lazy("status"), _status_label(MassStatus.DRAFT),
                                     _status_label(MassStatus.SCHEDULED))],
                     facts=[fact(gettext_lazy("recipients"), message.planned_count)], data={"message": message.pk})
    return message


def schedule(workspace: Workspace, message: MassMessage, now: dt.datetime) -> None:
    """Draft → scheduled: reserve the budget of every planned recipient (who lost their last
    unit meanwhile is refused) and enqueue the send if it is due, after the commit. No role
    check and no audit: the caller does both."""
    at = message.send_at or now
    with transaction.atomic():
        if not MassMessage.unscoped.filter(pk=message.pk, status=MassStatus.DRAFT).update(
                status=MassStatus.SCHEDULED, confirmed_at=now, budget_at=at):
            raise ValidationError({"status": _("This mass message was confirmed already.")})
        table = table_of(message)
        planned = table.rows(message).filter(status=RecipientStatus.PLANNED)
        got = budget.reserve(workspace, table.budget(planned.values(table.key)), at, *spend_key(message))
        if got.refused:
            table.rows(message).filter(**{f"{table.key}__in": list(got.refused)}).update(
                status=RecipientStatus.REFUSED)
            tally.shift(message, {RecipientStatus.PLANNED: len(got.refused)}, RecipientStatus.REFUSED)
            MassMessage.unscoped.filter(pk=message.pk).update(
                planned_count=F("planned_count") - len(got.refused), refused_count=F("refused_count") + len(got.refused))
        message.refresh_from_db()
    if message.send_at is None or message.send_at <= now:
        enqueue("siyu.messaging.tasks.send_now", workspace.pk, message.pk)


# --- send -----------------------------------------------------------------------------------------


def _spec(message: MassMessage, batch: MassBatch, externals: list[str]) -> MassMessageSpec:
    attachments = [Attachment.model_validate(a) for a in message.attachments]
    if table_of(message) is GROUPS:  # sent by the groups' owner; WeCom lets only 1:1 tasks choose
        return MassMessageSpec(chat_type="group", chat_id_list=externals, sender=batch.sender.userid,
                               text=message.text, attachments=attachments)
    return MassMessageSpec(chat_type="single", external_userid=externals, sender=batch.sender.userid,
                           allow_select=message.allow_select or None, text=message.text,
                           attachments=[Attachment.model_validate(a) for a in message.attachments])


def _batch_rows(message: MassMessage, batch: MassBatch) -> Any:
    return table_of(message).rows(message).filter(sender_id=batch.sender_id, batch_number=batch.number)


def _create_batch(workspace: Workspace, client: WeComClient, message: MassMessage, batch: MassBatch,
                  now: dt.datetime) -> None:
    if not MassBatch.unscoped.filter(pk=batch.pk, status=BatchStatus.NEW).update(
            status=BatchStatus.CREATING, claimed_at=now):
        return  # another worker has it, or it was cancelled
    rows = _batch_rows(message, batch).filter(status=RecipientStatus.PLANNED)
    externals = list(rows.values_list(table_of(message).wire, flat=True))
    if not externals:
        MassBatch.unscoped.filter(pk=batch.pk).update(status=BatchStatus.CANCELLED)
        return
    try:
        made = client.add_mass_message(_spec(message, batch, externals))
    except WeComUnavailable as exc:  # it may have reached WeCom: never call again, look it up later
        MassBatch.unscoped.filter(pk=batch.pk).update(error=str(exc)[:300], next_check_at=now + RECONCILE_AFTER)
        return
    except WeComError as exc:
        with transaction.atomic():
            MassBatch.unscoped.filter(pk=batch.pk).update(status=BatchStatus.FAILED, error=str(exc)[:300])
            _finish_recipients(workspace, message, rows, RecipientStatus.FAILED)
        return
    _record_created(workspace, message, batch, made.msgid, made.fail_list, now)
    if MassMessage.unscoped.filter(pk=message.pk, status=MassStatus.CANCELLED).exists():
        _cancel_batch(workspace, client, message, batch, made.msgid, now)  # cancelled while we called


def _cancel_batch(workspace: Workspace, client: WeComClient, message: MassMessage, batch: MassBatch, msgid: str,
                  now: dt.datetime) -> None:
    try:
        client.cancel_mass_message(msgid)
    except WeComError as exc:  # e.g. the sender confirmed it already: look at the results
        MassBatch.unscoped.filter(pk=batch.pk).update(error=str(exc)[:300], next_check_at=now)
        return
    with transaction.atomic():
        MassBatch.unscoped.filter(pk=batch.pk, status=BatchStatus.PENDING).update(
            status=BatchStatus.CANCELLED, next_check_at=None)
        _finish_recipients(workspace, message, _batch_rows(message, batch), RecipientStatus.CANCELLED)


def _record_created(workspace: Workspace, message: MassMessage, batch: MassBatch, msgid: str,
                    fail_list: Iterable[str], now: dt.datetime) -> None:
    rows = _batch_rows(message, batch)
    with transaction.atomic():
        MassBatch.unscoped.filter(pk=batch.pk, status=BatchStatus.CREATING).update(
            status=BatchStatus.PENDING, msgid=msgid, created_in_wecom_at=now, next_check_at=now + FIRST_CHECK,
            error="")
        failed = list(fail_list)
        table = table_of(message)
        if failed:  # WeCom knows no friendship between this sender and them (a group: not its owner)
            _finish_recipients(workspace, message, rows.filter(**{f"{table.wire}__in": failed}),
                               RecipientStatus.FAILED if table is GROUPS else RecipientStatus.NOT_FRIEND)
        moved = rows.filter(status=RecipientStatus.PLANNED).update(status=RecipientStatus.PENDING)
        tally.shift(message, {RecipientStatus.PLANNED: moved}, RecipientStatus.PENDING)


def _settle_message(message: MassMessage, now: dt.datetime) -> None:
    """SENDING → SENT once no batch waits to be created; SENT → DONE once none is open."""
    batches = MassBatch.unscoped.filter(message=message)
    if not batches.filter(status__in=(BatchStatus.NEW, BatchStatus.CREATING)).exists():
        MassMessage.unscoped.filter(pk=message.pk, status=MassStatus.SENDING).update(status=MassStatus.SENT,
                                                                                     sent_at=now)
    if not batches.filter(status__in=OPEN_BATCHES).exists():
        MassMessage.unscoped.filter(pk=message.pk, status=MassStatus.SENT).update(status=MassStatus.DONE,
                                                                                  finished_at=now)


def send_message(workspace: Workspace, message_id: int, now: dt.datetime | None = None) -> MassMessage:
    """Create the WeCom tasks of a scheduled message whose time has come. Idempotent."""
    now = now or timezone.now()
    message = MassMessage.unscoped.get(pk=message_id, workspace=workspace)
    due = Q(send_at__isnull=True) | Q(send_at__lte=now)
    MassMessage.unscoped.filter(due, pk=message.pk, status=MassStatus.SCHEDULED).update(status=MassStatus.SENDING)
    message.refresh_from_db()
    if message.status != MassStatus.SENDING:
        return message
    try:
        client = client_for(workspace)
    except NotConnected as exc:
        _fail(workspace, message, str(exc))
        return message
    with client:
        for batch in MassBatch.unscoped.filter(message=message, status=BatchStatus.NEW).select_related("sender"):
            _create_batch(workspace, client, message, batch, now)
    _settle_message(message, now)
    message.refresh_from_db()
    return message


def _fail(workspace: Workspace, message: MassMessage, error: str) -> None:
    with transaction.atomic():
        MassMessage.unscoped.filter(pk=message.pk).update(status=MassStatus.FAILED, error=error[:300])
        MassBatch.unscoped.filter(message=message, status=BatchStatus.NEW).update(status=BatchStatus.FAILED)
        _finish_recipients(workspace, message, table_of(message).rows(message), RecipientStatus.FAILED)


def send_due(workspace: Workspace, now: dt.datetime | None = None) -> int:
    """Send every scheduled message of the brand whose time has come (and resume any a worker
    left half sent)."""
    now = now or timezone.now()
    due = (MassMessage.objects.for_workspace(workspace)
           .filter(Q(status=MassStatus.SCHEDULED, send_at__lte=now) | Q(status=MassStatus.SCHEDULED, send_at=None)
                   | Q(status=MassStatus.SENDING)).values_list("pk", flat=True))
    for message_id in list(due):
        send_message(workspace, message_id, now)
    return len(due)


# --- follow up: results, reminders, lookups -------------------------------------------------------


def _ladder(workspace: Workspace) -> list[int]:
    found = MessagingSettings.unscoped.filter(workspace=workspace).values_list("reminder_minutes", flat=True).first()
    return list(found) if found is not None else list(MessagingSettings().reminder_minutes)


def _next_check(batch: MassBatch, ladder: list[int], now: dt.datetime) -> dt.datetime | None:
    created = batch.created_in_wecom_at or now
    if now - created > TRACK_FOR:
        return None
    interval = min(FIRST_CHECK * (2 ** min(batch.checks, 10)), MAX_CHECK_INTERVAL)
    candidates = [now + interval]
    if batch.ladder_step < len(ladder):
        candidates.append(max(created + dt.timedelta(minutes=ladder[batch.ladder_step]), now))
    return min(candidates)


def _recent_reminders(batch: MassBatch, now: dt.datetime) -> list[float]:
    return [t for t in batch.reminded_at if t > now.timestamp() - 24 * 3600]


def _remind(client: WeComClient, batch: MassBatch, now: dt.datetime) -> bool:
    """Remind the sender of one batch, within WeCom's 3 a day; False when it was not sent."""
    recent = _recent_reminders(batch, now)
    if len(recent) >= REMINDERS_PER_DAY:
        return False
    try:
        client.remind_mass_message(batch.msgid)
    except WeComError as exc:
        MassBatch.unscoped.filter(pk=batch.pk).update(error=str(exc)[:300])
        return False
    batch.reminded_at = [*recent, now.timestamp()]
    MassBatch.unscoped.filter(pk=batch.pk).update(reminded_at=batch.reminded_at)
    return True


def _notify_sender(workspace: Workspace, message: MassMessage, batch: MassBatch, now: dt.datetime) -> None:
    """With each step of the ladder, a card in the sender's WeCom (应用消息) linking to the message."""
    waiting = _batch_rows(message, batch).filter(status=RecipientStatus.PENDING).count()
    notices.notify_staff(
        workspace, accounts=[batch.sender], source="mass-reminder", ref=f"{batch.pk}:{batch.ladder_step}", now=now,
        title=_("A mass message is waiting for you"),
        text=_("Please confirm the mass message “%(name)s” in WeCom: %(n)s customers are waiting for it.")
        % {"name": message.name, "n": waiting},
        url=settings.SIYU_PUBLIC_URL + reverse("messaging:message", args=[message.pk]))


def _record_results(workspace: Workspace, client: WeComClient, message: MassMessage, batch: MassBatch,
                    confirmed_at: dt.datetime | None) -> None:
    by_status: dict[int, list[str]] = {}
    sent_times: dict[str, int] = {}
    cursor = ""
    while True:
        page = client.get_mass_message_results(batch.msgid, batch.sender.userid, cursor=cursor, limit=1000)
        for row in page.send_list:
            key = row.chat_id or row.external_userid
            by_status.setdefault(row.status, []).append(key)
            sent_times[key] = row.send_time
        cursor = page.next_cursor
        if not cursor:
            break
    rows = _batch_rows(message, batch)
    wire = table_of(message).wire
    with transaction.atomic():
        for code, externals in by_status.items():
            status = RESULT_STATUS.get(code, RecipientStatus.FAILED)
            sent_at = confirmed_at if status == RecipientStatus.SENT else None
            _finish_recipients(workspace, message, rows.filter(**{f"{wire}__in": externals}), status, sent_at)
        # Listed by nobody: WeCom dropped them (e.g. no longer a friend when the task was made).
        _finish_recipients(workspace, message, rows.filter(status=RecipientStatus.PENDING), RecipientStatus.FAILED)
        MassBatch.unscoped.filter(pk=batch.pk).update(status=BatchStatus.SENT, confirmed_at=confirmed_at,
                                                      next_check_at=None)


def _check_batch(workspace: Workspace, client: WeComClient, message: MassMessage, batch: MassBatch,
                 ladder: list[int], now: dt.datetime) -> None:
    MassBatch.unscoped.filter(pk=batch.pk).update(checks=F("checks") + 1)
    batch.checks += 1
    try:
        tasks = client.get_mass_message_tasks(batch.msgid, limit=1000)
    except NotReady:
        tasks = None
    except WeComError as exc:  # includes no answer: ask again later
        MassBatch.unscoped.filter(pk=batch.pk).update(error=str(exc)[:300])
        tasks = None
    row = next((t for t in tasks.task_list if t.userid == batch.sender.userid), None) if tasks else None
    if row is not None and row.status == SENDER_CONFIRMED:
        confirmed_at = dt.datetime.fromtimestamp(row.send_time, dt.UTC) if row.send_time else now
        try:
            _record_results(workspace, client, message, batch, confirmed_at)
            return
        except WeComError as exc:
            MassBatch.unscoped.filter(pk=batch.pk).update(error=str(exc)[:300])
    elif tasks is not None and batch.ladder_step < len(ladder):
        created = batch.created_in_wecom_at or now
        if now >= created + dt.timedelta(minutes=ladder[batch.ladder_step]) and MassBatch.unscoped.filter(
                pk=batch.pk, ladder_step=batch.ladder_step).update(ladder_step=batch.ladder_step + 1):
            batch.ladder_step += 1
            _remind(client, batch, now)
            _notify_sender(workspace, message, batch, now)
    MassBatch.unscoped.filter(pk=batch.pk).update(next_check_at=_next_check(batch, ladder, now))


def _reconcile(workspace: Workspace, client: WeComClient, message: MassMessage, batch: MassBatch,
               now: dt.datetime) -> None:
    """A batch claimed but never recorded (a crash, or no answer from WeCom): find the task WeCom
    made for this sender since the claim; none after a while means it was never made."""
    claimed = batch.claimed_at or now
    try:
        page = client.list_mass_messages(int(claimed.timestamp()) - 60, int(now.timestamp()) + 60,
                                         chat_type="group" if table_of(message) is GROUPS else "single",
                                         creator=batch.sender.userid, filter_type=0, limit=100)
    except WeComError as exc:
        MassBatch.unscoped.filter(pk=batch.pk).update(error=str(exc)[:300], next_check_at=now + RECONCILE_AFTER)
        return
    known = set(MassBatch.unscoped.filter(message=message).exclude(msgid="").values_list("msgid", flat=True))
    text = message.text or None
    found = next((m for m in page.group_msg_list if m.msgid not in known
                  and (m.text.content if m.text else None) == text), None)
    if found is not None:
        _record_created(workspace, message, batch, found.msgid, [], now)
        if MassMessage.unscoped.filter(pk=message.pk, status=MassStatus.CANCELLED).exists():
            _cancel_batch(workspace, client, message, batch, found.msgid, now)  # cancelled before we knew it
    elif now - claimed > RECONCILE_AFTER * 5:
        with transaction.atomic():
            MassBatch.unscoped.filter(pk=batch.pk, status=BatchStatus.CREATING).update(status=BatchStatus.FAILED)
            _finish_recipients(workspace, message, _batch_rows(message, batch), RecipientStatus.FAILED)
    else:
        MassBatch.unscoped.filter(pk=batch.pk).update(next_check_at=now + RECONCILE_AFTER)


def track(workspace: Workspace, now: dt.datetime | None = None) -> int:
    """Check every batch of the brand whose check is due; returns how many were checked."""
    now = now or timezone.now()
    due = list(MassBatch.objects.for_workspace(workspace)
               .filter(status__in=(BatchStatus.PENDING, BatchStatus.CREATING), next_check_at__lte=now)
               .select_related("sender", "message").order_by("next_check_at")[:500])
    if not due:
        return 0
    ladder = _ladder(workspace)
    checked = 0
    try:
        client = client_for(workspace)
    except NotConnected:
        return 0  # disconnected meanwhile: the batches wait until the brand connects again
    with client:
        for batch in due:
            # Claim the check: the value read moves on, so a second worker skips this batch.
            if not MassBatch.unscoped.filter(pk=batch.pk, next_check_at=batch.next_check_at).update(
                    next_check_at=now + LEASE):
                continue
            checked += 1
            if batch.status == BatchStatus.CREATING:
                _reconcile(workspace, client, batch.message, batch, now)
            else:
                _check_batch(workspace, client, batch.message, batch, ladder, now)
    for message_id in {b.message_id for b in due}:
        _settle_message(MassMessage.unscoped.get(pk=message_id), now)
    return checked


def remind_message(workspace: Workspace, membership: Seat | None, message_id: int,
                   now: dt.datetime | None = None) -> int:
    """Remind every sender who has not confirmed yet; returns how many were reminded."""
    require_edit(membership)
    now = now or timezone.now()
    message = MassMessage.objects.for_workspace(workspace).get(pk=message_id)
    batches = list(MassBatch.unscoped.filter(message=message, status=BatchStatus.PENDING).select_related("sender"))
    if not batches:
        raise ValidationError({"status": _("No sender is waiting to confirm this mass message.")})
    if all(len(_recent_reminders(b, now)) >= REMINDERS_PER_DAY for b in batches):
        raise ValidationError({"status": _("WeCom allows 3 reminders a day; every sender was reminded 3 times.")})
    with _client(workspace) as client:
        return sum(_remind(client, batch, now) for batch in batches)


# --- cancel ---------------------------------------------------------------------------------------


def cancel_message(workspace: Workspace, membership: Seat | None, message_id: int,
                   now: dt.datetime | None = None) -> MassMessage:
    """Cancel a message: in WeCom for the tasks it has (`cancel_groupmsg_send`), locally for the
    rest. A sender who confirmed meanwhile keeps their batch (WeCom refuses to cancel it); its
    results are fetched at the next check. Every recipient not sent it gets their budget back."""
    require_edit(membership)
    now = now or timezone.now()
    message = MassMessage.objects.for_workspace(workspace).get(pk=message_id)
    before = message.status
    if before in (MassStatus.DONE, MassStatus.CANCELLED, MassStatus.FAILED):
        raise ValidationError({"status": _("This mass message is finished; there is nothing left to cancel.")})
    if not MassMessage.unscoped.filter(pk=message.pk, status=before).update(status=MassStatus.CANCELLED,
                                                                            finished_at=now):
        raise ValidationError({"status": _("This mass message changed meanwhile; look again.")})
    with transaction.atomic():
        MassBatch.unscoped.filter(message=message, status=BatchStatus.NEW).update(status=BatchStatus.CANCELLED)
        rows = table_of(message).rows(message)
        if before != MassStatus.DRAFT:  # a draft reserved nothing
            _finish_recipients(workspace, message, rows.filter(status=RecipientStatus.PLANNED),
                               RecipientStatus.CANCELLED)
        else:
            moved = rows.filter(status=RecipientStatus.PLANNED).update(
                status=RecipientStatus.CANCELLED)
            tally.shift(message, {RecipientStatus.PLANNED: moved}, RecipientStatus.CANCELLED)
    pending = list(MassBatch.unscoped.filter(message=message, status=BatchStatus.PENDING).select_related("sender"))
    if pending:
        with _client(workspace) as client:
            for batch in pending:
                _cancel_batch(workspace, client, message, batch, batch.msgid, now)
    audit_change(workspace, membership, AuditAction.UPDATED, module=MODULE, subject=SUBJECT, name=message.name,
                 changes=[change(gettext_lazy("status"), _status_label(before), _status_label(MassStatus.CANCELLED))],
                 data={"message": message.pk})
    message.refresh_from_db()
    return message
