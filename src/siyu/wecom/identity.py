"""员工身份 — who a staff member is on their phone, and what the chat sidebar (聊天工具栏) needs
from WeCom (WECOM.md §10, staff identity on the phone):

- WeCom OAuth: `staff_authorize_url` sends the phone to WeCom, which comes back with a `code`;
  `staff_userid_from_code` turns it into the member's userid (`auth/getuserinfo`).
- The JS-SDK: `agent_config` (and `corp_config`) sign the page's URL with the app's (the
  corp's) jsapi_ticket, cached per corp and refreshed before it expires.
- A WeChat user to a customer: `customer_from_unionid` (`unionid_to_external_userid`).

Real WeCom's OAuth page is at open.weixin.qq.com and the official JS-SDK comes from npm
(`@wecom/jssdk`). A connection whose API base is not WeCom's points at the WeCom twin, which
serves both itself: `twin_origin` and `jssdk_script_url` say where (None for real WeCom).
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.core.cache import cache
from django.utils.translation import gettext as _

from siyu.core.models import Workspace
from siyu.wecom.models import WeComConnection
from siyu.wecom.services import NotConnected, client_for, connection_of

WECOM_OAUTH_URL = "https://open.weixin.qq.com/connect/oauth2/authorize"
WECOM_API_HOST = "qyapi.weixin.qq.com"
# WECOM.md §10: tickets last 7,200 s; fetch a new one this long before the cached one expires.
TICKET_REFRESH_MARGIN_SECONDS = 300
# While one process fetches a ticket, others wait for it this long before fetching their own.
TICKET_FETCH_WAIT_SECONDS = 5.0
_fetching = threading.Lock()


def _connection(workspace: Workspace) -> WeComConnection:
    connection = connection_of(workspace)
    if connection is None:
        raise NotConnected(_("Connect this brand to WeCom first (Settings → WeCom connector)."))
    return connection


def _twin_origin_of(connection: WeComConnection) -> str | None:
    parts = urlsplit(connection.api_base)
    if (parts.hostname or "").lower() == WECOM_API_HOST:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def twin_origin(workspace: Workspace) -> str | None:
    """The WeCom twin's origin (`http://127.0.0.1:8001`) when the brand is connected to a twin,
    for the sidebar pages' CSP (script-src, connect-src); None for real WeCom or no connection."""
    connection = connection_of(workspace)
    return _twin_origin_of(connection) if connection is not None else None


def jssdk_script_url(workspace: Workspace) -> str | None:
    """The twin's JS-SDK stand-in (`ww.js`) when the brand is connected to a twin; None for real
    WeCom, whose pages load the official `@wecom/jssdk`."""
    origin = twin_origin(workspace)
    return f"{origin}/twin/jssdk/ww.js" if origin else None


def staff_authorize_url(workspace: Workspace, redirect_uri: str, state: str) -> str:
    """Where to send a phone so WeCom says which member holds it: it comes back to
    `redirect_uri` with `code` and `state`. `snsapi_base`: no consent page, the userid only."""
    connection = _connection(workspace)
    origin = _twin_origin_of(connection)
    base = f"{origin}/connect/oauth2/authorize" if origin else WECOM_OAUTH_URL
    query = urlencode({
        "appid": connection.corp_id,
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": "snsapi_base",
        "state": state,
        "agentid": connection.agent_id,
    })
    return f"{base}?{query}#wechat_redirect"


def staff_userid_from_code(workspace: Workspace, code: str) -> str:
    """The userid behind an OAuth code. Raises `InvalidCode` (unknown, used, or older than 5
    minutes), `NotAMember`, or another `WeComError`."""
    with client_for(workspace) as client:
        return client.get_user_by_code(code)


def customer_from_unionid(workspace: Workspace, unionid: str, openid: str) -> str | None:
    """The external_userid of the brand's customer who is this WeChat user (unionid, and openid at
    the brand's service account), or None when they are not a customer (yet)."""
    with client_for(workspace) as client:
        return client.unionid_to_external_userid(unionid, openid)


def agent_config(workspace: Workspace, url: str) -> dict[str, Any]:
    """What `ww.register` needs for agentConfig on the page at `url`: corpId, agentId,
    timestamp, nonceStr and the signature with the app's jsapi_ticket."""
    connection = _connection(workspace)
    return _signed(connection, _ticket(workspace, connection, "agent"), url)


def corp_config(workspace: Workspace, url: str) -> dict[str, Any]:
    """The same, signed with the corp's jsapi_ticket (`wx.config` / `getConfigSignature`)."""
    connection = _connection(workspace)
    return _signed(connection, _ticket(workspace, connection, "corp"), url)


def signature(ticket: str, nonce_str: str, timestamp: int, url: str) -> str:
    """WeCom's JS-SDK signature: sha1 of the fields in this order; the URL without its #fragment."""
    plain = f"jsapi_ticket={ticket}&noncestr={nonce_str}&timestamp={timestamp}&url={url.split('#')[0]}"
    return hashlib.sha1(plain.encode("utf-8"), usedforsecurity=False).hexdigest()


def _signed(connection: WeComConnection, ticket: str, url: str) -> dict[str, Any]:
    timestamp, nonce = int(time.time()), secrets.token_hex(8)
    return {
        "corpId": connection.corp_id,
        "agentId": connection.agent_id,
        "timestamp": timestamp,
        "nonceStr": nonce,
        "signature": signature(ticket, nonce, timestamp, url),
    }


def _ticket_key(connection: WeComConnection, kind: str) -> str:
    # The corp's ticket is the corp's; the app's is the app's (its secret).
    base = hashlib.sha256(connection.api_base.encode("utf-8")).hexdigest()[:8]
    owner = connection.agent_id if kind == "agent" else ""
    return f"siyu:wecom:jsapi_ticket:{kind}:{base}:{connection.corp_id}:{owner}"


def _ticket(workspace: Workspace, connection: WeComConnection, kind: str) -> str:
    """The cached ticket, fetched when missing or within the refresh margin of its expiry. One
    fetch at a time per process; across processes a short cache lock lets the others wait."""
    key = _ticket_key(connection, kind)
    cached = cache.get(key)
    if cached:
        return str(cached)
    with _fetching:
        cached = cache.get(key)
        if cached:
            return str(cached)
        lock_key = f"{key}:fetching"
        if not cache.add(lock_key, "1", timeout=int(TICKET_FETCH_WAIT_SECONDS) + 5):
            deadline = time.monotonic() + TICKET_FETCH_WAIT_SECONDS
            while time.monotonic() < deadline:
                time.sleep(0.1)
                cached = cache.get(key)
                if cached:
                    return str(cached)
        try:
            with client_for(workspace) as client:
                ticket = client.get_agent_ticket() if kind == "agent" else client.get_jsapi_ticket()
            lifetime = ticket.expires_in - TICKET_REFRESH_MARGIN_SECONDS
            if lifetime > 0:
                cache.set(key, ticket.ticket, timeout=lifetime)
            return ticket.ticket
        finally:
            cache.delete(lock_key)


def forget_tickets(workspace: Workspace) -> None:
    """Drop the brand's cached tickets (after its settings change, or in tests)."""
    connection = connection_of(workspace)
    if connection is not None:
        cache.delete_many([_ticket_key(connection, kind) for kind in ("agent", "corp")])
