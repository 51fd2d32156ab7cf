"""Staff identity on the phone (WECOM.md §10): WeCom OAuth codes (`auth/getuserinfo`), the
JS-SDK tickets (`get_jsapi_ticket`, `ticket/get?type=agent_config`), the mapping from a WeChat
unionid to a customer, and the server side of the JS-SDK stand-in (`phone.py` serves it).

The phone is the twin's idea of "the WeCom app on a staff member's phone": WeCom OAuth says who
holds it (a cookie on the twin's origin), and `POST /twin/phone/open_chat` says which chat is
open in it, which is what `getCurExternalContact` / `getCurExternalChat` answer from.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

from siyu.simulator.admin import AdminError, AdminHandler, Twin, need
from siyu.simulator.api import Endpoint
from siyu.simulator.params import Body, Query, required
from siyu.simulator.wechat import openid_of
from siyu.simulator.world import (
    INVALID_PARAMETER,
    NOT_EXTERNAL_CONTACT,
    ApiError,
    ReceivedMessage,
    World,
)

INVALID_CODE = 40029
# How long the stand-in's verified agentConfig lasts (a page is re-signed when it reloads).
JSSDK_SESSION_SECONDS = 7200
SEND_MSGTYPES = ("text", "image", "news", "video", "file", "miniprogram")


@dataclass
class OAuthCode:
    code: str
    userid: str
    issued_at: float
    used: bool = False


@dataclass
class Ticket:
    ticket: str
    kind: str  # "corp" (get_jsapi_ticket) | "agent" (ticket/get?type=agent_config)
    expires_at: float


@dataclass
class PhoneChat:
    """The chat open on a staff member's phone: one customer's, or one customer group's."""

    userid: str
    external_userid: str = ""
    chat_id: str = ""


@dataclass
class JssdkSent:
    """What the stand-in's `sendChatMessage` put into the open chat."""

    corpid: str
    userid: str
    external_userid: str
    chat_id: str
    msgtype: str
    payload: dict[str, Any] = field(default_factory=dict)
    sent_at: float = 0.0


class JssdkRefused(Exception):
    """A JS-SDK call that fails: `errMsg` is what the page's promise rejects with."""

    def __init__(self, api: str, reason: str) -> None:
        super().__init__(f"{api}:fail {reason}")
        self.err_msg = f"{api}:fail {reason}"


# --- WeCom OAuth (the phone's side is in phone.py) ---------------------------------------------


def issue_oauth_code(world: World, userid: str) -> str:
    """A one-time code for `userid`, as WeCom appends to the redirect_uri."""
    world.active_staff(userid)
    code = world.new_id("", 32)
    world.oauth_codes[code] = OAuthCode(code, userid, world.clock.now())
    return code


def getuserinfo(world: World, query: Query, body: Body) -> dict[str, Any]:
    """`auth/getuserinfo`: the member behind an OAuth code; the code works once, for 5 minutes."""
    code = world.oauth_codes.get(query.get("code", ""))
    if (
        code is None
        or code.used
        or world.clock.now() - code.issued_at > world.config.oauth_code_ttl_seconds
    ):
        raise ApiError(INVALID_CODE, "invalid code")
    code.used = True
    return {"userid": code.userid}


# --- JS-SDK tickets ----------------------------------------------------------------------------


def _issue_ticket(world: World, kind: str) -> dict[str, Any]:
    ttl = world.config.jsapi_ticket_ttl_seconds
    ticket = Ticket(world.new_id("", 48), kind, world.clock.now() + ttl)
    world.tickets[ticket.ticket] = ticket
    return {"ticket": ticket.ticket, "expires_in": ttl}


def get_jsapi_ticket(world: World, query: Query, body: Body) -> dict[str, Any]:
    """The corp's jsapi_ticket (for `wx.config` / `ww.register`'s corp signature)."""
    return _issue_ticket(world, "corp")


def ticket_get(world: World, query: Query, body: Body) -> dict[str, Any]:
    """The app's jsapi_ticket (`type=agent_config`), which signs `agentConfig`."""
    if query.get("type") != "agent_config":
        raise ApiError(INVALID_PARAMETER, "invalid type")
    return _issue_ticket(world, "agent")


def signature(ticket: str, nonce_str: str, timestamp: str, url: str) -> str:
    """The JS-SDK signature: sha1 of the four fields in this order, the URL without its #fragment."""
    plain = f"jsapi_ticket={ticket}&noncestr={nonce_str}&timestamp={timestamp}&url={url.split('#')[0]}"
    return hashlib.sha1(plain.encode("utf-8"), usedforsecurity=False).hexdigest()


# --- a WeChat user to a customer (WECOM.md §10, fans' identity) --------------------------------


def unionid_to_external_userid(world: World, query: Query, body: Body) -> dict[str, Any]:
    """`externalcontact/unionid_to_external_userid`: the customer a WeChat user is, if they are
    one of the corp's (84061 otherwise). The openid must be the unionid's at the service account."""
    unionid = str(required(body.get("unionid"), "unionid"))
    openid = str(required(body.get("openid"), "openid"))
    if openid != openid_of(world.config.mp_app_id, unionid):
        raise ApiError(INVALID_PARAMETER, "openid does not belong to unionid")
    customer = world.customer_by_unionid(unionid)
    if customer is None or not any(
        e == customer.external_userid for (_, e) in world.friendships
    ):
        raise ApiError(NOT_EXTERNAL_CONTACT, "not external contact")
    return {"external_userid": customer.external_userid}


ENDPOINTS: dict[str, Endpoint] = {
    "auth/getuserinfo": Endpoint("GET", getuserinfo),
    "get_jsapi_ticket": Endpoint("GET", get_jsapi_ticket),
    "ticket/get": Endpoint("GET", ticket_get),
    "externalcontact/unionid_to_external_userid": Endpoint("POST", unionid_to_external_userid),
}


# --- the JS-SDK stand-in's server side (called by phone.py under the world's lock) -------------


def verify_agent_config(world: World, userid: str, body: Body) -> str:
    """Check `agentConfig` as WeCom does: the app's ticket, issued by this twin and alive, must
    sign this page's URL. A session for the phone's member is the answer."""
    if not userid:
        raise JssdkRefused("agentConfig", "no WeCom member on this phone (open the page through WeCom OAuth)")
    config = world.config
    if str(body.get("corpId") or "") != config.corp_id or str(body.get("agentId") or "") != config.agent_id:
        raise JssdkRefused("agentConfig", "invalid corpId or agentId")
    url, nonce, timestamp = (str(body.get(k) or "") for k in ("url", "nonceStr", "timestamp"))
    if urlsplit(url).scheme not in ("http", "https") or not nonce or not timestamp:
        raise JssdkRefused("agentConfig", "url, nonceStr and timestamp are required")
    given = str(body.get("signature") or "")
    now = world.clock.now()
    signed = any(
        ticket.kind == "agent"
        and ticket.expires_at > now
        and hmac.compare_digest(signature(ticket.ticket, nonce, timestamp, url), given)
        for ticket in world.tickets.values()
    )
    if not signed:
        raise JssdkRefused("agentConfig", "invalid signature")
    session = world.new_id("", 32)
    world.jssdk_sessions[session] = (userid, now + JSSDK_SESSION_SECONDS)
    return session


def session_user(world: World, session: str) -> str:
    found = world.jssdk_sessions.get(session)
    if found is None or found[1] <= world.clock.now():
        raise JssdkRefused("agentConfig", "not configured (call ww.register first)")
    return found[0]


def jssdk_call(world: World, userid: str, api: str, args: dict[str, Any]) -> dict[str, Any]:
    """One JS-SDK call from the phone of `userid`; its result, or `JssdkRefused`."""
    chat = world.phone_chats.get(userid)
    if api == "getContext":
        entry = "normal" if chat is None else "group_chat_tools" if chat.chat_id else "single_chat_tools"
        return {"entry": entry}
    if api == "getCurExternalContact":
        if chat is None or not chat.external_userid:
            raise JssdkRefused(api, "not in a single chat with a customer")
        return {"userId": chat.external_userid}
    if api == "getCurExternalChat":
        if chat is None or not chat.chat_id:
            raise JssdkRefused(api, "not in a customer group chat")
        return {"chatId": chat.chat_id}
    if api == "sendChatMessage":
        return _send_chat_message(world, userid, chat, args)
    raise JssdkRefused(api, "not supported by the twin")


def _send_chat_message(
    world: World, userid: str, chat: PhoneChat | None, args: dict[str, Any]
) -> dict[str, Any]:
    api = "sendChatMessage"
    if chat is None:
        raise JssdkRefused(api, "no chat is open")
    msgtype = str(args.get("msgtype") or "text")
    content = args.get(msgtype)
    if msgtype not in SEND_MSGTYPES or not isinstance(content, dict):
        raise JssdkRefused(api, f"invalid {msgtype} message")
    if msgtype == "text" and not str(content.get("content") or "").strip():
        raise JssdkRefused(api, "empty text")
    if msgtype == "news" and not content.get("link"):
        raise JssdkRefused(api, "news needs a link")
    now = world.clock.now()
    world.jssdk_sent.append(
        JssdkSent(world.config.corp_id, userid, chat.external_userid, chat.chat_id, msgtype, dict(content), now)
    )
    text = str(content.get("content") or content.get("title") or "") if msgtype in ("text", "news") else ""
    world.deliver(ReceivedMessage("chat", userid, chat.external_userid, text, [], now, chat_id=chat.chat_id))
    return {}


# --- admin routes ------------------------------------------------------------------------------


def open_chat(twin: Twin, body: Body) -> tuple[int, dict[str, Any]]:
    """`POST /twin/phone/open_chat {corpid, userid, external_userid | chat_id}`: the member opens
    a chat with a customer (their friend) or a customer group on their phone."""
    world = twin.world
    userid = str(need(body, "userid"))
    external_userid, chat_id = str(body.get("external_userid") or ""), str(body.get("chat_id") or "")
    with world.lock:
        if str(body.get("corpid") or world.config.corp_id) != world.config.corp_id:
            raise AdminError(404, "no such corp in this twin")
        if userid not in world.staff:
            raise AdminError(404, "no such staff")
        if bool(external_userid) == bool(chat_id):
            raise AdminError(400, "give one of external_userid and chat_id")
        if external_userid and (userid, external_userid) not in world.friendships:
            raise AdminError(409, "the customer is not this member's friend")
        if chat_id:
            group = world.groups.get(chat_id)
            if group is None or group.dismissed:
                raise AdminError(404, "no such group")
        world.phone_chats[userid] = PhoneChat(userid, external_userid, chat_id)
    return 200, {"userid": userid, "external_userid": external_userid, "chat_id": chat_id}


def close_chat(twin: Twin, body: Body) -> tuple[int, dict[str, Any]]:
    """`POST /twin/phone/close_chat {userid}`: back to the chat list."""
    with twin.world.lock:
        closed = twin.world.phone_chats.pop(str(need(body, "userid")), None)
    return 200, {"closed": closed is not None}


def list_sent(twin: Twin, body: Body) -> tuple[int, dict[str, Any]]:
    """`GET /twin/jssdk/sent[?corpid=&userid=]`: what `sendChatMessage` sent, newest last."""
    userid = str(body.get("userid") or "")
    corpid = str(body.get("corpid") or "")
    with twin.world.lock:
        sent = [
            asdict(m)
            for m in twin.world.jssdk_sent
            if (not userid or m.userid == userid) and (not corpid or m.corpid == corpid)
        ]
    return 200, {"sent": sent}


ADMIN_ROUTES: dict[tuple[str, str], AdminHandler] = {
    ("POST", "phone/open_chat"): open_chat,
    ("POST", "phone/close_chat"): close_chat,
    ("GET", "jssdk/sent"): list_sent,
}
