"""The JS-SDK stand-in (`/twin/jssdk/ww.js`) in Chromium: a page on another origin goes
through WeCom OAuth, registers with an agentConfig signature, and calls the chat toolbar's
APIs, as a sidebar does (WECOM.md §10)."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from tests.simulator.twin import CORP_ID, RunningTwin, running_twin, twin_config

AGENT_ID = twin_config().agent_id


@pytest.fixture
def twin() -> Iterator[RunningTwin]:
    with running_twin(twin_config()) as twin:
        twin.add_staff("zhangsan")
        twin.admin.post("/twin/customers/add", json={
            "external_userid": "wmHong", "name": "小红", "staff_userid": "zhangsan",
        }).raise_for_status()
        yield twin


@pytest.fixture
def sidebar_origin(twin: RunningTwin) -> Iterator[str]:
    """A stand-in for the platform: the sidebar page (which loads the twin's ww.js) and its
    signing endpoint (the agent ticket from the twin, the signature computed here)."""
    jsapi_list = ["getContext", "getCurExternalContact", "sendChatMessage"]

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path, _, query = self.path.partition("?")
            if path == "/sign":
                url = parse_qs(query)["url"][0]
                ticket = twin.api("ticket/get", type="agent_config")["ticket"]
                plain = f"jsapi_ticket={ticket}&noncestr=abc&timestamp=1700000000&url={url}"
                digest = hashlib.sha1(plain.encode(), usedforsecurity=False).hexdigest()
                self._answer("application/json", json.dumps(
                    {"timestamp": 1700000000, "nonceStr": "abc", "signature": digest}))
                return
            register = json.dumps({"corpId": CORP_ID, "agentId": AGENT_ID, "jsApiList": jsapi_list})
            self._answer("text/html", (
                f'<!doctype html><script src="{twin.url}/twin/jssdk/ww.js"></script><script>'
                f"const options = {register};"
                "options.getAgentConfigSignature = (url) => "
                "fetch('/sign?url=' + encodeURIComponent(url)).then((r) => r.json());"
                "ww.register(options);</script><p>sidebar</p>"
            ))

        def _answer(self, content_type: str, body: str) -> None:
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def open_sidebar(page: Any, twin: RunningTwin, origin: str) -> None:
    query = urlencode({"appid": CORP_ID, "redirect_uri": f"{origin}/sidebar/", "response_type": "code",
                       "scope": "snsapi_base", "state": "s", "agentid": AGENT_ID, "twin_userid": "zhangsan"})
    page.goto(f"{twin.url}/connect/oauth2/authorize?{query}")
    assert urlsplit(page.url).path == "/sidebar/" and "code=" in page.url


def test_the_stand_in_answers_the_open_chat_and_records_what_it_sends(page, twin, sidebar_origin):
    open_sidebar(page, twin, sidebar_origin)
    refused = page.evaluate("ww.getCurExternalContact().then(() => 'ok', (e) => e.errMsg)")
    assert refused == "getCurExternalContact:fail not in a single chat with a customer"
    twin.admin.post("/twin/phone/open_chat", json={"userid": "zhangsan", "external_userid": "wmHong"})
    contact = page.evaluate("ww.getCurExternalContact()")
    assert contact["userId"] == "wmHong" and contact["errMsg"] == "getCurExternalContact:ok"
    assert page.evaluate("ww.getContext().then((c) => c.entry)") == "single_chat_tools"
    sent = page.evaluate("ww.sendChatMessage({msgtype: 'text', text: {content: '今天的福利到了'}})")
    assert sent == {"errMsg": "sendChatMessage:ok"}
    [recorded] = twin.admin.get("/twin/jssdk/sent", params={"userid": "zhangsan"}).json()["sent"]
    assert recorded["payload"] == {"content": "今天的福利到了"}
    # Not in jsApiList: refused in the page, as the official SDK does.
    assert page.evaluate("ww.getCurExternalChat().catch((e) => e.errMsg)") == "getCurExternalChat:fail no permission"
    # Callbacks work as well as promises.
    assert page.evaluate(
        "new Promise((done) => ww.getCurExternalContact({success: (r) => done(r.userId)}))"
    ) == "wmHong"


def test_a_bad_signature_fails_every_call(page, twin, sidebar_origin):
    open_sidebar(page, twin, sidebar_origin)
    page.evaluate(
        f"ww.register({{corpId: '{CORP_ID}', agentId: '{AGENT_ID}', jsApiList: ['getCurExternalContact'],"
        "getAgentConfigSignature: () => ({timestamp: 1, nonceStr: 'x', signature: 'forged'})})"
    )
    failure = page.evaluate("ww.getCurExternalContact().catch((e) => e.errMsg)")
    assert failure == "getCurExternalContact:fail agentConfig:fail invalid signature"
