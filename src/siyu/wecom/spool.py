"""The callback spool: on SQLite, where the web keeps WeCom's callbacks until a worker moves them
into the inbox (`InboundEvent`).

SQLite has one write lock per database file, and the worker's transactions (draining, publishing,
running subscribers) hold the main file's lock almost all the time. A callback written straight
into the inbox waits for a gap in that lock, and WeCom waits for our answer meanwhile. So on
SQLite the web writes callbacks into a small second file next to the main one (the spool), whose
only writers are the web's one-row upserts and the worker's short claims and deletes, and answers
200 once the spool row is committed. PostgreSQL has row locks and needs no spool.

A spool row holds what the inbox stores for a callback, and is unique per (brand, dedupe key):
a repeat delivery while the callback waits here counts one more delivery. The drain (`services.
drain`) moves rows into the inbox a batch at a time:

1. claim a batch in the spool (a lease with a random token, so concurrent workers take disjoint
   batches, and a batch whose mover died is taken again once its lease ends);
2. upsert the batch into `InboundEvent` in one transaction of the main database, adding the
   deliveries on the dedupe key, and commit;
3. delete the claimed rows from the spool. Deliveries that arrived for a row after its claim are
   put back as a new row, so that they are counted too.

A crash between 2 and 3 moves the batch again when its lease ends. The dedupe key makes that
harmless: nothing is published twice, only those rows' `deliveries` are over-counted.

The file's name derives from the main database's, so tests, benchmarks and each data directory
get their own spool.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from django.db import connection as db_connection
from django.db import transaction

from siyu.core.models import Workspace
from siyu.wecom.models import InboundEvent, InboundStatus

logger = logging.getLogger("siyu.wecom")

# A move whose worker died is taken over after this long (the sweep's grace is as long).
CLAIM_SECONDS = 60.0
# WeCom waits 5 s for an answer (WECOM.md §2): waiting longer for the spool is pointless.
BUSY_TIMEOUT_SECONDS = 5.0
# Only the mover checkpoints as it goes (after its deletes); the web's inserts checkpoint only if
# no worker has moved anything for a long while, so an insert rarely pays for a checkpoint.
WEB_AUTOCHECKPOINT_PAGES = 20_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS spooled_callback (
    id INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL,
    dedupe_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    raw_xml TEXT NOT NULL,
    parsed TEXT NOT NULL,
    received_at REAL NOT NULL,
    deliveries INTEGER NOT NULL DEFAULT 1,
    claim TEXT,
    claimed_until REAL,
    UNIQUE (workspace_id, dedupe_key)
)
"""
_PUT = (
    "INSERT INTO spooled_callback (workspace_id, dedupe_key, kind, raw_xml, parsed, received_at) "
    "VALUES (?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (workspace_id, dedupe_key) DO UPDATE SET deliveries = deliveries + 1 "
    "RETURNING id, deliveries"
)
# Deliveries counted on a row after it was claimed, put back when the claimed row is deleted.
_PUT_BACK = (
    "INSERT INTO spooled_callback (workspace_id, dedupe_key, kind, raw_xml, parsed, received_at, deliveries) "
    "VALUES (?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (workspace_id, dedupe_key) DO UPDATE SET deliveries = deliveries + excluded.deliveries"
)
_COLUMNS = "id, workspace_id, dedupe_key, kind, raw_xml, parsed, received_at, deliveries"


def in_use() -> bool:
    """Whether callbacks go through the spool: on SQLite only."""
    return db_connection.vendor == "sqlite"


def path() -> Path:
    """The spool next to the main database file: `siyu.sqlite3` → `siyu.inbox-spool.sqlite3`."""
    main = Path(db_connection.settings_dict["NAME"])
    return main.with_name(f"{main.stem}.inbox-spool.sqlite3")


# --- connections ---------------------------------------------------------------------------------
#
# One connection per process for the web's inserts, used under a lock: the threads of a process
# queue on the lock for some microseconds instead of racing for SQLite's write lock. The mover and
# the counts use a connection per thread.

@dataclass
class _Opened:
    pid: int
    path: Path
    db: sqlite3.Connection


_shared: _Opened | None = None
_shared_lock = threading.Lock()
_local = threading.local()


def _open(spool: Path, busy_timeout: float = BUSY_TIMEOUT_SECONDS, autocheckpoint: int | None = None) -> sqlite3.Connection:
    db = sqlite3.connect(spool, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(_SCHEMA)
    if autocheckpoint is not None:
        db.execute(f"PRAGMA wal_autocheckpoint={int(autocheckpoint)}")
    db.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
    return db


def _usable(opened: _Opened | None, spool: Path) -> bool:
    # A connection opened before a fork (a preloading server) must not be used in the child.
    return opened is not None and opened.pid == os.getpid() and opened.path == spool


def _own_connection() -> sqlite3.Connection:
    opened: _Opened | None = getattr(_local, "opened", None)
    spool = path()
    if not _usable(opened, spool):
        opened = _local.opened = _Opened(os.getpid(), spool, _open(spool))
    assert opened is not None
    return opened.db


# --- the web: spooling one callback ------------------------------------------------------------

def put(workspace_id: int, dedupe_key: str, kind: str, raw_xml: str, parsed: dict[str, object]) -> tuple[int, int]:
    """Spool one callback, or count one more delivery of a spooled one, and commit: the spool
    row's id and its deliveries so far. Raises `sqlite3.Error` when the spool cannot take it."""
    global _shared
    spool = path()
    params = (workspace_id, dedupe_key, kind, raw_xml, json.dumps(parsed, ensure_ascii=False), time.time())
    with _shared_lock:
        if not _usable(_shared, spool):
            _shared = _Opened(os.getpid(), spool, _open(spool, busy_timeout=0, autocheckpoint=WEB_AUTOCHECKPOINT_PAGES))
        assert _shared is not None
        return _put(_shared.db, params)


def _put(db: sqlite3.Connection, params: tuple[int | str | float, ...]) -> tuple[int, int]:
    # SQLite's own busy handler sleeps 1 ms, 2 ms, 5 ms, … between tries, while another web
    # process holds the write lock for some tens of microseconds: retry sooner, on our own.
    deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
    pause = 0.0001
    while True:
        try:
            # One statement in autocommit mode: committed once its row is fetched (fetchall
            # steps the statement to its end).
            [(row_id, deliveries)] = db.execute(_PUT, params).fetchall()
            return row_id, deliveries
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.002)


# --- the worker: moving spooled callbacks into the inbox -----------------------------------------

@dataclass(frozen=True)
class _Row:
    id: int
    workspace_id: int
    dedupe_key: str
    kind: str
    raw_xml: str
    parsed: str
    received_at: float
    deliveries: int


def _claim(db: sqlite3.Connection, batch_size: int, now: float) -> tuple[str, list[_Row]]:
    token = secrets.token_hex(8)
    rows = db.execute(
        "UPDATE spooled_callback SET claim = ?, claimed_until = ? WHERE id IN ("  # noqa: S608
        "  SELECT id FROM spooled_callback WHERE claimed_until IS NULL OR claimed_until < ? ORDER BY id LIMIT ?"
        f") RETURNING {_COLUMNS}",
        (token, now + CLAIM_SECONDS, now, batch_size),
    ).fetchall()
    return token, sorted((_Row(*row) for row in rows), key=lambda row: row.id)


def _upsert_into_inbox(rows: list[_Row]) -> None:
    """One multi-row upsert into the inbox; rows of a brand deleted meanwhile are dropped."""
    brands = set(Workspace.objects.filter(pk__in={row.workspace_id for row in rows}).values_list("pk", flat=True))
    kept = [row for row in rows if row.workspace_id in brands]
    if len(kept) < len(rows):
        logger.warning("dropped %d spooled callbacks of deleted brands", len(rows) - len(kept))
    if not kept:
        return
    table = InboundEvent._meta.db_table
    adapt = db_connection.ops.adapt_datetimefield_value
    params: list[int | float | str | None] = []
    for row in kept:
        received = dt.datetime.fromtimestamp(row.received_at, tz=dt.UTC)
        params += [row.workspace_id, row.dedupe_key, row.kind, row.raw_xml, row.parsed, InboundStatus.RECEIVED,
                   row.deliveries, adapt(received)]
    values = ", ".join(["(%s, %s, %s, %s, %s, %s, '', %s, %s)"] * len(kept))
    # The table name is the model's, never input.
    sql = (
        f"INSERT INTO {table} (workspace_id, dedupe_key, kind, raw_xml, parsed, status, error, deliveries, received_at) "  # noqa: S608
        f"VALUES {values} "
        f"ON CONFLICT (workspace_id, dedupe_key) DO UPDATE SET deliveries = {table}.deliveries + excluded.deliveries"
    )
    with db_connection.cursor() as cursor:
        cursor.execute(sql, params)


def _release(db: sqlite3.Connection, token: str, rows: list[_Row]) -> None:
    """Delete the moved rows. A repeat delivery counted on a row after it was claimed is put
    back as a new row with just those deliveries, to be moved (added) next time."""
    moved = {row.id: row for row in rows}
    marks = ", ".join("?" * len(moved))
    db.execute("BEGIN IMMEDIATE")
    try:
        deleted = db.execute(
            f"DELETE FROM spooled_callback WHERE claim = ? AND id IN ({marks}) RETURNING id, deliveries",  # noqa: S608
            (token, *moved),
        ).fetchall()
        for row_id, deliveries in deleted:
            row = moved[row_id]
            if deliveries > row.deliveries:
                db.execute(_PUT_BACK, (row.workspace_id, row.dedupe_key, row.kind, row.raw_xml, row.parsed,
                                       row.received_at, deliveries - row.deliveries))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def move(batch_size: int = 100) -> int:
    """Move one batch of spooled callbacks into the inbox; how many left the spool (0: it is empty,
    or its rows are claimed by another worker)."""
    db = _own_connection()
    token, rows = _claim(db, batch_size, time.time())
    if not rows:
        return 0
    try:
        # Durable: the batch is deleted from the spool below, so it must be committed here, not
        # by some outer transaction that could still roll back.
        with transaction.atomic(durable=True):
            _upsert_into_inbox(rows)
    except BaseException:
        # Nothing was moved: free the batch for the next try instead of waiting out the lease.
        db.execute("UPDATE spooled_callback SET claim = NULL, claimed_until = NULL WHERE claim = ?", (token,))
        raise
    _release(db, token, rows)
    return len(rows)


# --- counts, for the sweep and the console ---------------------------------------------------------

def waiting(older_than: dt.datetime | None = None) -> int:
    """Callbacks in the spool (received before `older_than`, when given)."""
    if not path().exists():
        return 0
    before = older_than.timestamp() if older_than else float("inf")
    [(count,)] = _own_connection().execute(
        "SELECT count(*) FROM spooled_callback WHERE received_at < ?", (before,)
    ).fetchall()
    return int(count)


def backlog(workspace_id: int) -> tuple[int, dt.datetime | None]:
    """The brand's callbacks in the spool, and when the oldest arrived."""
    if not path().exists():
        return 0, None
    [(count, oldest)] = _own_connection().execute(
        "SELECT count(*), min(received_at) FROM spooled_callback WHERE workspace_id = ?", (workspace_id,)
    ).fetchall()
    return int(count), dt.datetime.fromtimestamp(oldest, tz=dt.UTC) if oldest is not None else None


def clear() -> None:
    """Empty the spool (tests: spooled rows are outside the test database's rollback)."""
    if path().exists():
        _own_connection().execute("DELETE FROM spooled_callback")
