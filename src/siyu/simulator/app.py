"""The twin as a WSGI application: `/cgi-bin/<api>` as WeCom, `/twin/<action>` for tests and demos.

State lives in memory, so serve it from one process (gunicorn `--workers 1 --threads 8`, or
`serve()` here); requests are served in threads and the world is guarded by one lock.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable
from html import escape
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qsl
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from wsgiref.util import application_uri

from siyu.simulator import (
    acquisition,
    admin,
    api,
    groups,
    identity,
    mass,
    media,
    moments,
    notices,
    page,
    phone,
    refusals,
    tags,
    transfers,
    wechat,
)
from siyu.simulator.callbacks import CallbackDispatcher
from siyu.simulator.config import TwinConfig
from siyu.simulator.faults import Fault
from siyu.simulator.world import BAD_JSON, REQUIRE_GET, REQUIRE_POST, ApiError, World

logger = logging.getLogger("siyu.simulator")

StartResponse = Callable[..., Any]
MAX_BODY_BYTES = 1024 * 1024
# media/upload takes files up to 20 MB (media.UPLOAD_LIMITS), plus the multipart framing.
MAX_MEDIA_BODY_BYTES = 21 * 1024 * 1024
MEDIA_PREFIX = "/cgi-bin/media/"
CGI_PREFIX = "/cgi-bin/"
ADMIN_PREFIX = "/twin/"
# A contact way's QR image, and the page its QR encodes (what a customer's phone opens).
QR_PATH = re.compile(r"^/twin/qr/(?P<config_id>[0-9A-Za-z]+)\.png$")
SCAN_PATH = re.compile(r"^/twin/scan/(?P<config_id>[0-9A-Za-z]+)/?$")

ENDPOINTS: dict[str, api.Endpoint] = (
    api.ENDPOINTS
    | groups.ENDPOINTS
    | mass.ENDPOINTS
    | moments.ENDPOINTS
    # media.py cannot import api.py (api.py checks media ids), so its endpoint is listed here.
    | {"media/upload": api.Endpoint("POST", media.upload, json_body=False)}
    | notices.ENDPOINTS
    | acquisition.ENDPOINTS
    | transfers.ENDPOINTS
    | identity.ENDPOINTS
    | refusals.ENDPOINTS  # what WeCom refuses in customer groups (kick, auto-reply, notice)
    # The WeChat service account's API (api.weixin.qq.com/cgi-bin/...): paths WeCom does not use.
    | wechat.ENDPOINTS
)
ADMIN_ROUTES: dict[tuple[str, str], admin.AdminHandler] = (
    admin.ROUTES
    | groups.ADMIN_ROUTES
    | mass.ADMIN_ROUTES
    | moments.ADMIN_ROUTES
    | transfers.ADMIN_ROUTES
    | tags.ADMIN_ROUTES
    | notices.ADMIN_ROUTES
    | identity.ADMIN_ROUTES
    | wechat.ADMIN_ROUTES
)


class TwinApp:
    """The WSGI callable. `world` and `callbacks` are open for in-process inspection."""

    def __init__(self, config: TwinConfig) -> None:
        self.config = config
        self.world = World(config)
        self.callbacks = CallbackDispatcher(config, self.world.clock.now)
        self.twin = admin.Twin(self.world, self.callbacks)

    def close(self) -> None:
        self.callbacks.close()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        path = environ.get("PATH_INFO", "/")
        query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        body = _read_body(
            environ, MAX_MEDIA_BODY_BYTES if path.startswith(MEDIA_PREFIX) else MAX_BODY_BYTES
        )
        api.REQUEST_BASE_URL.set(application_uri(environ).rstrip("/"))
        self._pass_time()
        content_type = "application/json; charset=utf-8"
        headers: tuple[tuple[str, str], ...] = ()
        qr_match, scan_match = QR_PATH.match(path), SCAN_PATH.match(path)
        reply = phone.route(self.twin, method, path, query, body, environ)
        if reply is not None:  # OAuth pages, WeChat's /sns/ API, the JS-SDK stand-in
            status, content_type, data, headers = reply.status, reply.content_type, reply.body, reply.headers
        elif method == "GET" and path in ("/twin", ADMIN_PREFIX):
            status, content_type = 200, "text/html; charset=utf-8"
            data = page.render(admin.state(self.twin, {})[1]).encode("utf-8")
        elif qr_match and method == "GET":
            status, content_type, data = self._qr_image(qr_match["config_id"])
        elif scan_match and method in ("GET", "POST"):
            status, data = self._scan_page(method, scan_match["config_id"], body)
            content_type = "text/html; charset=utf-8"
        else:
            if path.startswith(CGI_PREFIX):
                name = path.removeprefix(CGI_PREFIX)
                status, payload = self._cgi(
                    method, name, query, body, environ.get("CONTENT_TYPE", "")
                )
            elif path.startswith(ADMIN_PREFIX):
                name = path.removeprefix(ADMIN_PREFIX).rstrip("/")
                status, payload = self._admin(method, name, body, query)
            else:
                status, payload = 404, {"error": "not found"}
            data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self._pass_time()
        if path.startswith(phone.JSSDK_PREFIX):
            headers += phone.cors_headers(environ)
        start_response(
            f"{status} {_REASONS.get(status, 'Status')}",
            [("Content-Type", content_type), ("Content-Length", str(len(data))), *headers],
        )
        return [data]

    def _qr_image(self, config_id: str) -> tuple[int, str, bytes]:
        with self.world.lock:
            way = self.world.contact_ways.get(config_id)
            has_qr = way is not None and bool(way.qr_code)
            join_way_png = None if has_qr else groups.join_way_qr_png(
                self.world, api.REQUEST_BASE_URL.get(), config_id)
        if join_way_png is not None:
            return 200, "image/png", join_way_png
        if not has_qr:
            return 404, "application/json; charset=utf-8", b'{"error": "no such QR code"}'
        return 200, "image/png", api.contact_way_qr_png(api.REQUEST_BASE_URL.get(), config_id)

    def _scan_page(self, method: str, config_id: str, body: bytes) -> tuple[int, bytes]:
        """The page a scanned code opens: a customer (played by whoever holds the phone) adds
        the code's staff member, exactly as `POST /twin/customers/add` with this config_id."""
        with self.world.lock:
            way = self.world.contact_ways.get(config_id)
            remark = way.remark if way else ""
        if way is None:
            return 404, _scan_html("Not found", "<p>No such contact way in this twin.</p>")
        status, message = 200, ""
        if method == "POST":
            form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
            try:
                status, added = admin.add_customer(
                    self.twin, {"name": form.get("name", "").strip(), "config_id": config_id}
                )
            except admin.AdminError as exc:
                status, message = exc.status, f"<p class=error>Not added: {escape(exc.message)}</p>"
            else:
                message = (
                    f"<p>Added: <b>{escape(added['external_userid'])}</b> is now a friend of "
                    f"<b>{escape(added['userid'])}</b> (state {escape(added['state'] or '-')}).</p>"
                )
        form_html = (
            f"<form method=post action=\"/twin/scan/{escape(config_id)}\">"
            "<label>Customer name <input name=name value=\"Scanner\" required></label> "
            "<button type=submit>Add as friend</button></form>"
        )
        title = f"Contact way {config_id}" + (f" · {remark}" if remark else "")
        return status, _scan_html(title, message + form_html)

    def _pass_time(self) -> None:
        """Things that happen when time passes (transfers falling due) happen on the next
        request after their moment, and their callbacks go out then."""
        with self.world.lock:
            due = transfers.settle_due(self.world)
        if due:
            self.twin.emit(due)

    def _cgi(
        self, method: str, name: str, query: dict[str, str], body: bytes, content_type: str
    ) -> tuple[int, dict[str, Any]]:
        endpoint = ENDPOINTS.get(name)
        if endpoint is None:
            return 404, {"errcode": 404, "errmsg": f"no such api: {name} (twin)"}
        fault = self.twin.faults.take(name)  # a test's injected refusal or delay (faults.py)
        if fault is not None:
            fault.wait_before_effect()
        answer = self._cgi_call(endpoint, method, name, query, body, content_type, fault)
        return fault.answer_after_effect(answer) if fault is not None else answer

    def _cgi_call(
        self, endpoint: api.Endpoint, method: str, name: str, query: dict[str, str], body: bytes,
        content_type: str, fault: Fault | None,
    ) -> tuple[int, dict[str, Any]]:
        with self.world.lock:
            try:
                if method != endpoint.method:
                    raise ApiError(
                        REQUIRE_GET if endpoint.method == "GET" else REQUIRE_POST,
                        f"require {endpoint.method} method",
                    )
                if endpoint.needs_token:
                    self.world.authenticate(query.get("access_token", ""))
                    self.world.count_call(name)
                if fault is not None:
                    fault.refuse_before_effect()
                if method != "POST":
                    payload: dict[str, Any] = {}
                elif endpoint.json_body:
                    payload = _json_body(body)
                else:
                    payload = {"content": body, "content_type": content_type}
                result = endpoint.handler(self.world, query, payload)
            except ApiError as exc:
                return 200, {"errcode": exc.errcode, "errmsg": exc.errmsg}
        return 200, {"errcode": 0, "errmsg": "ok", **result}

    def _admin(
        self, method: str, name: str, body: bytes, query: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        handler = ADMIN_ROUTES.get((method, name))
        if handler is None:
            return 404, {"error": f"no such admin action: {method} /twin/{name}"}
        try:
            payload = json.loads(body) if body.strip() else {}
            if not isinstance(payload, dict):
                raise admin.AdminError(400, "the body must be a JSON object")
            if method == "GET":  # a GET's parameters come in its query string
                payload = query | payload
            return handler(self.twin, payload)
        except json.JSONDecodeError:
            return 400, {"error": "the body is not JSON"}
        except admin.AdminError as exc:
            return exc.status, {"error": exc.message}


_REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
    302: "Found",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    413: "Payload Too Large",
}


def _scan_html(title: str, content: str) -> bytes:
    return (
        "<!doctype html><html><head><meta charset=utf-8>"
        "<meta name=viewport content=\"width=device-width\">"
        f"<title>{escape(title)}</title></head><body><h1>{escape(title)}</h1>"
        f"{content}<p><a href=\"/twin/\">The twin</a></p></body></html>"
    ).encode()


def _read_body(environ: dict[str, Any], limit: int = MAX_BODY_BYTES) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return environ["wsgi.input"].read(min(length, limit)) if length > 0 else b""


def _json_body(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body) if body.strip() else {}
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiError(BAD_JSON, "data format error") from None
    if not isinstance(payload, dict):
        raise ApiError(BAD_JSON, "data format error")
    return payload


def create_app(config: TwinConfig) -> TwinApp:
    return TwinApp(config)


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    # The listen backlog, fixed when the socket starts listening (in the constructor). The
    # default 5 drops connections under a burst, and a dropped SYN is retried only after 1 s.
    request_queue_size = 1024


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's signature
        logger.debug("%s " + format, self.address_string(), *args)


def make_twin_server(
    host: str, port: int, config: TwinConfig
) -> tuple[ThreadingWSGIServer, TwinApp]:
    """A threaded HTTP server for the twin, bound but not yet serving (port 0 picks a free one)."""
    app = create_app(config)
    server = make_server(
        host, port, app, server_class=ThreadingWSGIServer, handler_class=QuietHandler
    )
    return server, app


def serve(host: str, port: int, config: TwinConfig) -> None:
    """Serve the twin until interrupted (for `siyu twin`)."""
    server, app = make_twin_server(host, port, config)
    logger.info("WeCom twin for corp %s on http://%s:%s/", config.corp_id, host, server.server_port)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        app.close()
