"""Work a task hands to a thread of its worker process and does not wait for.

The welcome lane sends a batch's messages from a thread pool and returns, so its worker can
decide the next batch while WeCom answers the last one. The worker waits for whatever is
still in flight before it stops (`wait_all`), and so does a test's worker before it looks.
A thread's work must settle its own outcome, and leave a recoverable state if the process
dies under it (the welcome's claim does: the sweep settles it).
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, wait
from typing import Any

_in_flight: set[Future[Any]] = set()
_lock = threading.Lock()


def track(future: Future[Any]) -> None:
    with _lock:
        _in_flight.add(future)
    future.add_done_callback(_forget)


def _forget(future: Future[Any]) -> None:
    with _lock:
        _in_flight.discard(future)


def wait_all(timeout: float | None = None) -> None:
    """Wait until the work handed off so far is done (or `timeout` seconds have passed)."""
    with _lock:
        pending = list(_in_flight)
    wait(pending, timeout=timeout)
