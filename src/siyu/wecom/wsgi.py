"""The callback endpoint as a lean WSGI application, mounted in front of Django by
`siyu.wsgi`: WeCom's deliveries skip the console's middleware (sessions, auth, messages, CSRF,
i18n) they never use, and are answered in well under a millisecond of Python."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from django.db import close_old_connections

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


def callback_app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    path = environ.get("PATH_INFO", "")
    slug = path[len(PREFIX):].strip("/")
    if not slug or "/" in slug:
        return _answer(start_response, 404, b"unknown_workspace")
    method = environ.get("REQUEST_METHOD", "GET")
    query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
    remote = environ.get("REMOTE_ADDR")
    close_old_connections()
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
        services.receive_callback(slug, query.get("msg_signature", ""), query.get("timestamp", ""),
                                  query.get("nonce", ""), body, remote)
        return _answer(start_response, 200)
    except services.CallbackRefused as refused:
        return _answer(start_response, refused.status, refused.reason.encode())
    except Exception:
        logger.exception("callback for %s failed", slug)
        return _answer(start_response, 500)
    finally:
        close_old_connections()
