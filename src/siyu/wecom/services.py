"""The connector's services: configuration, the callback inbox, and processing into domain events."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import OperationalError, close_old_connections, transaction
from django.db import connection as db_connection
from django.db.models import Case, Count, Max, Min, Q, Sum, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from siyu.core import events
from siyu.core.models import AuditAction, Membership, Workspace
from siyu.core.permissions import Action, Module, Seat, require, role_of
from siyu.core.queue import enqueue
from siyu.core.services import audit
from siyu.wecom import events as ev
from siyu.wecom import parsing, spool
from siyu.wecom.api_bases import api_base_problem
from siyu.wecom.crypto import CallbackCipher, CallbackCryptoError, Reason
from siyu.wecom.models import (
    WECOM_API_BASE,
    ApiCall,
    CallbackRejection,
    InboundEvent,
    InboundStatus,
    WeComConnection,
)
from siyu.wecom.rejections import REJECTIONS

if TYPE_CHECKING:
    from siyu.wecom.client import WeComClient

logger = logging.getLogger("siyu.wecom")
MAX_CALLBACK_BYTES = 64 * 1024
# WeCom signs the delivery time; a delivery this far from our clock is treated as a replay.
MAX_CALLBACK_SKEW = dt.timedelta(hours=24)
_TOKEN_RE = re.compile(r"^[A-Za-z0-9]{1,32}$")


# --- configuration ---------------------------------------------------------------------------

def configure(
    workspace: Workspace,
    membership: Seat | None,
    *,
    corp_id: str,
    agent_id: str,
    secret: str,
    token: str,
    aes_key: str,
    api_base: str = WECOM_API_BASE,
) -> WeComConnection:
    """Save the brand's WeCom settings (secrets encrypted at rest). WECOM.md §2: the token is
    at most 32 letters or digits and the EncodingAESKey exactly 43 characters."""
    require(role_of(membership), Module.SYSTEM, Action.EDIT)
    errors: dict[str, str] = {}
    if not corp_id.strip():
        errors["corp_id"] = _("Enter the corp ID (企业ID).")
    if not agent_id.strip():
        errors["agent_id"] = _("Enter the app's AgentId.")
    if not secret.strip():
        errors["secret"] = _("Enter the app secret.")
    if not _TOKEN_RE.match(token):
        errors["token"] = _("The callback token is 1 to 32 letters or digits.")
    if len(aes_key) != 43:
        errors["aes_key"] = _("The EncodingAESKey is exactly 43 characters.")
    else:
        try:
            CallbackCipher(token if _TOKEN_RE.match(token) else "x", aes_key, corp_id or "x")
        except CallbackCryptoError:
            errors["aes_key"] = _("This EncodingAESKey is not valid base64.")
    api_base = api_base.strip()
    if not api_base.endswith("/"):
        api_base += "/"
    problem = api_base_problem(api_base)
    if problem:
        errors["api_base"] = problem
    if errors:
        raise ValidationError(errors)
    connection = WeComConnection.objects.for_workspace(workspace).first() or WeComConnection(workspace=workspace)
    connection.corp_id, connection.agent_id, connection.api_base = corp_id.strip(), agent_id.strip(), api_base
    connection.set_secrets(secret=secret.strip(), token=token, aes_key=aes_key)
    connection.save()
    # This process forgets the old keys at once (and again after commit, in case another thread
    # cached them meanwhile); other processes reload when a callback fails with them (`_open`).
    slug = workspace.slug
    _connections.pop(slug, None)
    transaction.on_commit(lambda: _connections.pop(slug, None))
    audit(workspace, membership.user if membership else None, AuditAction.SETTINGS_CHANGED, "wecom",
          {"corp_id": connection.corp_id, "api_base": api_base}, module="wecom")
    return connection


def connection_of(workspace: Workspace) -> WeComConnection | None:
    return WeComConnection.objects.for_workspace(workspace).first()


class NotConnected(Exception):
    """The brand has no WeCom connection yet: nothing can be asked of WeCom."""


def client_for(workspace: Workspace) -> WeComClient:
    """The API client for this brand's WeCom connection; use it as a context manager."""
    from siyu.wecom.client import WeComClient

    connection = connection_of(workspace)
    if connection is None:
        raise NotConnected(_("Connect this brand to WeCom first (Settings → WeCom connector)."))
    return WeComClient(connection)


# --- the callback inbox ------------------------------------------------------------------------

class CallbackRefused(Exception):
    def __init__(self, status: int, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}")
        self.status, self.reason, self.detail = status, reason, detail


@dataclass(frozen=True)
class Accepted:
    """A stored callback: `event_id` is its inbox row's id or, when `spooled` (SQLite), its spool
    row's id (see `wecom.spool`); `duplicate` if it is a repeat delivery of a callback still there."""

    event_id: int
    duplicate: bool
    spooled: bool = False


# Callbacks are the hot path: each web process keeps a brand's connection and cipher for a few
# seconds instead of querying and decrypting the settings on every delivery.
CONNECTION_CACHE_SECONDS = 5.0
# Keys saved in another process are not in this one's cache yet: a callback that fails with the
# cached keys reloads them once and is checked again (a query for a refused callback only, never
# for an accepted one). At most once a second per brand, so forged callbacks cannot make a query each.
RELOAD_AFTER_REFUSAL_SECONDS = 1.0
_reloaded: dict[str, float] = {}
# The refusals new keys can explain; a stale timestamp, an oversized or malformed body cannot.
_KEY_REASONS = frozenset({Reason.BAD_SIGNATURE, Reason.UNDECRYPTABLE, Reason.WRONG_RECEIVE_ID})
Opened = TypeVar("Opened")


@dataclass(frozen=True)
class _Found:
    connection: WeComConnection
    cipher: CallbackCipher
    cached: bool  # from this process's cache, so possibly older than the saved settings


_connections: dict[str, tuple[float, _Found]] = {}


def _load_connection(slug: str, now: float) -> _Found:
    connection = WeComConnection.unscoped.select_related("workspace").filter(workspace__slug=slug).first()
    if connection is None:
        _connections.pop(slug, None)
        raise CallbackRefused(404, "unknown_workspace", slug[:60])
    cipher = CallbackCipher(connection.token, connection.aes_key, connection.corp_id)
    _connections[slug] = (now + CONNECTION_CACHE_SECONDS, _Found(connection, cipher, cached=True))
    return _Found(connection, cipher, cached=False)


def _find_connection(slug: str) -> _Found:
    now = time.monotonic()
    cached = _connections.get(slug)
    if cached and cached[0] > now:
        return cached[1]
    return _load_connection(slug, now)


def _reload_after_refusal(slug: str, stale: WeComConnection) -> _Found | None:
    """The brand's connection as saved now, if it changed since `stale` was cached."""
    now = time.monotonic()
    if _reloaded.get(slug, 0.0) > now:
        return None
    _reloaded[slug] = now + RELOAD_AFTER_REFUSAL_SECONDS
    try:
        fresh = _load_connection(slug, now)
    except CallbackRefused:  # the connection was deleted meanwhile
        return None
    changed = (fresh.connection.pk, fresh.connection.updated_at) != (stale.pk, stale.updated_at)
    return fresh if changed else None


def forget_cached_connections() -> None:
    _connections.clear()
    _reloaded.clear()


def forget_recent_rejections() -> None:
    """Forget this process's counts of recent refusals (`wecom.rejections`)."""
    REJECTIONS.forget()


def _refuse(connection: WeComConnection, reason: str, detail: str, remote_addr: str | None, status: int = 400) -> CallbackRefused:
    REJECTIONS.record(connection.workspace_id, connection.workspace.slug, reason, detail, remote_addr)
    return CallbackRefused(status, reason, detail)


def _refused_by_crypto(connection: WeComConnection, exc: CallbackCryptoError, remote_addr: str | None) -> CallbackRefused:
    status = 413 if exc.reason == Reason.TOO_LARGE else 400
    return _refuse(connection, str(exc.reason), str(exc), remote_addr, status)


def _open(
    slug: str, found: _Found, remote_addr: str | None, open_with: Callable[[CallbackCipher], Opened]
) -> tuple[WeComConnection, Opened]:
    """Check and decrypt with the brand's keys; if cached keys fail, with the saved ones once more."""
    connection = found.connection
    try:
        return connection, open_with(found.cipher)
    except CallbackCryptoError as exc:
        fresh = _reload_after_refusal(slug, connection) if found.cached and exc.reason in _KEY_REASONS else None
        if fresh is None:
            raise _refused_by_crypto(connection, exc, remote_addr) from exc
    connection = fresh.connection
    try:
        return connection, open_with(fresh.cipher)
    except CallbackCryptoError as exc:
        raise _refused_by_crypto(connection, exc, remote_addr) from exc


def _timestamp_problem(timestamp: str, now: dt.datetime) -> str | None:
    try:
        sent = dt.datetime.fromtimestamp(int(timestamp), tz=dt.UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return "timestamp is not a number"
    if abs(now - sent) > MAX_CALLBACK_SKEW:
        return "timestamp is too far from now (a replay?)"
    return None


def verify_url(
    slug: str,
    msg_signature: str,
    timestamp: str,
    nonce: str,
    echostr: str,
    remote_addr: str | None,
    now: dt.datetime | None = None,
) -> str:
    """WeCom's URL check (WECOM.md §2): the decrypted echostr, answered as the whole body. Its
    timestamp must be as recent as a callback's: an old signed check replayed is refused."""
    found = _find_connection(slug)
    problem = _timestamp_problem(timestamp, now or timezone.now())
    if problem:
        raise _refuse(found.connection, "stale_timestamp", problem, remote_addr)
    return _open(slug, found, remote_addr, lambda cipher: cipher.verify_url(msg_signature, timestamp, nonce, echostr))[1]


def receive_callback(
    slug: str,
    msg_signature: str,
    timestamp: str,
    nonce: str,
    body: bytes,
    remote_addr: str | None,
    now: dt.datetime | None = None,
) -> Accepted:
    """Verify, decrypt and store one callback, and enqueue its processing after commit.

    On SQLite the callback is stored in the spool (`wecom.spool`), committed when this returns;
    a spool that cannot take it raises, and the endpoint answers 500 (WeCom retries). A repeat
    delivery (same dedupe key) is counted and acknowledged without a second effect."""
    found = _find_connection(slug)
    problem = _timestamp_problem(timestamp, now or timezone.now())
    if problem:
        raise _refuse(found.connection, "stale_timestamp", problem, remote_addr)
    connection, inner = _open(
        slug, found, remote_addr,
        lambda cipher: cipher.decrypt_event(msg_signature, timestamp, nonce, body, MAX_CALLBACK_BYTES),
    )
    try:
        callback = parsing.read_callback(inner)
    except parsing.MalformedCallback as exc:
        raise _refuse(connection, "malformed_event", str(exc), remote_addr) from exc

    if spool.in_use():
        row_id, deliveries = spool.put(connection.workspace_id, callback.dedupe_key, callback.kind[:80],
                                       inner.decode("utf-8", errors="replace"), callback.fields)
        wake_drain()
        return Accepted(row_id, duplicate=deliveries > 1, spooled=True)
    event_id, deliveries = _store(connection.workspace_id, callback, inner)
    # A repeat schedules a drain too: the first delivery may have been stored while its drain
    # could not be enqueued (it was answered 500, hence this repeat). Drains are one per window.
    transaction.on_commit(schedule_drain)
    return Accepted(event_id, duplicate=deliveries > 1)


def _store(workspace_id: int, callback: parsing.Callback, inner: bytes) -> tuple[int, int]:
    """Insert the callback, or count one more delivery of it, in one statement (an upsert on the
    dedupe key), so concurrent repeats cannot race."""
    table = InboundEvent._meta.db_table
    vendor = db_connection.vendor
    parsed = "CAST(%s AS jsonb)" if vendor == "postgresql" else "%s"
    # The table name is the model's, never input.
    sql = (
        f"INSERT INTO {table} (workspace_id, dedupe_key, kind, raw_xml, parsed, status, error, deliveries, received_at) "  # noqa: S608
        f"VALUES (%s, %s, %s, %s, {parsed}, %s, '', 1, %s) "
        f"ON CONFLICT (workspace_id, dedupe_key) DO UPDATE SET deliveries = {table}.deliveries + 1 "
        "RETURNING id, deliveries"
    )
    params: list[int | str | None] = [
        workspace_id, callback.dedupe_key, callback.kind[:80], inner.decode("utf-8", errors="replace"),
        json.dumps(callback.fields, ensure_ascii=False), InboundStatus.RECEIVED,
        db_connection.ops.adapt_datetimefield_value(timezone.now()),
    ]
    with db_connection.cursor() as cursor:
        cursor.execute(sql, params)
        event_id, deliveries = cursor.fetchone()
    return event_id, deliveries


_next_drain = 0.0
DRAIN_TASK = "siyu.wecom.tasks.drain_inbox"


def _drain_window() -> float | None:
    """The seconds until this process may enqueue the next drain task, or None if it may now (and
    the window starts)."""
    global _next_drain
    now = time.monotonic()
    if now < _next_drain:
        return _next_drain - now
    _next_drain = now + settings.SIYU["INBOX_DRAIN_DELAY_MS"] / 1000
    return None


def _enqueue_drain() -> None:
    # The task runs no earlier than the window's end, so every callback stored in this process
    # during the window is committed before the task looks: one task serves many callbacks.
    delay = settings.SIYU["INBOX_DRAIN_DELAY_MS"] / 1000
    run_after = timezone.now() + dt.timedelta(seconds=delay) if delay else None
    enqueue(DRAIN_TASK, run_after=run_after, on_commit=False)


def schedule_drain() -> None:
    """Ask a worker to drain the inbox, at most once per window per process."""
    if _drain_window() is None:
        _enqueue_drain()


# --- waking the drain on SQLite --------------------------------------------------------------
#
# Enqueueing the drain task writes to the main database, whose write lock the worker holds almost
# all the time: a request that enqueued would wait for it again. So the request enqueues only if
# it can without waiting, and otherwise leaves it to a thread of its process that waits for the
# lock. If that thread's enqueue fails, the sweep (`requeue_unprocessed`) still finds the callbacks.

def _drain_waiting() -> bool:
    """A drain task is queued and not started yet: it will see whatever is committed now."""
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(status="READY", task_path=DRAIN_TASK).exists()


@contextmanager
def _no_lock_wait() -> Iterator[None]:
    """Fail at once (OperationalError, "database is locked") instead of waiting for SQLite's write lock."""
    timeout_ms = int(db_connection.settings_dict.get("OPTIONS", {}).get("timeout", 5) * 1000)
    with db_connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout = 0")
    try:
        yield
    finally:
        with db_connection.cursor() as cursor:
            cursor.execute(f"PRAGMA busy_timeout = {timeout_ms}")


class _DrainWaker:
    """The web process's thread that enqueues the drain task when a request could not."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self._asked = threading.Event()
        threading.Thread(target=self._run, name="inbox-drain-waker", daemon=True).start()

    def ask(self) -> None:
        self._asked.set()

    def _run(self) -> None:
        while True:
            self._asked.wait()
            self._asked.clear()
            try:
                if not _drain_waiting():
                    _enqueue_drain()
            except Exception:
                logger.exception("could not enqueue the inbox drain; the sweep will")
            finally:
                close_old_connections()


_waker: _DrainWaker | None = None
_waker_lock = threading.Lock()


def wake_drain() -> None:
    """After a callback is spooled: make sure a drain task will look, at most once per window per
    process, without making the request wait for the main database."""
    global _waker
    if _drain_window() is not None:
        return
    try:
        if _drain_waiting():
            return
        with _no_lock_wait():
            _enqueue_drain()
    except OperationalError:
        with _waker_lock:
            if _waker is None or _waker.pid != os.getpid():
                _waker = _DrainWaker()
        _waker.ask()


def _read(stored: InboundEvent) -> ev.WeComEvent | InboundStatus:
    """The callback's domain event, or why there is none (FAILED with `stored.error` set, or UNKNOWN)."""
    try:
        domain_event = parsing.to_domain_event(parsing.read_callback(stored.raw_xml.encode()))
    except parsing.MalformedCallback as exc:
        stored.error = str(exc)
        return InboundStatus.FAILED
    return InboundStatus.UNKNOWN if domain_event is None else domain_event


def drain(batch_size: int = 100) -> int:
    """Turn stored callbacks into domain events, oldest first, a batch per transaction; on SQLite,
    move each batch from the spool into the inbox first (`wecom.spool`).

    Rows are locked with SKIP LOCKED on PostgreSQL, so several workers drain side by side. The bus
    deduplicates on the inbox key, so a batch replayed after a crash publishes nothing twice."""
    done = 0
    spooled = spool.in_use()
    while True:
        moved = spool.move(batch_size) if spooled else 0
        processed = _drain_batch(batch_size)
        done += processed
        # A part batch means the inbox was empty: stop rather than poll it a callback at a time
        # (the next callback schedules the next drain). A busy drain would otherwise hand its
        # subscribers, the welcome lane's batches among them, one event each.
        if moved < batch_size and processed < batch_size:
            return done


def _drain_batch(batch_size: int) -> int:
    with transaction.atomic():
        batch = list(
            InboundEvent.unscoped.select_for_update(skip_locked=True, of=("self",))
            .select_related("workspace")
            .filter(status=InboundStatus.RECEIVED)
            .order_by("id")[:batch_size]
        )
        if not batch:
            return 0
        outcomes: dict[str, list[int]] = {}
        to_publish: dict[int, list[events.Publication]] = {}
        workspaces = {}
        for stored in batch:
            result = _read(stored)
            if result == InboundStatus.FAILED:
                InboundEvent.unscoped.filter(pk=stored.pk).update(status=result, error=stored.error)
                continue
            if isinstance(result, ev.WeComEvent):
                workspaces[stored.workspace_id] = stored.workspace
                to_publish.setdefault(stored.workspace_id, []).append(
                    events.Publication(result, f"wecom:{stored.dedupe_key}", result.occurred_at)
                )
                result = InboundStatus.PROCESSED
            outcomes.setdefault(result, []).append(stored.pk)
        for workspace_id, publications in to_publish.items():
            events.publish_many(workspaces[workspace_id], publications)
        # One UPDATE per outcome: bulk_update's per-row CASE costs more than the work itself.
        now = timezone.now()
        for status, ids in outcomes.items():
            InboundEvent.unscoped.filter(pk__in=ids).update(status=status, processed_at=now)
    return len(batch)


def requeue_unprocessed(now: dt.datetime | None = None, grace: dt.timedelta = dt.timedelta(seconds=60)) -> int:
    """The sweep: callbacks still waiting after the grace period (a lost or failed drain task),
    in the inbox or in the spool, get a new drain task."""
    now = now or timezone.now()
    waiting = InboundEvent.unscoped.filter(status=InboundStatus.RECEIVED, received_at__lt=now - grace).count()
    if spool.in_use():
        waiting += spool.waiting(older_than=now - grace)
    if waiting:
        enqueue(DRAIN_TASK, on_commit=False)
    return waiting


# --- console ---------------------------------------------------------------------------------

def reprocess(workspace: Workspace, membership: Membership | None, event_id: int) -> InboundEvent:
    require(role_of(membership), Module.SYSTEM, Action.EDIT)
    stored = InboundEvent.objects.for_workspace(workspace).get(pk=event_id)
    InboundEvent.unscoped.filter(pk=stored.pk).update(status=InboundStatus.RECEIVED, error="")
    transaction.on_commit(schedule_drain)
    return stored


def inbound_events(
    workspace: Workspace, membership: Membership | None, kind: str = "", status: str = "", limit: int = 100
) -> list[InboundEvent]:
    require(role_of(membership), Module.SYSTEM, Action.VIEW)
    qs = InboundEvent.objects.for_workspace(workspace)
    if kind:
        qs = qs.filter(kind=kind)
    if status:
        qs = qs.filter(status=status)
    return list(qs[:limit])


def inbound_kinds(workspace: Workspace) -> list[str]:
    return list(InboundEvent.objects.for_workspace(workspace).values_list("kind", flat=True).distinct().order_by("kind"))


def api_calls(workspace: Workspace, membership: Membership | None, limit: int = 200) -> list[ApiCall]:
    """Outbound calls, errors first."""
    require(role_of(membership), Module.SYSTEM, Action.VIEW)
    failed_first = Case(When(errcode=0, then=Value(0)), default=Value(1))
    return list(ApiCall.objects.for_workspace(workspace).order_by(failed_first.desc(), "-at")[:limit])


def test_connection(workspace: Workspace, membership: Membership | None) -> str:
    """Fetch an access token with the saved settings: the quickest proof they work.

    Whatever went wrong on the way (no answer, a refused connection, a server that is not WeCom),
    the admin sees one message and the detail goes to the log: the answer must not tell what
    listens at an address."""
    from siyu.wecom.client import WeComClient, WeComError, WeComUnavailable

    require(role_of(membership), Module.SYSTEM, Action.EDIT)
    connection = connection_of(workspace)
    if connection is None:
        raise ValidationError(_("Save the WeCom settings first."))
    problem = api_base_problem(connection.api_base)
    if problem:
        raise ValidationError(problem)
    try:
        with WeComClient(connection) as client:
            token = client.get_token()
    except WeComUnavailable as exc:
        logger.warning("connection test for %s: no answer from %s: %s", workspace.slug, connection.api_base, exc.errmsg)
        raise ValidationError(
            _("WeCom did not answer at the API base URL. Check the address and try again.")
        ) from exc
    except WeComError as exc:
        logger.warning("connection test for %s: WeCom refused: %s %s", workspace.slug, exc.errcode, exc.errmsg)
        raise ValidationError(
            _("WeCom refused these settings (errcode %(errcode)s). Check the corp ID and the app secret.")
            % {"errcode": exc.errcode}
        ) from exc
    return _("Connected: WeCom issued an access token valid for %(seconds)s seconds.") % {"seconds": token.expires_in}


@dataclass(frozen=True)
class Health:
    configured: bool
    token_fetched_at: dt.datetime | None
    last_event_at: dt.datetime | None
    events_last_hour: int
    rejections_last_hour: int
    calls_last_hour: int
    call_error_rate: float | None


def health(workspace: Workspace, membership: Membership | None, now: dt.datetime | None = None) -> Health:
    require(role_of(membership), Module.SYSTEM, Action.VIEW)
    now = now or timezone.now()
    hour_ago = now - dt.timedelta(hours=1)
    inbox = InboundEvent.objects.for_workspace(workspace).aggregate(
        last=Max("received_at"), recent=Count("id", filter=Q(received_at__gte=hour_ago))
    )
    calls = ApiCall.objects.for_workspace(workspace).filter(at__gte=hour_ago).aggregate(
        total=Count("id"), failed=Count("id", filter=~Q(errcode=0))
    )
    last_token = ApiCall.objects.for_workspace(workspace).filter(endpoint="gettoken", errcode=0).order_by("-at").first()
    # A flood is recorded a few rows a minute; the refusals beyond are counted on them (`wecom.rejections`).
    refused = CallbackRejection.objects.for_workspace(workspace).filter(at__gte=hour_ago).aggregate(
        rows=Count("id"), more=Sum("suppressed")
    )
    return Health(
        configured=connection_of(workspace) is not None,
        token_fetched_at=last_token.at if last_token else None,
        last_event_at=inbox["last"],
        events_last_hour=inbox["recent"],
        rejections_last_hour=refused["rows"] + (refused["more"] or 0),
        calls_last_hour=calls["total"],
        call_error_rate=(calls["failed"] / calls["total"]) if calls["total"] else None,
    )


def inbox_backlog(workspace: Workspace) -> tuple[int, dt.datetime | None]:
    """The brand's callbacks stored but not yet processed (the spool's included), and when the
    oldest arrived."""
    waiting = InboundEvent.objects.for_workspace(workspace).filter(status=InboundStatus.RECEIVED)
    found = waiting.aggregate(n=Count("id"), oldest=Min("received_at"))
    count, oldest = found["n"], found["oldest"]
    if spool.in_use():
        spooled, spooled_oldest = spool.backlog(workspace.pk)
        count += spooled
        oldest = min(filter(None, (oldest, spooled_oldest)), default=None)
    return count, oldest
