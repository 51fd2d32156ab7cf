"""The WeCom twin's staff side, for demo seeding: what a staff member does in their WeCom client
(publish a moment) and what customers do (like, comment), through the twin's `/twin/...` admin
routes. Only for a connection whose API base is the local twin; real WeCom has no such routes."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx

LOCAL_HOSTS = ("127.0.0.1", "localhost")


def twin_url(api_base: str) -> str | None:
    """The twin's base URL behind `api_base`, or None when it is not a local twin."""
    parts = urlsplit(api_base)
    return f"{parts.scheme}://{parts.netloc}" if parts.hostname in LOCAL_HOSTS else None


def act(api_base: str, route: str, body: dict[str, Any]) -> bool:
    """POST `/twin/<route>`; whether the twin took it (a refusal such as "already published" is False)."""
    base = twin_url(api_base)
    if base is None:
        return False
    try:
        return httpx.post(f"{base}/twin/{route}", json=body, timeout=10).status_code == 200
    except httpx.HTTPError:
        return False
