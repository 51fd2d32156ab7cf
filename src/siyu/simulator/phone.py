"""What a phone sees of the twin: the OAuth authorize page WeCom and WeChat serve at
`/connect/oauth2/authorize` (told apart by the appid: the corp's, or the service account's),
WeChat's `/sns/` web-OAuth API, and the JS-SDK stand-in under `/twin/jssdk/` (`ww.js`, the
agentConfig check and the calls it makes, answered with CORS for the page's origin).

The authorize page stands for "whoever holds the phone": `twin_userid=` (a staff member) or
`twin_fan=` (a customer's external_userid, a fan's unionid, or `new:<name>`) picks them, and
without it the page lists whom to pick. WeCom's flow also sets the `twin_phone_user` cookie on
the twin's origin, so the JS-SDK stand-in knows whose phone it runs on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from html import escape
from http.cookies import CookieError, SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from siyu.simulator import identity, wechat
from siyu.simulator.admin import Twin
from siyu.simulator.world import ApiError

AUTHORIZE_PATH = "/connect/oauth2/authorize"
SNS_TOKEN_PATH = "/sns/oauth2/access_token"  # noqa: S105 - a path, not a password
SNS_USERINFO_PATH = "/sns/userinfo"
JSSDK_PREFIX = "/twin/jssdk/"
PHONE_COOKIE = "twin_phone_user"
STAFF_SCOPES = ("snsapi_base", "snsapi_privateinfo")
WW_JS = Path(__file__).with_name("static") / "ww.js"
JSON_TYPE = "application/json; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"


@dataclass(frozen=True)
class Reply:
    status: int
    content_type: str
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()


def route(
    twin: Twin, method: str, path: str, query: dict[str, str], body: bytes, environ: dict[str, Any]
) -> Reply | None:
    """The phone-facing reply for this request, or None when the path is not one of these."""
    if path == AUTHORIZE_PATH and method == "GET":
        return authorize(twin, query)
    if path in (SNS_TOKEN_PATH, SNS_USERINFO_PATH) and method == "GET":
        return _sns(twin, path, query)
    if path.startswith(JSSDK_PREFIX):
        return _jssdk(twin, method, path.removeprefix(JSSDK_PREFIX), body, environ)
    return None


def cors_headers(environ: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """The JS-SDK stand-in is called from the page's origin with credentials: echo the origin."""
    origin = environ.get("HTTP_ORIGIN")
    if not origin:
        return ()
    headers = [
        ("Access-Control-Allow-Origin", origin),
        ("Access-Control-Allow-Credentials", "true"),
        ("Access-Control-Allow-Methods", "GET, POST, OPTIONS"),
        ("Access-Control-Allow-Headers", "Content-Type"),
        ("Access-Control-Max-Age", "600"),
        ("Vary", "Origin"),
    ]
    if environ.get("HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK"):
        headers.append(("Access-Control-Allow-Private-Network", "true"))
    return tuple(headers)


def phone_user(environ: dict[str, Any], corp_id: str) -> str:
    """The staff member whose phone this is (the cookie WeCom OAuth set), or ""."""
    cookie: SimpleCookie = SimpleCookie()
    try:
        cookie.load(environ.get("HTTP_COOKIE", ""))
    except CookieError:
        return ""
    morsel = cookie.get(PHONE_COOKIE)
    if morsel is None:
        return ""
    corpid, _, userid = morsel.value.partition(":")
    return userid if corpid == corp_id else ""


# --- the authorize page ------------------------------------------------------------------------


def authorize(twin: Twin, query: dict[str, str]) -> Reply:
    config = twin.world.config
    appid, redirect_uri = query.get("appid", ""), query.get("redirect_uri", "")
    if appid not in (config.corp_id, config.mp_app_id):
        return _page(400, "appid 参数错误", "<p>This appid is neither the twin's corp nor its service account.</p>")
    parts = urlsplit(redirect_uri)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return _page(400, "redirect_uri 参数错误", "<p>redirect_uri must be an absolute http(s) URL.</p>")
    if query.get("response_type") != "code":
        return _page(400, "response_type 参数错误", "<p>response_type must be code.</p>")
    if appid == config.corp_id:
        return _staff_authorize(twin, query, redirect_uri)
    return _fan_authorize(twin, query, redirect_uri)


def _staff_authorize(twin: Twin, query: dict[str, str], redirect_uri: str) -> Reply:
    world = twin.world
    if query.get("scope", "snsapi_base") not in STAFF_SCOPES:
        return _page(400, "scope 参数错误", "<p>scope must be snsapi_base or snsapi_privateinfo.</p>")
    if query.get("agentid") and query["agentid"] != world.config.agent_id:
        return _page(400, "agentid 参数错误", "<p>No such app in the twin's corp.</p>")
    userid = query.get("twin_userid", "")
    if not userid:
        with world.lock:
            staff = [(s.userid, s.name) for s in world.staff.values() if s.active]
        links = "".join(
            f'<li><a href="{escape(_authorize_link(query, twin_userid=u))}">{escape(name)} ({escape(u)})</a></li>'
            for u, name in staff
        ) or "<li>The corp has no staff yet (POST /twin/staff).</li>"
        return _page(200, "企业微信 · 选择成员", f"<p>Whose phone is this?</p><ul>{links}</ul>")
    with world.lock:
        try:
            code = identity.issue_oauth_code(world, userid)
        except ApiError as exc:
            return _page(400, "成员无效", f"<p>{escape(exc.errmsg)}</p>")
    cookie = f"{PHONE_COOKIE}={world.config.corp_id}:{userid}; Path=/; SameSite=Lax"
    return _redirect(redirect_uri, code, query.get("state", ""), ("Set-Cookie", cookie))


def _fan_authorize(twin: Twin, query: dict[str, str], redirect_uri: str) -> Reply:
    world = twin.world
    scope = query.get("scope", "")
    if scope not in wechat.SCOPES:
        return _page(400, "scope 参数错误", "<p>scope must be snsapi_base or snsapi_userinfo.</p>")
    fan = query.get("twin_fan", "") or (
        f"new:{query['twin_new_fan']}" if query.get("twin_new_fan", "").strip() else ""
    )
    if not fan:
        with world.lock:
            fans = wechat.recent_fans(world)
        links = "".join(
            f'<li><a href="{escape(_authorize_link(query, twin_fan=key))}">{escape(name)}</a> · {escape(kind)}</li>'
            for key, name, kind in fans
        )
        hidden = "".join(
            f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">'
            for k, v in query.items()
            if not k.startswith("twin_")
        )
        form = (
            f'<form method="get" action="{AUTHORIZE_PATH}">{hidden}'
            '<label>A new WeChat user, not a customer: <input name="twin_new_fan" value="新粉丝" required></label> '
            '<button type="submit">Continue</button></form>'
        )
        return _page(200, "微信 · 选择用户", f"<p>Who opens this page in WeChat?</p><ul>{links}</ul>{form}")
    with world.lock:
        try:
            unionid = wechat.resolve_fan(world, fan)
        except LookupError as exc:
            return _page(400, "用户无效", f"<p>{escape(str(exc))}</p>")
        code = wechat.issue_code(world, unionid, scope)
    return _redirect(redirect_uri, code, query.get("state", ""))


def _authorize_link(query: dict[str, str], **pick: str) -> str:
    params = {k: v for k, v in query.items() if not k.startswith("twin_")} | pick
    return f"{AUTHORIZE_PATH}?{urlencode(params)}"


def _redirect(redirect_uri: str, code: str, state: str, *headers: tuple[str, str]) -> Reply:
    parts = urlsplit(redirect_uri)
    params = parse_qsl(parts.query, keep_blank_values=True) + [("code", code), ("state", state)]
    location = urlunsplit(parts._replace(query=urlencode(params)))
    return Reply(302, HTML_TYPE, b"", (("Location", location), *headers))


def _page(status: int, title: str, content: str) -> Reply:
    html = (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title></head><body><h1>{escape(title)}</h1>{content}</body></html>"
    )
    return Reply(status, HTML_TYPE, html.encode("utf-8"))


# --- WeChat's web OAuth API --------------------------------------------------------------------


def _sns(twin: Twin, path: str, query: dict[str, str]) -> Reply:
    world = twin.world
    with world.lock:
        try:
            if path == SNS_TOKEN_PATH:
                answer = wechat.sns_access_token(world, query)
            else:
                answer = wechat.sns_userinfo(world, query)
        except ApiError as exc:
            answer = {"errcode": exc.errcode, "errmsg": exc.errmsg}
    return _json(200, answer)


# --- the JS-SDK stand-in -----------------------------------------------------------------------


def _jssdk(twin: Twin, method: str, name: str, body: bytes, environ: dict[str, Any]) -> Reply | None:
    if method == "OPTIONS":
        return Reply(204, "text/plain", b"")
    if method == "GET" and name == "ww.js":
        return Reply(
            200, "application/javascript; charset=utf-8", WW_JS.read_bytes(), (("Cache-Control", "no-cache"),)
        )
    if method != "POST" or name not in ("verify", "call"):
        return None  # the admin routes (jssdk/sent)
    try:
        payload = json.loads(body) if body.strip() else {}
    except (json.JSONDecodeError, UnicodeDecodeError):
        payload = None
    if not isinstance(payload, dict):
        return _json(400, {"errMsg": f"{name}:fail the body is not a JSON object"})
    world = twin.world
    with world.lock:
        try:
            if name == "verify":
                userid = phone_user(environ, world.config.corp_id)
                session = identity.verify_agent_config(world, userid, payload)
                return _json(200, {"errMsg": "agentConfig:ok", "session": session})
            userid = identity.session_user(world, str(payload.get("session") or ""))
            args = payload.get("args")
            api = str(payload.get("api") or "")
            result = identity.jssdk_call(world, userid, api, args if isinstance(args, dict) else {})
        except identity.JssdkRefused as refused:
            return _json(403 if name == "verify" else 400, {"errMsg": refused.err_msg})
    return _json(200, {"errMsg": f"{api}:ok", "result": result})


def _json(status: int, data: dict[str, Any]) -> Reply:
    return Reply(status, JSON_TYPE, json.dumps(data, ensure_ascii=False).encode("utf-8"))
