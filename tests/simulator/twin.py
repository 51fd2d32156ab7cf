"""Helpers shared by the twin's tests and the client's: a twin served on a free loopback port,
and a tiny HTTP server that captures callbacks (optionally answering slowly)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import httpx

from siyu.simulator.app import TwinApp, make_twin_server
from siyu.simulator.config import TwinConfig
from siyu.wecom.crypto import CallbackCipher

CORP_ID = "wwtwintest000001"
SECRET = "s3cret-for-tests"
TOKEN = "TwinTestToken"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"


def twin_config(**overrides: Any) -> TwinConfig:
    values: dict[str, Any] = {
        "corp_id": CORP_ID,
        "corp_secret": SECRET,
        "callback_token": TOKEN,
        "encoding_aes_key": AES_KEY,
        "seed": 1,
    }
    return TwinConfig(**(values | overrides))


@dataclass
class RunningTwin:
    url: str
    app: TwinApp
    admin: httpx.Client

    @property
    def api_base(self) -> str:
        return f"{self.url}/cgi-bin/"

    def state(self) -> dict[str, Any]:
        response = self.admin.get("/twin/state")
        response.raise_for_status()
        return response.json()

    def add_staff(self, userid: str, **fields: Any) -> None:
        self.admin.post(
            "/twin/staff", json={"userid": userid, "name": userid, **fields}
        ).raise_for_status()

    def token(self) -> str:
        data = self.admin.get(
            "/cgi-bin/gettoken", params={"corpid": CORP_ID, "corpsecret": SECRET}
        ).json()
        return data["access_token"]

    def call(
        self, name: str, token: str, json: dict[str, Any] | None = None, **params: str
    ) -> dict[str, Any]:
        """Call a /cgi-bin/ API as a client would: GET without a body, POST with one."""
        params = {"access_token": token, **params}
        if json is None:
            return self.admin.get(f"/cgi-bin/{name}", params=params).json()
        return self.admin.post(f"/cgi-bin/{name}", params=params, json=json).json()

    def api(self, name: str, json: dict[str, Any] | None = None, **params: str) -> dict[str, Any]:
        """`call` with a token valid now, for tests that move the twin's clock past 2 h."""
        return self.call(name, self.token(), json, **params)

    def advance(self, seconds: float) -> None:
        self.admin.post("/twin/clock/advance", json={"seconds": seconds}).raise_for_status()

    def wait_for_callbacks(self, timeout: float = 20) -> list[dict[str, Any]]:
        assert self.app.callbacks.wait_idle(timeout), "callbacks still being delivered"
        return self.state()["callbacks"]


@contextmanager
def running_twin(config: TwinConfig) -> Iterator[RunningTwin]:
    server, app = make_twin_server("127.0.0.1", 0, config)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        with httpx.Client(base_url=url, timeout=10) as client:
            yield RunningTwin(url, app, client)
    finally:
        server.shutdown()
        server.server_close()
        app.close()


@dataclass
class Captured:
    path: str
    query: str
    body: bytes
    at: float


def decrypt_xml(captured: Captured) -> bytes:
    """The inner XML of a captured callback, decrypted as the platform decrypts it."""
    query = {k: v[0] for k, v in parse_qs(captured.query).items()}
    cipher = CallbackCipher(TOKEN, AES_KEY, CORP_ID)
    return cipher.decrypt_event(
        query["msg_signature"], query["timestamp"], query["nonce"], captured.body
    )


@dataclass
class CallbackReceiver:
    """What a platform's callback endpoint received; `delay` seconds before each answer."""

    url: str
    received: list[Captured] = field(default_factory=list)
    delay: float = 0.0
    statuses: list[int] = field(default_factory=list)  # answers to give first, then 200


@contextmanager
def callback_receiver(
    delay: float = 0.0, statuses: list[int] | None = None
) -> Iterator[CallbackReceiver]:
    """A stand-in for the platform's callback endpoint: `delay` seconds before each answer,
    and the given HTTP statuses for the first requests (200 afterwards)."""
    receiver = CallbackReceiver(url="", delay=delay, statuses=list(statuses or []))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            path, _, query = self.path.partition("?")
            receiver.received.append(Captured(path, query, self.rfile.read(length), time.time()))
            if receiver.delay:
                time.sleep(receiver.delay)
            try:
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()
            except OSError:
                pass  # the twin gave up waiting and closed the connection

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_port}/wecom/callback/alpha/"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


def connect_brand(workspace: Any, twin: RunningTwin) -> None:
    """Connect a brand to a running twin, as an admin would on the settings page."""
    from siyu.core.services import OPERATOR
    from siyu.wecom import services as wecom

    wecom.configure(workspace, OPERATOR, corp_id=CORP_ID, agent_id="1000002", secret=SECRET, token=TOKEN,
                    aes_key=AES_KEY, api_base=twin.api_base)


@contextmanager
def twin_calling_back(workspace: Any, live_server_url: str, **overrides: Any) -> Iterator[RunningTwin]:
    """A twin that delivers its encrypted callbacks to the live server, the brand connected to it."""
    from siyu.core.services import OPERATOR
    from siyu.wecom import services as wecom

    config = twin_config(callback_url=f"{live_server_url}/wecom/callback/{workspace.slug}/", **overrides)
    with running_twin(config) as running:
        wecom.configure(workspace, OPERATOR, corp_id=config.corp_id, agent_id=config.agent_id,
                        secret=config.corp_secret, token=config.callback_token, aes_key=config.encoding_aes_key,
                        api_base=running.api_base)
        yield running


@contextmanager
def tokens_in_memory(settings: Any) -> Iterator[None]:
    """Access tokens cached in process memory (one twin per test, no cache table needed), and no
    connection carried from one test's brand to the next's."""
    from django.core.cache import cache

    from siyu.wecom import services as wecom

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()
    wecom.forget_cached_connections()
    yield
    cache.clear()
    wecom.forget_cached_connections()
