"""Reading a `/cgi-bin/` request's parameters the way WeCom checks them: a broken rule is an
`ApiError` (40058 "invalid parameter" unless said otherwise)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from siyu.simulator.world import INVALID_PARAMETER, ApiError, World

Query = dict[str, str]
Body = dict[str, Any]
Handler = Callable[[World, Query, Body], dict[str, Any]]


def text_param(body: Body, key: str, max_chars: int, errmsg: str | None = None) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > max_chars:
        raise ApiError(INVALID_PARAMETER, errmsg or f"invalid {key}")
    return value


def required(value: Any, key: str) -> Any:
    if value in (None, "", []):
        raise ApiError(INVALID_PARAMETER, f"{key} missing")
    return value


def int_param(body: Body | Query, key: str, default: int) -> int:
    value = body.get(key, default)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError(INVALID_PARAMETER, f"invalid {key}") from None


def cursor_offset(value: Any) -> int:
    if not value:
        return 0
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        raise ApiError(INVALID_PARAMETER, "invalid cursor") from None


def page(items: list[Any], cursor: Any, limit: int) -> tuple[list[Any], str]:
    """One page and the next cursor ("" at the end). WeCom's cursors are opaque; the twin's
    happen to be offsets, which clients must not rely on."""
    start = cursor_offset(cursor)
    chunk = items[start : start + limit]
    return chunk, (str(start + limit) if start + limit < len(items) else "")
