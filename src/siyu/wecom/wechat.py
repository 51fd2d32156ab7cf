"""服务号 — the brand's WeChat service account (WeChat, not WeCom; WECOM.md §10, fans' identity):

- web OAuth (网页授权): `fan_authorize_url` sends a fan's phone to WeChat, which comes back with
  a `code`; `fan_from_code` turns it into the fan's openid and unionid (and, for
  `snsapi_userinfo`, their nickname and avatar);
- template messages (模板消息): `send_template_message`, with the account's access token cached.

Its settings are a `ServiceAccount` row (`configure_service_account`); the WeChat twin stands
in for WeChat when its bases point at the twin. WeChat's errors raise `WeChatError`, a
`WeComError`, so callers catching the connector's errors catch these too.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from siyu.core.models import AuditAction, Workspace
from siyu.core.permissions import Action, Module, Seat, require, role_of
from siyu.core.services import audit
from siyu.wecom.api_bases import api_base_allowed, api_base_problem
from siyu.wecom.client import _tls_context
from siyu.wecom.errors import WeComError, WeComUnavailable
from siyu.wecom.models import WECHAT_API_BASE, WECHAT_OAUTH_BASE, ApiCall, ServiceAccount

SCOPES = ("snsapi_base", "snsapi_userinfo")
TIMEOUT_SECONDS = 10.0
TOKEN_REFRESH_MARGIN_SECONDS = 60
# WeChat's codes for "this access token is no good": fetch a new one and try once more.
TOKEN_ERRORS = frozenset({40001, 40014, 41001, 42001})
TRANSPORT_ERRCODE = -1


class WeChatError(WeComError):
    """WeChat answered with a non-zero errcode (or did not answer: errcode -1)."""


class FanNotSubscribed(WeChatError):
    """The fan does not follow the service account, so it cannot message them (43004)."""


class FanCodeInvalid(WeChatError):
    """A web-OAuth code WeChat does not accept (40029): unknown, used, or expired."""


_ERRORS: dict[int, type[WeChatError]] = {43004: FanNotSubscribed, 40029: FanCodeInvalid}


@dataclass(frozen=True)
class Fan:
    """A WeChat user who opened a page through the service account's web OAuth. `nickname` and
    `avatar_url` only with `snsapi_userinfo`; `unionid` when the account is bound to the
    brand's open platform (empty otherwise)."""

    openid: str
    unionid: str
    nickname: str = ""
    avatar_url: str = ""


# --- configuration -----------------------------------------------------------------------------


def service_account_of(workspace: Workspace) -> ServiceAccount | None:
    return ServiceAccount.objects.for_workspace(workspace).first()


def configure_service_account(
    workspace: Workspace,
    membership: Seat | None,
    *,
    app_id: str,
    secret: str = "",
    api_base: str = WECHAT_API_BASE,
    oauth_base: str = WECHAT_OAUTH_BASE,
) -> ServiceAccount:
    """Save the brand's service account (the secret encrypted at rest). An empty secret keeps
    the saved one, so a settings form never shows it again."""
    require(role_of(membership), Module.SYSTEM, Action.EDIT)
    account = service_account_of(workspace) or ServiceAccount(workspace=workspace)
    errors: dict[str, str] = {}
    if not app_id.strip():
        errors["app_id"] = _("Enter the service account's AppID.")
    if not secret.strip() and not account.secret_encrypted:
        errors["secret"] = _("Enter the service account's AppSecret.")
    bases = {"api_base": _with_slash(api_base), "oauth_base": _with_slash(oauth_base)}
    for field, url in bases.items():
        problem = api_base_problem(url)
        if problem:
            errors[field] = problem
    if errors:
        raise ValidationError(errors)
    account.app_id, account.api_base, account.oauth_base = app_id.strip(), bases["api_base"], bases["oauth_base"]
    if secret.strip():
        account.set_secret(secret.strip())
    account.save()
    audit(workspace, membership.user if membership else None, AuditAction.SETTINGS_CHANGED, "service_account",
          {"app_id": account.app_id, "api_base": account.api_base}, module="wecom")
    return account


def _with_slash(url: str) -> str:
    url = url.strip()
    return url if url.endswith("/") else url + "/"


def _account(workspace: Workspace) -> ServiceAccount:
    """The brand's service account; `ServiceAccount.DoesNotExist` when it has none."""
    return ServiceAccount.objects.for_workspace(workspace).get()


# --- web OAuth ---------------------------------------------------------------------------------


def fan_authorize_url(
    workspace: Workspace, redirect_uri: str, state: str, scope: str = "snsapi_base"
) -> str:
    """Where to send a fan's phone so WeChat says who they are; it comes back to `redirect_uri`
    with `code` and `state`. `snsapi_base` is silent; `snsapi_userinfo` asks the fan's consent
    and gives their nickname and avatar too."""
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {SCOPES}")
    account = _account(workspace)
    query = urlencode({
        "appid": account.app_id,
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": scope,
        "state": state,
    })
    return f"{account.oauth_base}connect/oauth2/authorize?{query}#wechat_redirect"


def fan_from_code(workspace: Workspace, code: str) -> Fan:
    """The fan behind a web-OAuth code (it works once, for 5 minutes: `FanCodeInvalid`)."""
    account = _account(workspace)
    with _Http(account) as http:
        grant = http.call("GET", "sns/oauth2/access_token", {
            "appid": account.app_id, "secret": account.secret, "code": code,
            "grant_type": "authorization_code",
        })
        openid, unionid = str(grant.get("openid") or ""), str(grant.get("unionid") or "")
        if not openid:
            raise WeChatError(TRANSPORT_ERRCODE, "the answer has no openid", "sns/oauth2/access_token")
        if "snsapi_userinfo" not in str(grant.get("scope") or ""):
            return Fan(openid=openid, unionid=unionid)
        info = http.call("GET", "sns/userinfo", {
            "access_token": str(grant.get("access_token") or ""), "openid": openid, "lang": "zh_CN",
        })
    return Fan(
        openid=openid,
        unionid=str(info.get("unionid") or unionid),
        nickname=str(info.get("nickname") or ""),
        avatar_url=str(info.get("headimgurl") or ""),
    )


# --- template messages -------------------------------------------------------------------------


def send_template_message(
    workspace: Workspace, openid: str, template_id: str, url: str, data: dict[str, Any]
) -> str:
    """Send a template message (模板消息) to a fan; its msgid. `data` maps each of the template's
    keywords to a value, or to WeChat's `{"value": ..., "color": ...}`. `FanNotSubscribed` when
    the fan does not follow the account."""
    account = _account(workspace)
    body = {
        "touser": openid,
        "template_id": template_id,
        "url": url,
        "data": {k: v if isinstance(v, dict) else {"value": str(v)} for k, v in data.items()},
    }
    with _Http(account) as http:
        answer = http.call_with_token("POST", "cgi-bin/message/template/send", body)
    return str(answer.get("msgid") or "")


class _Http:
    """HTTP to one service account's API: timeouts, errors typed, calls recorded as `ApiCall`
    rows (endpoint `wechat:<path>`), secrets never logged."""

    def __init__(self, account: ServiceAccount) -> None:
        self.account = account
        self.client = httpx.Client(timeout=TIMEOUT_SECONDS, verify=_tls_context())
        secret_hash = hashlib.sha256(account.secret.encode("utf-8")).hexdigest()[:16]
        base_hash = hashlib.sha256(account.api_base.encode("utf-8")).hexdigest()[:8]
        self.token_key = f"siyu:wechat:token:{base_hash}:{account.app_id}:{secret_hash}"

    def __enter__(self) -> _Http:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.client.close()

    def access_token(self) -> str:
        cached = cache.get(self.token_key)
        if cached:
            return str(cached)
        answer = self.call("GET", "cgi-bin/token", {
            "grant_type": "client_credential", "appid": self.account.app_id, "secret": self.account.secret,
        })
        token, expires_in = str(answer.get("access_token") or ""), int(answer.get("expires_in") or 0)
        if not token:
            raise WeChatError(TRANSPORT_ERRCODE, "the answer has no access_token", "cgi-bin/token")
        if expires_in > TOKEN_REFRESH_MARGIN_SECONDS:
            cache.set(self.token_key, token, timeout=expires_in - TOKEN_REFRESH_MARGIN_SECONDS)
        return token

    def call_with_token(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            return self.call(method, path, {"access_token": self.access_token()}, body)
        except WeChatError as exc:
            if exc.errcode not in TOKEN_ERRORS:
                raise
        cache.delete(self.token_key)  # WeChat says the token is no good: once more with a new one
        return self.call(method, path, {"access_token": self.access_token()}, body)

    def call(
        self, method: str, path: str, params: dict[str, str], body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        endpoint = f"wechat:{path}"
        if not api_base_allowed(self.account.api_base):
            errmsg = "the API base URL is not allowed (SIYU_WECOM_ALLOWED_API_BASES)"
            self._record(endpoint, None, TRANSPORT_ERRCODE, errmsg, time.monotonic())
            raise WeComUnavailable(TRANSPORT_ERRCODE, errmsg, endpoint)
        started = time.monotonic()
        status: int | None = None
        try:
            response = self.client.request(method, self.account.api_base + path, params=params, json=body)
            status = response.status_code
            data = response.json()
            if not isinstance(data, dict):
                raise ValueError("the answer is not a JSON object")
        except (httpx.HTTPError, ValueError) as exc:
            errmsg = f"{type(exc).__name__}: {exc}"
            for secret in (params.get("secret"), params.get("access_token"), params.get("code")):
                if secret:
                    errmsg = errmsg.replace(secret, "***")
            self._record(endpoint, status, TRANSPORT_ERRCODE, errmsg[:300], started)
            raise WeComUnavailable(TRANSPORT_ERRCODE, errmsg[:300], endpoint) from exc
        errcode = int(data.get("errcode") or 0)
        errmsg = str(data.get("errmsg") or "")[:300]
        self._record(endpoint, status, errcode, errmsg, started)
        if errcode:
            raise _ERRORS.get(errcode, WeChatError)(errcode, errmsg, path)
        return data

    def _record(self, endpoint: str, status: int | None, errcode: int, errmsg: str, started: float) -> None:
        ApiCall(
            workspace_id=self.account.workspace_id, endpoint=endpoint[:80], http_status=status,
            errcode=errcode, errmsg=errmsg, duration_ms=int((time.monotonic() - started) * 1000),
        ).save(force_insert=True)
