"""The WeChat service account (服务号) the twin also plays — WeChat, not WeCom (WECOM.md §10,
fans' identity and template messages): web OAuth (`snsapi_base` / `snsapi_userinfo`) with
openids and unionids for the twin's customers, its own access token (`cgi-bin/token`) and
template messages (`cgi-bin/message/template/send`, recorded; `GET /twin/wechat/templates`).

Every customer of the corp is a WeChat user with a unionid (`world.derived_unionid`); a fan who
is not a customer yet is a `Fan`. A user's openid at the service account is derived from the
appid and the unionid, so it is stable. The authorize page itself is in `phone.py`.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any

from siyu.simulator.admin import AdminHandler, Twin
from siyu.simulator.api import Endpoint
from siyu.simulator.params import Body, Query
from siyu.simulator.world import AccessToken, ApiError, World

# WeChat's error codes (the official-accounts platform's global table).
INVALID_CREDENTIAL = 40001
INVALID_OPENID = 40003
INVALID_APPID = 40013
INVALID_CODE = 40029
INVALID_TEMPLATE_ID = 40037
INVALID_APPSECRET = 40125
MISSING_TOKEN = 41001
EXPIRED_TOKEN = 42001
REQUIRE_SUBSCRIBE = 43004
INVALID_DATA = 47001
API_UNAUTHORIZED = 48001
SCOPES = ("snsapi_base", "snsapi_userinfo")


@dataclass
class Fan:
    """A WeChat user who is not (yet) a customer of the corp."""

    unionid: str
    nickname: str
    headimgurl: str = ""
    created_at: float = 0.0


@dataclass
class SnsGrant:
    """A web-OAuth code, or the access token it was exchanged for."""

    key: str
    unionid: str
    scope: str
    expires_at: float
    used: bool = False


@dataclass
class TemplateMessage:
    msgid: int
    touser: str  # the openid
    unionid: str
    external_userid: str  # "" for a fan who is not a customer
    template_id: str
    url: str
    data: dict[str, Any] = field(default_factory=dict)
    sent_at: float = 0.0


def openid_of(appid: str, unionid: str) -> str:
    """The user's openid at the service account `appid`: stable, one per (appid, user)."""
    return "o" + hashlib.sha1(f"openid:{appid}:{unionid}".encode(), usedforsecurity=False).hexdigest()[:27]


def user_of(world: World, unionid: str) -> tuple[str, str] | None:
    """(nickname, avatar URL) of the WeChat user, a customer or a fan; None if unknown."""
    customer = world.customer_by_unionid(unionid)
    if customer is not None:
        return customer.name, customer.avatar
    fan = world.fans.get(unionid)
    return (fan.nickname, fan.headimgurl) if fan is not None else None


def unionid_of_openid(world: World, openid: str) -> str | None:
    """The unionid behind an openid of the twin's service account, if it is anyone's."""
    if openid in world.openids:
        return world.openids[openid]
    appid = world.config.mp_app_id
    for customer in world.customers.values():
        if customer.unionid and openid_of(appid, customer.unionid) == openid:
            world.openids[openid] = customer.unionid
            return customer.unionid
    return None


def recent_fans(world: World, limit: int = 8) -> list[tuple[str, str, str]]:
    """(key for `twin_fan`, name, what they are) of fans to pick on the authorize page: the
    latest customers, then fans who are not customers."""
    customers = [
        (c.external_userid, c.name, "customer")
        for c in list(world.customers.values())[-limit:][::-1]
        if c.unionid
    ]
    return customers + [(f.unionid, f.nickname, "not a customer") for f in world.fans.values()]


def resolve_fan(world: World, key: str) -> str:
    """The unionid of the fan `twin_fan` names: a customer's external_userid, a fan's unionid,
    or `new:<name>` for a new WeChat user who is not a customer. Raises `LookupError`."""
    if key.startswith("new:"):
        name = key.removeprefix("new:").strip()
        if not name:
            raise LookupError("a new fan needs a name")
        unionid = "oTwFan" + world.new_id("", 22)
        world.fans[unionid] = Fan(unionid, name[:32], "", world.clock.now())
        return unionid
    customer = world.customers.get(key)
    if customer is not None and customer.unionid:
        return customer.unionid
    if key in world.fans:
        return key
    raise LookupError("no such fan")


def issue_code(world: World, unionid: str, scope: str) -> str:
    world.openids[openid_of(world.config.mp_app_id, unionid)] = unionid
    code = world.new_id("", 32)
    ttl = world.config.oauth_code_ttl_seconds
    world.sns_codes[code] = SnsGrant(code, unionid, scope, world.clock.now() + ttl)
    return code


def sns_access_token(world: World, query: Query) -> dict[str, Any]:
    """`GET /sns/oauth2/access_token`: a web-OAuth code (once, for 5 minutes) for the user's
    openid and unionid and a token for `sns/userinfo`."""
    config = world.config
    if query.get("appid") != config.mp_app_id:
        raise ApiError(INVALID_APPID, "invalid appid")
    if query.get("secret") != config.mp_app_secret:
        raise ApiError(INVALID_APPSECRET, "invalid appsecret")
    if query.get("grant_type") != "authorization_code":
        raise ApiError(40002, "invalid grant_type")
    now = world.clock.now()
    code = world.sns_codes.get(query.get("code", ""))
    if code is None or code.used or code.expires_at <= now:
        raise ApiError(INVALID_CODE, "invalid code")
    code.used = True
    token = SnsGrant(world.new_id("", 64), code.unionid, code.scope, now + 7200)
    world.sns_tokens[token.key] = token
    return {
        "access_token": token.key,
        "expires_in": 7200,
        "refresh_token": world.new_id("", 64),
        "openid": openid_of(config.mp_app_id, code.unionid),
        "scope": code.scope,
        "unionid": code.unionid,
    }


def sns_userinfo(world: World, query: Query) -> dict[str, Any]:
    """`GET /sns/userinfo`: the user's name and avatar, for a `snsapi_userinfo` grant only."""
    grant = world.sns_tokens.get(query.get("access_token", ""))
    if grant is None or grant.expires_at <= world.clock.now():
        raise ApiError(INVALID_CREDENTIAL, "invalid credential, access_token is invalid or not latest")
    openid = openid_of(world.config.mp_app_id, grant.unionid)
    if query.get("openid") != openid:
        raise ApiError(INVALID_OPENID, "invalid openid")
    if grant.scope != "snsapi_userinfo":
        raise ApiError(API_UNAUTHORIZED, "api unauthorized")
    nickname, avatar = user_of(world, grant.unionid) or ("", "")
    return {
        "openid": openid,
        "nickname": nickname,
        "sex": 0,
        "province": "",
        "city": "",
        "country": "",
        "headimgurl": avatar,
        "privilege": [],
        "unionid": grant.unionid,
    }


def mp_token(world: World, query: Query, body: Body) -> dict[str, Any]:
    """`cgi-bin/token?grant_type=client_credential&appid&secret`: the service account's token."""
    config = world.config
    world.count_call("token")
    if query.get("appid") != config.mp_app_id:
        raise ApiError(INVALID_APPID, "invalid appid")
    if query.get("secret") != config.mp_app_secret:
        raise ApiError(INVALID_APPSECRET, "invalid appsecret")
    token = AccessToken(world.new_id("", 80), world.clock.now() + config.token_ttl_seconds)
    world.mp_tokens[token.token] = token
    return {"access_token": token.token, "expires_in": config.token_ttl_seconds}


def _authenticate_mp(world: World, access_token: str) -> None:
    if not access_token:
        raise ApiError(MISSING_TOKEN, "access_token missing")
    token = world.mp_tokens.get(access_token)
    if token is None or token.revoked:
        raise ApiError(INVALID_CREDENTIAL, "invalid credential, access_token is invalid or not latest")
    if token.expires_at <= world.clock.now():
        raise ApiError(EXPIRED_TOKEN, "access_token expired")


def template_send(world: World, query: Query, body: Body) -> dict[str, Any]:
    """`cgi-bin/message/template/send`: a template message (模板消息) to a fan, recorded."""
    _authenticate_mp(world, query.get("access_token", ""))
    world.count_call("message/template/send")
    openid = str(body.get("touser") or "")
    unionid = unionid_of_openid(world, openid) if openid else None
    if unionid is None:
        raise ApiError(REQUIRE_SUBSCRIBE, "require subscribe")
    template_id = str(body.get("template_id") or "")
    if not template_id:
        raise ApiError(INVALID_TEMPLATE_ID, "invalid template_id")
    data = body.get("data")
    if not isinstance(data, dict):
        raise ApiError(INVALID_DATA, "data format error")
    customer = world.customer_by_unionid(unionid)
    msgid = 2_000_000_000 + len(world.templates_sent) + 1  # WeChat's msgids are numbers
    world.templates_sent.append(
        TemplateMessage(
            msgid, openid, unionid, customer.external_userid if customer else "", template_id,
            str(body.get("url") or ""), dict(data), world.clock.now(),
        )
    )
    return {"msgid": msgid}


ENDPOINTS: dict[str, Endpoint] = {
    "token": Endpoint("GET", mp_token, needs_token=False),
    "message/template/send": Endpoint("POST", template_send, needs_token=False),
}


def list_templates(twin: Twin, body: Body) -> tuple[int, dict[str, Any]]:
    """`GET /twin/wechat/templates[?openid=]`: the template messages sent, newest last."""
    openid = str(body.get("openid") or "")
    with twin.world.lock:
        sent = [asdict(m) for m in twin.world.templates_sent if not openid or m.touser == openid]
    return 200, {"templates": sent}


def list_fans(twin: Twin, body: Body) -> tuple[int, dict[str, Any]]:
    """`GET /twin/wechat/fans`: the WeChat users who are not customers, with their openids."""
    world = twin.world
    with world.lock:
        fans = [
            asdict(f) | {"openid": openid_of(world.config.mp_app_id, f.unionid)}
            for f in world.fans.values()
        ]
    return 200, {"fans": fans, "appid": world.config.mp_app_id}


ADMIN_ROUTES: dict[tuple[str, str], AdminHandler] = {
    ("GET", "wechat/templates"): list_templates,
    ("GET", "wechat/fans"): list_fans,
}
