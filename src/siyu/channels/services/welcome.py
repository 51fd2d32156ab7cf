"""欢迎语 — the channel code's welcome message, sent to a new friend with `send_welcome_msg`.

WECOM.md §3: the message must be sent **within 20 s** of the add event, **once**: the
welcome code is single-use (a second call gets 41051). So the welcome has a lane of its own
(`welcome_new_friends`, a batch subscriber run ahead of all bookkeeping, a drain batch of adds
at a time):

- the adds are kept first (`customers.services.record_adds`, idempotent), then each outcome is
  decided: no welcome code → NO_CODE; no code for the state, or nothing to say →
  NOT_CONFIGURED; the event already older than 20 s → MISSED at once, without calling WeCom;
- each add has its own `WelcomeRecord` (opened pending when the add arrives); it is
  **claimed** (pending → sending, a conditional UPDATE) and the welfare issued in the lane's
  transaction; WeCom is called only **after that commits**, so the claim is durable before
  the call and no other worker, retry or replay can call WeCom for the same add, and the
  database is not held during the call. The batch's calls go out side by side;
- WeCom's answer is recorded as SENT or MISSED (errcode and errmsg in the note). Nothing is
  retried: a permanent error (41051, an invalid attachment) would fail again, and after a
  timeout the first call may well have reached WeCom, where a retry could only earn 41051
  and blur what happened. A rate limit (45009) is backed off once, within the window. A worker
  that dies between the claim and the answer leaves the record "sending" — visible, never
  sent twice, and settled as missed by the sweep.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from django.db import close_old_connections, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from pydantic import BaseModel, ConfigDict
from pydantic import ValidationError as PydanticValidationError

from siyu.accounts.models import StaffAccount
from siyu.channels.group_codes import invite_attachment
from siyu.channels.models import MAX_ATTACHMENTS, ChannelCode, WelcomeRecord, WelcomeStatus
from siyu.channels.services.welcome_media import UPLOADED_FILE, file_problems, fresh_media
from siyu.channels.services.welfare import try_issue_welfare, welfare_text
from siyu.channels.timeline import ChannelTimeline
from siyu.core import bounds
from siyu.core.models import Workspace
from siyu.core.tenancy import workspace_context
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
ATTACHMENT_KINDS = ("image", "link", "miniprogram", "video", "file")
URL_MAX_BYTES = 2048  # WECOM.md §3: link.url <= 2048 bytes; the other addresses are held to the same
MEDIA_ID_MAX_BYTES = 256  # media ids from media/upload are about 64 characters
APPID_MAX_BYTES = 64
FILE_MAX_BYTES = 120  # a stored upload's name, "welcome/<brand>/<sha256>.<ext>"


# --- the message as configured -----------------------------------------------------------------

def validate_welcome(text: str, attachments: Sequence[Any], workspace: Workspace | None = None) -> list[str]:
    """What is wrong with a welcome message as configured on a code (empty when it is fine).
    Shared by the code form, the API and the sender. Attachments are stored as
    `{"type": "image", "media_id" | "pic_url"}`, `{"type": "link", "title", "url", "desc"?,
    "picurl"?}`, `{"type": "miniprogram", "title", "pic_media_id", "appid", "page"}`,
    `{"type": "video", "media_id"}` or `{"type": "file", "media_id"}`, with nothing else
    (`SHAPES`) and within WeCom's byte limits. An image or a mini-program cover uploaded in the
    editor adds `file` and `media_at` (`welcome_media`); with `workspace`, each such picture
    must be one of that brand's."""
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
    if workspace is not None and not errors:
        errors += file_problems(workspace, attachments)
    return errors


class AttachmentShape(BaseModel):
    """One welcome attachment as a code stores it: `type` and that kind's fields, nothing else
    (WECOM.md §3, send_welcome_msg attachments). Text only; `limits` are WeCom's, in UTF-8 bytes."""

    model_config = ConfigDict(extra="forbid", strict=True)
    limits: ClassVar[dict[str, int]] = {}


class ImageShape(AttachmentShape):
    type: Literal["image"]
    media_id: str = ""
    pic_url: str = ""
    # An image uploaded in the editor: the stored picture (`welcome_media.FILE`) and when its
    # media_id was had; media ids last 3 days, so the sender uploads the file again when stale.
    file: str = ""
    media_at: str = ""
    limits = {"media_id": MEDIA_ID_MAX_BYTES, "pic_url": URL_MAX_BYTES, "file": FILE_MAX_BYTES, "media_at": 40}


class LinkShape(AttachmentShape):
    type: Literal["link"]
    title: str = ""
    url: str = ""
    picurl: str = ""
    desc: str = ""
    # WECOM.md §3: link.title <= 128 bytes, link.desc <= 512 bytes, link.url <= 2048 bytes
    limits = {"title": 128, "url": URL_MAX_BYTES, "picurl": URL_MAX_BYTES, "desc": 512}


class MiniprogramShape(AttachmentShape):
    type: Literal["miniprogram"]
    title: str = ""
    pic_media_id: str = ""
    appid: str = ""
    page: str = ""
    file: str = ""  # the uploaded cover, refreshed into pic_media_id as an image's file is
    media_at: str = ""
    # WECOM.md §3: miniprogram.title <= 64 bytes
    limits = {"title": 64, "pic_media_id": MEDIA_ID_MAX_BYTES, "appid": APPID_MAX_BYTES, "page": URL_MAX_BYTES,
              "file": FILE_MAX_BYTES, "media_at": 40}


class VideoShape(AttachmentShape):
    type: Literal["video"]
    media_id: str = ""
    limits = {"media_id": MEDIA_ID_MAX_BYTES}


class FileShape(AttachmentShape):
    type: Literal["file"]
    media_id: str = ""
    limits = {"media_id": MEDIA_ID_MAX_BYTES}


SHAPES: dict[str, type[AttachmentShape]] = {
    "image": ImageShape, "link": LinkShape, "miniprogram": MiniprogramShape, "video": VideoShape, "file": FileShape,
}


def _shape_problems(item: dict[str, Any]) -> tuple[AttachmentShape | None, list[str]]:
    """The item read as its kind's shape, or why it cannot be: a key the kind does not have
    (a stored code must not carry a megabyte of anything), a value that is not text, text past
    WeCom's byte limit or that no database can store."""
    try:
        shape = SHAPES[item["type"]].model_validate(item)
    except PydanticValidationError as exc:
        problems = []
        for error in exc.errors():
            name = ".".join(str(part) for part in error["loc"])
            if error["type"] == "extra_forbidden":
                problems.append(_("“%(field)s” is not a field of this kind of attachment.") % {"field": name})
            else:
                problems.append(_("“%(field)s” must be text.") % {"field": name})
        return None, problems
    problems = []
    for name, limit in shape.limits.items():
        value = getattr(shape, name)
        unsafe = bounds.text_problem(value)
        if unsafe:
            problems.append(f"{name}: {unsafe}")
        elif len(value.encode("utf-8")) > limit:
            problems.append(_("%(field)s is %(n)s bytes; WeCom takes at most %(max)s.")
                            % {"field": name, "n": len(value.encode("utf-8")), "max": limit})
    return shape, problems


def _attachment_problems(item: Any) -> list[str]:
    if not isinstance(item, dict) or item.get("type") not in ATTACHMENT_KINDS:
        return [_("the type must be image, link, miniprogram, video or file.")]
    shape, problems = _shape_problems(item)
    if shape is None or problems:
        return problems

    def text_of(key: str) -> str:
        return str(getattr(shape, key, "")).strip()

    kind = item["type"]
    if text_of("file") and not UPLOADED_FILE.match(text_of("file")):
        problems.append(_("the picture is not one uploaded here; upload it again."))
    if kind == "image":
        if not (text_of("media_id") or text_of("pic_url") or text_of("file")):
            problems.append(_("an image needs an uploaded picture, a media_id or a pic_url."))
        if text_of("pic_url") and not _URL.match(text_of("pic_url")):
            problems.append(_("pic_url must be an http(s) address."))
    elif kind == "link":
        if not text_of("title"):
            problems.append(_("a link needs a title."))
        if not _URL.match(text_of("url")):
            problems.append(_("a link needs an http(s) url."))
        if text_of("picurl") and not _URL.match(text_of("picurl")):
            problems.append(_("picurl must be an http(s) address."))
    elif kind == "miniprogram":
        missing = [k for k in ("title", "pic_media_id", "appid", "page")
                   if not text_of(k) and not (k == "pic_media_id" and text_of("file"))]
        if missing:
            problems.append(_("a mini-program needs %(fields)s.") % {"fields": ", ".join(missing)})
    elif not text_of("media_id"):
        problems.append(_("a video or a file needs a media_id."))
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
        elif kind == "miniprogram":
            out.append(Attachment.of_miniprogram(item["title"], item.get("pic_media_id", ""), item["appid"], item["page"]))
        else:  # video, file
            out.append(Attachment.model_validate({"msgtype": kind, kind: {"media_id": item["media_id"]}}))
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
    code_id: int
    code_updated_at: dt.datetime  # new media ids are stored only if the code was not saved since
    welcome_code: str
    occurred_at: dt.datetime
    text: str
    attachments: list[dict[str, Any]]
    persona_name: str
    staff_name: str
    welfare: str
    welfare_note: str
    # the group code's QR, sent after the code's own attachments and never stored on the code
    invite: dict[str, str] | None = None


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


def record_welcome(record: WelcomeRecord, status: WelcomeStatus, note: str = "",
                   *, only_if: Sequence[WelcomeStatus] = _OPEN) -> bool:
    """Record the add's outcome, once (an outcome already recorded is never overwritten; `only_if`
    narrows the statuses it may replace); sent and missed go on the customer's timeline. True
    when this call recorded it."""
    return record_welcomes([(record, status, note)], only_if=only_if)[0]


def record_welcomes(outcomes: Sequence[tuple[WelcomeRecord, WelcomeStatus, str]],
                    *, only_if: Sequence[WelcomeStatus] = _OPEN) -> list[bool]:
    """`record_welcome` for a batch of one brand's adds, with their timeline entries in one insert."""
    if not outcomes:
        return []
    recorded: list[bool] = []
    notes: list[customers.TimelineNote] = []
    with transaction.atomic():
        for record, status, note in outcomes:
            note = note[:NOTE_MAX_CHARS]
            done = bool(WelcomeRecord.unscoped.filter(pk=record.pk, status__in=only_if).update(status=status, note=note))
            recorded.append(done)
            kind = _ON_TIMELINE.get(status)
            if not done or kind is None:
                continue
            record.status, record.note = status, note
            relation = record.relation
            notes.append(customers.TimelineNote(
                relation.customer, kind, timezone.now(), account_id=relation.account_id, detail=note,
                dedupe_key=f"welcome:{relation.pk}:{int(record.added_at.timestamp())}"))
        if notes:
            customers.add_timelines(outcomes[0][0].relation.workspace, notes)
    return recorded


@dataclass(frozen=True)
class NewFriend:
    """An add as its welcome needs it (from `FriendAdded` or `FriendHalfAdded`)."""

    staff_userid: str
    external_userid: str
    state: str
    welcome_code: str
    at: dt.datetime


def welcome_new_friends(workspace: Workspace, adds: Sequence[NewFriend], now: dt.datetime | None = None
                        ) -> list[WelcomeStatus | None]:
    """The welcome lane: welcome a batch of adds, each inside WeCom's 20 s window.

    In one transaction the adds are kept (`customers.record_adds`, a few statements for the
    batch) and decided: NO_CODE, NOT_CONFIGURED, MISSED for an add already past its window (at
    once, without spending more on it: under a burst past capacity the lane serves the adds that
    can still make it), or claimed with its welfare issued. Once that commits, the claimed
    welcomes are sent side by side (`send_claimed_welcomes`). Returns each add's status, None
    where this call decided nothing (an add decided before, or an older add of a relation
    re-added since)."""
    now = now or timezone.now()
    codes = {code.state: code for code in ChannelCode.objects.for_workspace(workspace)
             .filter(state__in={add.state for add in adds if add.state}, active=True)}
    decided: dict[NewFriend, WelcomeStatus | WelcomeJob] = {}
    with transaction.atomic():
        relations = customers.record_adds(workspace, [
            customers.NewAdd(add.staff_userid, add.external_userid, add.state, add.at) for add in adds])
        current = [relation for add, relation in zip(adds, relations, strict=True) if relation.added_at == add.at]
        records = _open_welcomes(workspace, current)
        accounts = StaffAccount.objects.for_workspace(workspace).select_related("persona").in_bulk(
            {relation.account_id for relation in current})
        unsent: list[tuple[WelcomeRecord, WelcomeStatus, str]] = []
        for add, relation in zip(adds, relations, strict=True):
            record = records.get((relation.pk, add.at))
            if record is None or record.status != WelcomeStatus.PENDING:
                continue
            code = codes.get(add.state)
            nothing = _without_send(add, code) or (
                (WelcomeStatus.MISSED, _age_note(now - add.at)) if now - add.at > WELCOME_WINDOW else None)
            if nothing is not None:
                unsent.append((record, *nothing))
                decided[add] = nothing[0]
            elif claim_welcome(record):
                assert code is not None  # noqa: S101 - `_without_send` found one
                decided[add] = _job(workspace, add, record, code, accounts[relation.account_id], now)
        record_welcomes(unsent)
    jobs = [job for job in decided.values() if isinstance(job, WelcomeJob)]
    sent = dict(zip([job.record_id for job in jobs], send_claimed_welcomes(workspace, jobs), strict=True))
    out: list[WelcomeStatus | None] = []
    for add in adds:
        found = decided.get(add)
        out.append(sent[found.record_id] if isinstance(found, WelcomeJob) else found)
    return out


def _open_welcomes(workspace: Workspace, relations: list[FollowRelation]
                   ) -> dict[tuple[int, dt.datetime], WelcomeRecord]:
    """`open_welcome` for a batch: each relation's current add's record, keyed (relation, add time)."""
    WelcomeRecord.unscoped.bulk_create([WelcomeRecord(workspace=workspace, relation=relation, added_at=relation.added_at)
                                        for relation in relations], ignore_conflicts=True)
    by_pk = {relation.pk: relation for relation in relations}
    found = {}
    for record in WelcomeRecord.objects.for_workspace(workspace).filter(relation__in=relations):
        relation = by_pk[record.relation_id]
        if record.added_at == relation.added_at:
            record.relation = relation
            found[(relation.pk, record.added_at)] = record
    return found


def _without_send(add: NewFriend, code: ChannelCode | None) -> tuple[WelcomeStatus, str] | None:
    """The outcome of an add that has nothing to send, with its note; None when there is."""
    if not add.welcome_code:
        return WelcomeStatus.NO_CODE, _(
            "WeCom gave no welcome code (an admin welcome message is set, or the pair chatted before).")
    if code is None:
        return WelcomeStatus.NOT_CONFIGURED, _("No active channel code for this state.")
    if not (code.welcome_text.strip() or code.welcome_attachments or code.group_code_id):
        return WelcomeStatus.NOT_CONFIGURED, _("The code has no welcome message.")
    return None


def _job(workspace: Workspace, add: NewFriend, record: WelcomeRecord, code: ChannelCode, account: StaffAccount,
         now: dt.datetime) -> WelcomeJob:
    """A claimed add's welcome as the sender needs it, with the code's welfare issued."""
    welfare, welfare_note = "", ""
    welfare_offer = code.welfare if code.welfare_id is not None else None  # no query without one
    if welfare_offer is not None:
        outcome = try_issue_welfare(workspace, welfare_offer, record.relation.customer, code, account, now)
        welfare, welfare_note = welfare_text(outcome.grant), outcome.reason
    return WelcomeJob(
        workspace_id=workspace.pk, record_id=record.pk, code_id=code.pk, code_updated_at=code.updated_at,
        welcome_code=add.welcome_code, occurred_at=add.at,
        text=code.welcome_text, attachments=list(code.welcome_attachments),
        persona_name=account.persona.name if account.persona else "", staff_name=account.name or account.userid,
        welfare=welfare, welfare_note=welfare_note, invite=invite_attachment(workspace, code.group_code_id),
    )


# Sends in flight at once per worker process: a send is mostly waiting for WeCom's answer.
SEND_THREADS = 16
_senders = ThreadPoolExecutor(max_workers=SEND_THREADS, thread_name_prefix="welcome-send")


def send_claimed_welcomes(workspace: Workspace, jobs: Sequence[WelcomeJob], now: dt.datetime | None = None
                          ) -> list[WelcomeStatus]:
    """Send claimed welcome messages side by side over one HTTP connection pool, and record
    WeCom's answers. Never raises for WeCom's errors; never called twice for one claim."""
    if not jobs:
        return []
    records = {r.pk: r for r in WelcomeRecord.objects.for_workspace(workspace).select_related("relation__customer", "relation__workspace")
               .filter(pk__in=[job.record_id for job in jobs])}
    connection = connection_of(workspace)
    if connection is None:
        answers = [(WelcomeStatus.MISSED, _("The brand is not connected to WeCom."))] * len(jobs)
    else:
        # The batch's API calls are logged in one insert when the pool closes, not one per call.
        with WeComClient(connection, call_log=[]) as pool:
            language = translation.get_language()
            answers = list(_senders.map(
                lambda job: _in_thread(workspace, language, pool, records[job.record_id], job, now), jobs))
    record_welcomes([(records[job.record_id], status, note) for job, (status, note) in zip(jobs, answers, strict=True)])
    return [status for status, _note in answers]


def _in_thread(workspace: Workspace, language: str | None, pool: WeComClient, record: WelcomeRecord,
               job: WelcomeJob, now: dt.datetime | None) -> tuple[WelcomeStatus, str]:
    try:  # a pool thread inherits neither the caller's workspace nor its language
        with workspace_context(workspace), translation.override(language):
            return _send(workspace, pool, record, job, now)
    except Exception as exc:  # the claim stays recorded; say what happened rather than "sending" forever
        logger.exception("welcome message of relation %s failed", record.relation_id)
        return WelcomeStatus.MISSED, _("Internal error before WeCom answered: %(error)s") % {
            "error": f"{type(exc).__name__}: {exc}"}
    finally:
        close_old_connections()  # this thread's own database connection


def _send(workspace: Workspace, pool: WeComClient, record: WelcomeRecord, job: WelcomeJob,
          now: dt.datetime | None) -> tuple[WelcomeStatus, str]:
    now = now or timezone.now()
    left = WELCOME_WINDOW - (now - job.occurred_at)
    if left <= dt.timedelta(0):
        return WelcomeStatus.MISSED, _age_note(now - job.occurred_at)
    # Never wait, nor back off from a rate limit, past the add's window.
    seconds = left.total_seconds()
    client = pool.with_options(ClientOptions(timeout_seconds=max(1.0, min(CALL_TIMEOUT_SECONDS, seconds)),
                                             limit_backoff_seconds=min(1.0, seconds / 4)))
    customer = record.relation.customer
    if "{customer_nickname}" in job.text:  # the only part of the message that needs WeCom's profile
        customer = customers.ensure_profile(workspace, customer, client)
    text = render_welcome(job.text, {
        "customer_nickname": customer.name, "persona_name": job.persona_name,
        "staff_name": job.staff_name, "welfare": job.welfare,
    })
    try:
        attachments = _with_fresh_media(workspace, client, job) + ([job.invite] if job.invite else [])
        client.send_welcome_message(job.welcome_code, text, to_attachments(attachments))
    except WeComUnavailable as exc:
        return WelcomeStatus.MISSED, _(
            "No answer from WeCom (%(error)s); not retried, since the message may have been delivered "
            "and a welcome code works once.") % {"error": exc.errmsg[:120]}
    except WeComError as exc:
        return WelcomeStatus.MISSED, _("WeCom refused: %(code)s %(msg)s") % {"code": exc.errcode, "msg": exc.errmsg}
    # The event's time has whole seconds (WeCom's CreateTime), so this is an upper bound.
    note = _("Sent within %(s)s s of the add.") % {"s": f"{(timezone.now() - job.occurred_at).total_seconds():.1f}"}
    if job.welfare_note:
        note += " " + _("Without welfare: %(reason)s.") % {"reason": job.welfare_note}
    return WelcomeStatus.SENT, note


def _with_fresh_media(workspace: Workspace, client: WeComClient, job: WelcomeJob) -> list[dict[str, Any]]:
    """The job's attachments with each uploaded picture's media id fresh; new ids are stored on
    the code unless it was saved meanwhile (the form's save then holds the newer list)."""
    attachments, changed = fresh_media(workspace, client, job.attachments)
    if changed:
        ChannelCode.unscoped.filter(pk=job.code_id, updated_at=job.code_updated_at).update(
            welcome_attachments=attachments)
    return attachments


def sweep_stuck_welcomes(workspace: Workspace, now: dt.datetime | None = None) -> int:
    """Record as missed the welcomes still open long after their window: sends left "sending" by a
    worker that stopped between claiming and recording WeCom's answer (whether WeCom delivered it
    is unknown, and the note says so), and adds no worker reached while one could still send."""
    cutoff = (now or timezone.now()) - STUCK_AFTER
    stuck = WelcomeRecord.objects.for_workspace(workspace).filter(
        status__in=_OPEN, added_at__lt=cutoff).select_related("relation__customer")
    notes = {
        WelcomeStatus.SENDING: _("The worker stopped while sending; WeCom's answer was never recorded, so the "
                                 "customer may or may not have received it."),
        WelcomeStatus.PENDING: _("No worker reached this add within WeCom's 20 s window."),
    }
    return sum(record_welcome(record, WelcomeStatus.MISSED, notes[WelcomeStatus(record.status)],
                              only_if=[WelcomeStatus(record.status)])
               for record in stuck)
