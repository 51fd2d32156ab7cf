"""被拒回调 — recording the callbacks the endpoint refuses, without letting a flood fill the database.

Anyone who knows a brand's callback URL can post forged callbacks, thousands a second. Each web
process therefore stores at most `RECORD_PER_SOURCE` refusals a minute per (brand, source
address, reason), and at most `RECORD_PER_BRAND` a minute per brand, as `CallbackRejection` rows
(IPv6 sources count per /64, which one host usually owns). A refusal beyond that costs no
database write: it is counted in memory, and a timer thread adds the counts to the last recorded
row's `suppressed` about once a second (`FLUSH_SECONDS`), with one log line, so the health panel
still shows the flood. The limits are per process: N web processes record up to N times as many.
The nightly `wecom.prune_history` deletes old rows and keeps at most
`SIYU_RETAIN_REJECTIONS_MAX_ROWS` per brand.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection as db_connection
from django.db.models import F

from siyu.wecom.models import CallbackRejection

logger = logging.getLogger("siyu.wecom")

RECORD_PER_SOURCE = 10  # rows a minute per (brand, source, reason), per process
RECORD_PER_BRAND = 100  # rows a minute per brand, per process, whatever the sources
WINDOW_SECONDS = 60.0
FLUSH_SECONDS = 1.0
MAX_TRACKED = 10_000  # windows kept in memory before the expired ones are dropped


@dataclass
class _Window:
    """One minute of refusals for a brand, or for a (brand, source, reason)."""

    label: str
    ends: float
    recorded: int = 0
    row_id: int | None = None  # the last row recorded in this window
    counted: int = 0  # refusals not recorded, not yet added to a row
    brand: _Window | None = None  # a source's brand window, whose row takes the count if it has none


def _source_of(remote_addr: str | None) -> str:
    """The address a limit counts by: the address itself, or its /64 for IPv6."""
    if not remote_addr:
        return "-"
    try:
        address = ipaddress.ip_address(remote_addr)
    except ValueError:
        return remote_addr[:64]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


class RejectionLog:
    """This process's record of refused callbacks (see the module docstring)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._brands: dict[int, _Window] = {}
        self._sources: dict[tuple[int, str, str], _Window] = {}
        self._counting: list[_Window] = []  # windows with refusals counted and not yet flushed
        self._timer: threading.Timer | None = None

    def record(
        self, workspace_id: int, slug: str, reason: str, detail: str, remote_addr: str | None
    ) -> bool:
        """Record one refusal: store a row, or count it if the limits are reached. True if stored."""
        now = self._clock()
        source = _source_of(remote_addr)
        with self._lock:
            if len(self._sources) + len(self._brands) > MAX_TRACKED:
                self._forget_expired(now)
            brand = self._brands.get(workspace_id)
            if brand is None or brand.ends <= now:
                brand = self._brands[workspace_id] = _Window(slug, now + WINDOW_SECONDS)
            key = (workspace_id, source, reason)
            window = self._sources.get(key)
            if window is not None and window.ends <= now:
                window = None
            if brand.recorded >= RECORD_PER_BRAND:
                self._count(brand)
                return False
            if window is None:
                window = self._sources[key] = _Window(
                    f"{slug}: {reason} from {source}", now + WINDOW_SECONDS, brand=brand
                )
            if window.recorded >= RECORD_PER_SOURCE:
                self._count(window)
                return False
            window.recorded += 1
            brand.recorded += 1
        row = CallbackRejection.unscoped.create(
            workspace_id=workspace_id, reason=reason, detail=detail[:300], remote_addr=remote_addr
        )
        with self._lock:
            window.row_id = brand.row_id = row.pk
        logger.warning("refused callback for %s: %s (%s)", slug, reason, detail)
        return True

    def _count(self, window: _Window) -> None:
        if not window.counted:
            self._counting.append(window)
        window.counted += 1
        if self._timer is None:
            self._timer = threading.Timer(FLUSH_SECONDS, self._flush_from_timer)
            self._timer.daemon = True
            self._timer.start()

    def _forget_expired(self, now: float) -> None:
        # Windows still counting stay reachable from `_counting` until flushed.
        self._sources = {k: w for k, w in self._sources.items() if w.ends > now}
        self._brands = {k: w for k, w in self._brands.items() if w.ends > now}

    def _flush_from_timer(self) -> None:
        try:
            self.flush()
        except Exception:
            logger.exception("could not count the suppressed callback refusals")
        finally:
            db_connection.close()  # this thread's own connection

    def flush(self) -> int:
        """Add the counted refusals to their rows now; returns how many were added."""
        with self._lock:
            self._timer = None
            ready: dict[int, int] = {}
            labels: list[tuple[str, int]] = []
            waiting = []
            for window in self._counting:
                row_id = window.row_id or (window.brand.row_id if window.brand else None)
                if row_id is None:  # its row is being inserted by another thread
                    waiting.append(window)
                    continue
                ready[row_id] = ready.get(row_id, 0) + window.counted
                labels.append((window.label, window.counted))
                window.counted = 0
            self._counting = waiting
            if waiting:
                self._timer = threading.Timer(FLUSH_SECONDS, self._flush_from_timer)
                self._timer.daemon = True
                self._timer.start()
        for row_id, count in ready.items():
            CallbackRejection.unscoped.filter(pk=row_id).update(suppressed=F("suppressed") + count)
        for label, count in labels:
            logger.warning("refused %d more callbacks for %s without recording each", count, label)
        return sum(ready.values())

    def forget(self) -> None:
        """Drop every window and count (for tests: brands are recreated with the same ids)."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = None
            self._brands.clear()
            self._sources.clear()
            self._counting = []


REJECTIONS = RejectionLog()
