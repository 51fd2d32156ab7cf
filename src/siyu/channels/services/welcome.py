"""欢迎语 — the channel code's welcome message, sent to a new friend with `send_welcome_msg`.

WECOM.md §3: the message must be sent **within 20 s** of the add event, **once**: the
welcome code is single-use (a second call gets 41051). So:

- the add is kept first (`customers.services.record_add`, idempotent), then the outcome is
  decided: no welcome code → NO_CODE; no code for the state, or nothing to say →
  NOT_CONFIGURED; the event already older than 20 s → MISSED without calling WeCom;
- each add has its own `WelcomeRecord` (opened pending when the add arrives); it is
  **claimed** (pending → sending, a conditional UPDATE) and the
  welfare issued in the subscriber's transaction; WeCom is called only **after that commits**
  (`transaction.on_commit`), so the claim is durable before the call and no other worker,
  retry or replay can call WeCom for the same add, and the database is not held during the
  call;
- WeCom's answer is recorded as SENT or MISSED (errcode and errmsg in the note). Nothing is
  retried: a permanent error (41051, an invalid attachment) would fail again, and after a
  timeout the first call may well have reached WeCom, where a retry could only earn 41051
  and blur what happened. A worker that dies between the claim and the answer leaves the
  record "sending" — visible, never sent twice, and settled as missed by the sweep.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from siyu.accounts.models import StaffAccount
from siyu.channels.models import MAX_ATTACHMENTS, ChannelCode, WelcomeRecord, WelcomeStatus
from siyu.channels.services.welfare import try_issue_welfare, welfare_text
from siyu.channels.timeline import ChannelTimeline
from siyu.core.models import Workspace
from siyu.customers import services as customers
from siyu.customers.models import FollowRelation
from siyu.wecom.client import Attachment, ClientOptions, WeComClient, WeComError, WeComUnavailable
from siyu.wecom.services import connection_of

logger = logging.getLogger("siyu.channels")

WELCOME_WINDOW = dt.timedelta(seconds=20)  # WECOM.md §3: send_welcome_msg within 20 s of the event
MAX_TEXT_BYTES = 4000  # WECOM.md §3: text.content <= 4000 bytes
CALL_TIMEOUT_SECONDS = 10.0  # never wait longer than this, nor past the window
# A send still "sending" this long after its add was cut off (a worker died mid-send): by now any
# send in flight has timed out, and WeCom would refuse the code anyway.
STUCK_AFTER = WELCOME_WINDOW + dt.timedelta(seconds=CALL_TIMEOUT_SECONDS + 60)
VARIABLES = ("customer_nickname", "persona_name", "staff_name", "welfare")
_VARIABLE = re.compile(r"\{(\w+)\}")
_URL = re.compile(r"^https?://\S+$")
ATTACHMENT_KINDS = ("image", "link", "miniprogram")


# --- the message as configured -----------------------------------------------------------------

def validate_welcome(text: str, attachments: Sequence[Any]) -> list[str]:
    """What is wrong with a welcome message as configured on a code (empty when it is fine).
    Shared by the code form and the sender. Attachments are stored as
    `{"type": "image", "media_id" | "pic_url"}`, `{"type": "link", "title", "url", "desc"?,
    "picurl"?}` or `{"type": "miniprogram", "title", "pic_media_id", "appid", "page"}`."""
    errors: list[str] = []
    if len(text.encode("utf-8")) > MAX_TEXT_BYTES:
        errors.append(_("The text is %(n)s bytes; WeCom takes at most 4000 (a Chinese character is 3 bytes).")
                      % {"n": len(text.encode("utf-8"))})
    unknown = sorted({name for name in _VARIABLE.findall(text) if name not in VARIABLES})
    if unknown:
        errors.append(_("Unknown variables: %(names)s. Use %(known)s.") % {
            "names": ", ".join(f"{{{n}}}" for n in unknown), "known": ", ".join(f"{{{n}}}" for n in VARIABLES)})
    if not isinstance(attachments, (list, tuple)):
        return [*errors, _("Attachments must be a list.")]
    if len(attachments) > MAX_ATTACHMENTS:
        errors.append(_("At most %(n)s attachments.") % {"n": MAX_ATTACHMENTS})
    for number, item in enumerate(attachments, start=1):
        errors += [_("Attachment %(n)s: %(problem)s") % {"n": number, "problem": p} for p in _attachment_problems(item)]
    return errors


def _attachment_problems(item: Any) -> list[str]:
    if not isinstance(item, dict) or item.get("type") not in ATTACHMENT_KINDS:
        return [_("the type must be image, link or miniprogram.")]

    def text_of(key: str) -> str:
        value = item.get(key, "")
        return value.strip() if isinstance(value, str) else ""

    problems: list[str] = []
    kind = item["type"]
    if kind == "image":
        if not (text_of("media_id") or text_of("pic_url")):
            problems.append(_("an image needs a media_id or a pic_url."))
        if text_of("pic_url") and not _URL.match(text_of("pic_url")):
            problems.append(_("pic_url must be an http(s) address."))
    elif kind == "link":
        if not text_of("title"):
            problems.append(_("a link needs a title."))
        if not _URL.match(text_of("url")):
            problems.append(_("a link needs an http(s) url."))
        if text_of("picurl") and not _URL.match(text_of("picurl")):
            problems.append(_("picurl must be an http(s) address."))
    else:
        missing = [k for k in ("title", "pic_media_id", "appid", "page") if not text_of(k)]
        if missing:
            problems.append(_("a mini-program needs %(fields)s.") % {"fields": ", ".join(missing)})
    return problems


def to_attachments(items: Sequence[dict[str, Any]]) -> list[Any]:
    """Stored attachments in WeCom's wire shape (`wecom.client.Attachment`)."""
    out: list[Any] = []
    for item in items:
        kind = item["type"]
        if kind == "image":
            image = {"media_id": item["media_id"]} if item.get("media_id") else {"pic_url": item["pic_url"]}
            out.append(Attachment(msgtype="image", image=image))
        elif kind == "link":
            out.append(Attachment.of_link(item["title"], item["url"], item.get("picurl", ""), item.get("desc", "")))
        else:
            out.append(Attachment.of_miniprogram(item["title"], item["pic_media_id"], item["appid"], item["page"]))
    return out


def render_welcome(text: str, values: dict[str, str]) -> str:
    """Fill `{customer_nickname}`, `{persona_name}`, `{staff_name}` and `{welfare}`; other
    braces are left as written. Cut to 4000 bytes on a character boundary (WECOM.md §3)."""
    rendered = _VARIABLE.sub(lambda m: values.get(m.group(1), m.group(0)), text)
    data = rendered.encode("utf-8")
    if len(data) <= MAX_TEXT_BYTES:
        return rendered
    return data[:MAX_TEXT_BYTES].decode("utf-8", errors="ignore")


# --- the flow ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class WelcomeJob:
    """What the sender needs once the claim has committed."""

    workspace_id: int
    record_id: int
    welcome_code: str
    occurred_at: dt.datetime
    text: str
    attachments: list[dict[str, Any]]
    persona_name: str
    staff_name: str
    welfare: str
    welfare_note: str


def _age_note(age: dt.timedelta) -> str:
    return _("The add event was %(age)s s old; WeCom takes a welcome message only within 20 s.") % {
        "age": int(age.total_seconds())}


_ON_TIMELINE = {WelcomeStatus.SENT: ChannelTimeline.WELCOME_SENT, WelcomeStatus.MISSED: ChannelTimeline.WELCOME_MISSED}


NOTE_MAX_CHARS = 300  # WelcomeRecord.note
# An outcome is final once recorded; only these may still change.
_OPEN = (WelcomeStatus.PENDING, WelcomeStatus.SENDING)


def open_welcome(workspace: Workspace, relation: FollowRelation) -> WelcomeRecord:
    """The welcome record of the relation's current add, opened pending if it has none yet."""
    record, _created = WelcomeRecord.objects.for_workspace(workspace).get_or_create(
        workspace=workspace, relation=relation, added_at=relation.added_at)
    record.relation = relation
    return record


def claim_welcome(record: WelcomeRecord) -> bool:
    """Take the right to send this add's welcome message: pending → sending. True for exactly
    one caller; everyone else must not call WeCom."""
    return bool(WelcomeRecord.unscoped.filter(pk=record.pk, status=WelcomeStatus.PENDING)
                .update(status=WelcomeStatus.SENDING))


def record_welcome(record: WelcomeRecord, status: WelcomeStatus, note: str = "") -> bool:
    """Record the add's outcome, once (an outcome already recorded is never overwritten); sent
    and missed go on the customer's timeline. True when this call recorded it."""
    note = note[:NOTE_MAX_CHARS]
    with transaction.atomic():
        if not WelcomeRecord.unscoped.filter(pk=record.pk, status__in=_OPEN).update(status=status, note=note):
            return False
        record.status, record.note = status, note
        kind = _ON_TIMELINE.get(status)
        if kind is not None:
            relation = record.relation
            customers.add_timeline(relation.workspace, relation.customer, kind, timezone.now(),
                                   account_id=relation.account_id, detail=note,
                                   dedupe_key=f"welcome:{relation.pk}:{int(record.added_at.timestamp())}")
        return True


def welcome_new_friend(
    workspace: Workspace,
    *,
    staff_userid: str,
    external_userid: str,
    state: str,
    welcome_code: str,
    at: dt.datetime,
    now: dt.datetime | None = None,
) -> WelcomeStatus | None:
    """Keep the add and decide its welcome: record NO_CODE, NOT_CONFIGURED or MISSED, or claim
    it, issue the code's welfare and schedule the send for after commit (status SENDING).
    Returns the status set now, or None when this add's welcome was already decided (a
    replay, or an older add of a relation re-added since). Call inside a transaction."""
    relation = customers.record_add(workspace, staff_userid=staff_userid, external_userid=external_userid,
                                    state=state, at=at)
    if relation.added_at != at:
        return None
    record = open_welcome(workspace, relation)
    if record.status != WelcomeStatus.PENDING:
        return None
    if not welcome_code:
        record_welcome(record, WelcomeStatus.NO_CODE,
                                 _("WeCom gave no welcome code (an admin welcome message is set, or the pair chatted before)."))
        return WelcomeStatus.NO_CODE
    code = ChannelCode.objects.for_workspace(workspace).filter(state=state, active=True).first() if state else None
    if code is None or not (code.welcome_text.strip() or code.welcome_attachments):
        note = _("No active channel code for this state.") if code is None else _("The code has no welcome message.")
        record_welcome(record, WelcomeStatus.NOT_CONFIGURED, note)
        return WelcomeStatus.NOT_CONFIGURED
    now = now or timezone.now()
    if now - at > WELCOME_WINDOW:
        record_welcome(record, WelcomeStatus.MISSED, _age_note(now - at))
        return WelcomeStatus.MISSED
    if not claim_welcome(record):
        return None
    account = StaffAccount.objects.for_workspace(workspace).select_related("persona").get(pk=relation.account_id)
    welfare, welfare_note = "", ""
    if code.welfare is not None:  # no query without a welfare_id
        outcome = try_issue_welfare(workspace, code.welfare, relation.customer, code, account, now)
        welfare, welfare_note = welfare_text(outcome.grant), outcome.reason
    job = WelcomeJob(
        workspace_id=workspace.pk, record_id=record.pk, welcome_code=welcome_code, occurred_at=at,
        text=code.welcome_text, attachments=list(code.welcome_attachments),
        persona_name=account.persona.name if account.persona else "", staff_name=account.name or account.userid,
        welfare=welfare, welfare_note=welfare_note,
    )
    transaction.on_commit(lambda: send_claimed_welcome(workspace, job))
    return WelcomeStatus.SENDING


def send_claimed_welcome(workspace: Workspace, job: WelcomeJob, now: dt.datetime | None = None) -> WelcomeStatus:
    """Send a claimed welcome message and record WeCom's answer. Never raises for WeCom's
    errors; never called twice for one claim."""
    record = (WelcomeRecord.objects.for_workspace(workspace).select_related("relation__customer")
              .get(pk=job.record_id))
    try:
        return _send(workspace, record, job, now)
    except Exception as exc:  # the claim stays recorded; say what happened rather than "sending" forever
        logger.exception("welcome message of relation %s failed", record.relation_id)
        record_welcome(record, WelcomeStatus.MISSED, _("Internal error before WeCom answered: %(error)s")
                                 % {"error": f"{type(exc).__name__}: {exc}"})
        return WelcomeStatus.MISSED


def _send(workspace: Workspace, record: WelcomeRecord, job: WelcomeJob, now: dt.datetime | None) -> WelcomeStatus:
    connection = connection_of(workspace)
    if connection is None:
        record_welcome(record, WelcomeStatus.MISSED, _("The brand is not connected to WeCom."))
        return WelcomeStatus.MISSED
    customer = customers.ensure_profile(workspace, record.relation.customer)
    now = now or timezone.now()
    left = WELCOME_WINDOW - (now - job.occurred_at)
    if left <= dt.timedelta(0):
        record_welcome(record, WelcomeStatus.MISSED, _age_note(now - job.occurred_at))
        return WelcomeStatus.MISSED
    text = render_welcome(job.text, {
        "customer_nickname": customer.name, "persona_name": job.persona_name,
        "staff_name": job.staff_name, "welfare": job.welfare,
    })
    options = ClientOptions(timeout_seconds=max(1.0, min(CALL_TIMEOUT_SECONDS, left.total_seconds())))
    try:
        with WeComClient(connection, options=options) as client:
            client.send_welcome_message(job.welcome_code, text, to_attachments(job.attachments))
    except WeComUnavailable as exc:
        note = _("No answer from WeCom (%(error)s); not retried, since the message may have been delivered "
                 "and a welcome code works once.") % {"error": exc.errmsg[:120]}
        record_welcome(record, WelcomeStatus.MISSED, note)
        return WelcomeStatus.MISSED
    except WeComError as exc:
        record_welcome(record, WelcomeStatus.MISSED,
                                 _("WeCom refused: %(code)s %(msg)s") % {"code": exc.errcode, "msg": exc.errmsg})
        return WelcomeStatus.MISSED
    # The event's time has whole seconds (WeCom's CreateTime), so this is an upper bound.
    note = _("Sent within %(s)s s of the add.") % {"s": f"{(timezone.now() - job.occurred_at).total_seconds():.1f}"}
    if job.welfare_note:
        note += " " + _("Without welfare: %(reason)s.") % {"reason": job.welfare_note}
    record_welcome(record, WelcomeStatus.SENT, note)
    return WelcomeStatus.SENT


def sweep_stuck_welcomes(workspace: Workspace, now: dt.datetime | None = None) -> int:
    """Record as missed the welcome sends left "sending" by a worker that stopped between claiming
    and recording WeCom's answer; whether WeCom delivered it is unknown, and the note says so."""
    cutoff = (now or timezone.now()) - STUCK_AFTER
    stuck = WelcomeRecord.objects.for_workspace(workspace).filter(
        status=WelcomeStatus.SENDING, added_at__lt=cutoff).select_related("relation__customer")
    note = _("The worker stopped while sending; WeCom's answer was never recorded, so the customer may or "
             "may not have received it.")
    return sum(record_welcome(record, WelcomeStatus.MISSED, note) for record in stuck)
