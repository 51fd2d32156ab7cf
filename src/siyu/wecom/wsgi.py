"""The callback endpoint as a lean WSGI application, mounted in front of Django by
`siyu.wsgi`: WeCom's deliveries skip the console's middleware (sessions, auth, messages, CSRF,
i18n) they never use, and are answered in well under a millisecond of Python."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from django.db import DatabaseError, connection, connections

from siyu.wecom import services

logger = logging.getLogger("siyu.wecom")
PREFIX = "/wecom/callback/"
StartResponse = Callable[[str, list[tuple[str, str]]], Any]
_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 413: "Payload Too Large",
            500: "Internal Server Error"}


def _answer(start_response: StartResponse, status: int, body: bytes = b"") -> Iterable[bytes]:
    start_response(f"{status} {_REASONS[status]}", [
        ("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body))),
    ])
    return [body]


def _tidy_connections() -> None:
    """Django's `close_old_connections`, without the health check it arms for the next request.

    With CONN_HEALTH_CHECKS, Django checks a reused connection with a round trip (`SELECT 1` on
    PostgreSQL) before each request's first query: on this path that doubles a callback's round
    trips. A connection whose query failed is still checked and closed here, and a callback whose
    connection had dropped meanwhile is tried once more (`_reconnected`)."""
    for conn in connections.all(initialized_only=True):
        conn.close_if_unusable_or_obsolete()
        if conn.connection is not None:
            conn.health_check_done = True  # type: ignore[attr-defined]  # Django's own flag, not in the stubs


def _reconnected() -> bool:
    """After a failed query: whether the connection had dropped (a database restart). It is closed
    then, so that the next query opens a new one."""
    if connection.connection is None or connection.is_usable():
        return False
    connection.close()
    return True


def callback_app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    path = environ.get("PATH_INFO", "")
    slug = path[len(PREFIX):].strip("/")
    if not slug or "/" in slug:
        return _answer(start_response, 404, b"unknown_workspace")
    method = environ.get("REQUEST_METHOD", "GET")
    query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
    remote = environ.get("REMOTE_ADDR")
    _tidy_connections()
    try:
        if method == "GET":
            plaintext = services.verify_url(slug, query.get("msg_signature", ""), query.get("timestamp", ""),
                                            query.get("nonce", ""), query.get("echostr", ""), remote)
            return _answer(start_response, 200, plaintext.encode("utf-8"))
        if method != "POST":
            return _answer(start_response, 405)
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _answer(start_response, 400, b"bad_content_length")
        if length > services.MAX_CALLBACK_BYTES:
            return _answer(start_response, 413, b"too_large")
        body = environ["wsgi.input"].read(length) if length else b""
        args = (slug, query.get("msg_signature", ""), query.get("timestamp", ""), query.get("nonce", ""), body, remote)
        try:
            services.receive_callback(*args)
        except DatabaseError:
            if not _reconnected():
                raise
            services.receive_callback(*args)
        return _answer(start_response, 200)
    except services.CallbackRefused as refused:
        return _answer(start_response, refused.status, refused.reason.encode())
    except Exception:
        logger.exception("callback for %s failed", slug)
        return _answer(start_response, 500)
    finally:
        _tidy_connections()
