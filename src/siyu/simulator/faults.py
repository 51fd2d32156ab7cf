"""Faults a test can inject into the twin's `/cgi-bin/` API, per API path: WeCom refusing with an
errcode (e.g. 45009, "api freq out of limit") and WeCom answering late, for the next N calls.

A delay runs **before** the call's effect (WeCom is slow to take the call: a client that gives up
leaves nothing behind… until the twin gets to it) or **after** it (the effect happened, but the
answer comes late: a client that times out, or a worker killed while waiting, never learns that
its welcome message was delivered). An errcode without `after_effect` refuses the call, which
then has no effect; with `after_effect` the effect happens and the answer is the error anyway.

Set through the admin API (`POST /twin/faults`, `DELETE /twin/faults`, see `admin.py`); active
faults and the calls each API received are in `GET /twin/state` under `faults`. A delay sleeps
outside the world's lock, so other calls are served meanwhile.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass
from typing import Any

from siyu.simulator.world import ApiError

Answer = tuple[int, dict[str, Any]]
MAX_DELAY_SECONDS = 600.0  # a typo must not hang a request thread for hours


@dataclass
class Fault:
    api: str  # the path under /cgi-bin/, e.g. "externalcontact/send_welcome_msg"
    errcode: int = 0  # 0: answer as usual
    errmsg: str = ""
    delay_seconds: float = 0.0
    after_effect: bool = False
    times: int | None = None  # calls still to fault; None: every call until cleared
    applied: int = 0

    def wait_before_effect(self) -> None:
        if not self.after_effect and self.delay_seconds:
            time.sleep(self.delay_seconds)

    def refuse_before_effect(self) -> None:
        """Called under the world's lock once the call is authenticated and counted."""
        if self.errcode and not self.after_effect:
            raise ApiError(self.errcode, self.errmsg)

    def answer_after_effect(self, answer: Answer) -> Answer:
        if not self.after_effect:
            return answer
        if self.delay_seconds:
            time.sleep(self.delay_seconds)
        status, payload = answer
        if self.errcode and payload.get("errcode") == 0:
            return status, {"errcode": self.errcode, "errmsg": self.errmsg}
        return answer


class Faults:
    """The twin's active faults, one per API path, and the calls each API path received."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: dict[str, Fault] = {}
        self._received: dict[str, int] = {}

    def set(self, fault: Fault) -> Fault:
        if fault.delay_seconds < 0 or fault.delay_seconds > MAX_DELAY_SECONDS:
            raise ValueError(f"delay_seconds must be between 0 and {MAX_DELAY_SECONDS:.0f}")
        if fault.times is not None and fault.times < 1:
            raise ValueError("times must be at least 1 (leave it out for every call)")
        if not (fault.errcode or fault.delay_seconds):
            raise ValueError("give an errcode, a delay_seconds, or both")
        with self._lock:
            self._faults[fault.api] = fault
        return fault

    def clear(self, api: str | None = None) -> int:
        with self._lock:
            if api is None:
                cleared = len(self._faults)
                self._faults.clear()
                return cleared
            return 1 if self._faults.pop(api, None) else 0

    def take(self, api: str) -> Fault | None:
        """A call to `api` arrived: count it, and return the fault it gets (using up one of the
        fault's `times`), or None."""
        with self._lock:
            self._received[api] = self._received.get(api, 0) + 1
            fault = self._faults.get(api)
            if fault is None:
                return None
            fault.applied += 1
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    del self._faults[api]
            return fault

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"active": [asdict(f) for f in self._faults.values()], "received": dict(self._received)}
