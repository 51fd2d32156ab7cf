"""回调投递 — the twin's callback delivery, as WeCom does it (WECOM.md §2).

Events are built as WeCom's inner XML, encrypted with the app's Token and EncodingAESKey, and
POSTed to the platform's callback URL from a background thread, so the admin call that caused
them answers at once. No response within the timeout, or a non-200, counts as a failed attempt
and the event is sent again, `callback_attempts` times in all. Every attempt is recorded.
"""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any
from xml.sax.saxutils import escape

import httpx

from siyu.simulator.config import TwinConfig
from siyu.wecom.crypto import CallbackCipher

logger = logging.getLogger("siyu.simulator.callbacks")


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def contact_event_xml(
    corp_id: str,
    create_time: int,
    change_type: str,
    userid: str,
    external_userid: str,
    **extra: str,
) -> bytes:
    """The inner XML of a `change_external_contact` event, laid out as WeCom sends it.

    Empty extras (State, WelcomeCode) are left out, as WeCom leaves them out.
    """
    parts = [
        f"<ToUserName>{_cdata(corp_id)}</ToUserName>",
        f"<FromUserName>{_cdata('sys')}</FromUserName>",
        f"<CreateTime>{create_time}</CreateTime>",
        f"<MsgType>{_cdata('event')}</MsgType>",
        f"<Event>{_cdata('change_external_contact')}</Event>",
        f"<ChangeType>{_cdata(change_type)}</ChangeType>",
        f"<UserID>{_cdata(userid)}</UserID>",
        f"<ExternalUserID>{_cdata(external_userid)}</ExternalUserID>",
    ]
    parts += [f"<{escape(k)}>{_cdata(v)}</{escape(k)}>" for k, v in extra.items() if v]
    return ("<xml>" + "".join(parts) + "</xml>").encode("utf-8")


def chat_event_xml(
    corp_id: str,
    create_time: int,
    chat_id: str,
    change_type: str,
    *,
    update_detail: str = "",
    join_scene: int | None = None,
    quit_scene: int | None = None,
    members: list[str] | None = None,
    last_version: str = "",
    current_version: str = "",
) -> bytes:
    """The inner XML of a `change_external_chat` event (WECOM.md §4), in WeCom's field order:
    numbers bare, text in CDATA, changed members as `<MemChangeList><Item>…</Item></MemChangeList>`.
    `create` and `dismiss` carry only the ChatId; `update` carries the detail."""
    parts = [
        f"<ToUserName>{_cdata(corp_id)}</ToUserName>",
        f"<FromUserName>{_cdata('sys')}</FromUserName>",
        f"<CreateTime>{create_time}</CreateTime>",
        f"<MsgType>{_cdata('event')}</MsgType>",
        f"<Event>{_cdata('change_external_chat')}</Event>",
        f"<ChatId>{_cdata(chat_id)}</ChatId>",
        f"<ChangeType>{_cdata(change_type)}</ChangeType>",
    ]
    if change_type == "update":
        parts.append(f"<UpdateDetail>{_cdata(update_detail)}</UpdateDetail>")
        if join_scene is not None:
            parts.append(f"<JoinScene>{int(join_scene)}</JoinScene>")
        if quit_scene is not None:
            parts.append(f"<QuitScene>{int(quit_scene)}</QuitScene>")
        if members is not None:
            items = "".join(f"<Item>{_cdata(m)}</Item>" for m in members)
            parts.append(f"<MemChangeCnt>{len(members)}</MemChangeCnt>")
            parts.append(f"<MemChangeList>{items}</MemChangeList>")
        if last_version or current_version:
            parts.append(f"<LastMemVer>{_cdata(last_version)}</LastMemVer>")
            parts.append(f"<CurMemVer>{_cdata(current_version)}</CurMemVer>")
    return ("<xml>" + "".join(parts) + "</xml>").encode("utf-8")


@dataclass
class Attempt:
    number: int
    at: float
    outcome: str  # "ok", "timeout", "http <status>", "error: <type>"
    http_status: int | None
    duration_ms: int


@dataclass
class Delivery:
    id: int
    kind: str  # "change_external_contact/add_external_contact", ...
    inner_xml: str
    created_at: float
    status: str = "pending"  # pending | delivered | failed | undeliverable
    attempts: list[Attempt] = field(default_factory=list)


class CallbackDispatcher:
    """A queue of callbacks and the threads that deliver them: one by default, in order; WeCom
    itself delivers side by side (`TwinConfig.callback_threads`), and in no promised order."""

    def __init__(self, config: TwinConfig, now: Callable[[], float]) -> None:
        self.config = config
        self.now = now
        self.cipher = CallbackCipher(config.callback_token, config.encoding_aes_key, config.corp_id)
        self._rng = random.Random(config.seed + 1)
        self._lock = threading.Lock()
        self._deliveries: list[Delivery] = []
        self._queue: queue.Queue[Delivery | None] = queue.Queue()
        self._http = httpx.Client(timeout=config.callback_timeout_seconds)
        self._threads = [threading.Thread(target=self._run, name=f"twin-callbacks-{n}", daemon=True)
                         for n in range(max(1, config.callback_threads))]
        for thread in self._threads:
            thread.start()

    def enqueue(self, kind: str, inner_xml: bytes) -> Delivery:
        with self._lock:
            delivery = Delivery(
                len(self._deliveries) + 1, kind, inner_xml.decode("utf-8"), self.now()
            )
            self._deliveries.append(delivery)
        self._queue.put(delivery)
        return delivery

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(d) for d in self._deliveries]

    def wait_idle(self, timeout: float = 30) -> bool:
        """True once every queued callback has finished all its attempts."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._queue.unfinished_tasks == 0:
                return True
            time.sleep(0.02)
        return False

    def close(self) -> None:
        for _thread in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout=self.config.callback_timeout_seconds * self.config.callback_attempts + 5)
        self._http.close()

    # -- the delivery threads --

    def _run(self) -> None:
        while True:
            delivery = self._queue.get()
            try:
                if delivery is None:
                    return
                self._deliver(delivery)
            except Exception:  # keep the thread alive whatever one delivery does
                logger.exception("callback delivery crashed")
            finally:
                self._queue.task_done()

    def _deliver(self, delivery: Delivery) -> None:
        url = self.config.callback_url
        if not url:
            self._set_status(delivery, "undeliverable")
            return
        for number in range(1, self.config.callback_attempts + 1):
            if number > 1 and self.config.callback_retry_delay_seconds:
                time.sleep(self.config.callback_retry_delay_seconds)
            attempt = self._attempt(url, delivery, number)
            with self._lock:
                delivery.attempts.append(attempt)
            if attempt.outcome == "ok":
                self._set_status(delivery, "delivered")
                return
        self._set_status(delivery, "failed")

    def _attempt(self, url: str, delivery: Delivery, number: int) -> Attempt:
        timestamp = str(int(self.now()))
        nonce = str(self._rng.randrange(10**8, 10**10))
        msg_signature, body = self.cipher.encrypt_event(
            delivery.inner_xml.encode("utf-8"), timestamp, nonce, self.config.agent_id
        )
        params = {"msg_signature": msg_signature, "timestamp": timestamp, "nonce": nonce}
        started, at = time.monotonic(), self.now()
        status: int | None = None
        try:
            response = self._http.post(
                url, params=params, content=body, headers={"Content-Type": "text/xml"}
            )
            status = response.status_code
            outcome = "ok" if status == 200 else f"http {status}"
        except httpx.TimeoutException:
            outcome = "timeout"  # WECOM.md §2: WeCom drops the connection after 5 s
        except httpx.HTTPError as exc:
            outcome = f"error: {type(exc).__name__}"
        return Attempt(number, at, outcome, status, int((time.monotonic() - started) * 1000))

    def _set_status(self, delivery: Delivery, status: str) -> None:
        with self._lock:
            delivery.status = status
