"""企业微信 API 客户端 — the connector's typed client for WeCom's server API (WECOM.md §1, §3).

The same code talks to real WeCom and to the WeCom twin; only `WeComConnection.api_base` differs.
What it takes care of, so callers never do:

- the access token, cached per (API base, corp_id, secret hash) in Django's cache and refreshed
  60 s before it expires; on 40014 / 42001 / 41001 a fresh token is fetched and the call retried
  **once**; 40001 (bad secret) is never retried (WECOM.md §1);
- 45009 / 45033 (frequency / concurrency limit): one back-off sleep, one retry, then the error;
- a client-side rate limit per corp per API: an in-process token bucket (see `RateLimiter`);
- a timeout on every request;
- an `ApiCall` row for every HTTP exchange, retries included, in the connection's workspace.

Each endpoint is one small method below; add new ones the same way.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import httpx
from django.core.cache import cache
from pydantic import BaseModel, ConfigDict

from siyu.wecom.models import ApiCall, WeComConnection

__all__ = [
    "AccessToken",
    "Attachment",
    "ClientOptions",
    "ContactWay",
    "ContactWayCreated",
    "ContactWayPage",
    "ContactWaySpec",
    "ContactWayUpdate",
    "CustomerDetail",
    "CustomerPage",
    "Department",
    "NewTag",
    "StaffMember",
    "StaffPage",
    "TagGroup",
    "WeComClient",
    "WeComError",
    "WeComUnavailable",
]

# WECOM.md §1: errors that mean "get a new token and try once more".
TOKEN_ERRORS = frozenset({40014, 42001, 41001})
# WECOM.md §1: frequency (45009) and concurrency (45033) limits: back off, retry once.
LIMIT_ERRORS = frozenset({45009, 45033})
TRANSPORT_ERRCODE = -1  # no WeCom answer at all (timeout, refused connection, not JSON)


class WeComError(Exception):
    """WeCom answered with a non-zero errcode (or, for `WeComUnavailable`, did not answer)."""

    def __init__(self, errcode: int, errmsg: str, endpoint: str) -> None:
        super().__init__(f"{endpoint}: {errcode} {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg
        self.endpoint = endpoint


class WeComUnavailable(WeComError):
    """No usable answer: a timeout, a network error, a non-JSON body."""


@dataclass(frozen=True)
class ClientOptions:
    timeout_seconds: float = 10.0
    token_refresh_margin_seconds: int = 60  # WECOM.md §1: refresh ~60 s before expiry
    limit_backoff_seconds: float = 1.0  # sleep before the single retry after 45009/45033
    # WECOM.md §1: 10,000 calls/min per corp per API. The bucket is per process, so with N
    # processes calling WeCom give each `calls_per_minute = 10_000 // N`.
    calls_per_minute: int = 10_000
    sleep: Callable[[float], None] = time.sleep


# --- typed requests and responses ------------------------------------------------------------


class WeComModel(BaseModel):
    """Base of the wire shapes: unknown fields WeCom adds later are ignored."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    def wire(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True, by_alias=True)


class AccessToken(WeComModel):
    access_token: str
    expires_in: int


class DeptUser(WeComModel):
    userid: str
    department: int


class StaffPage(WeComModel):
    dept_user: list[DeptUser] = []
    next_cursor: str = ""


class StaffMember(WeComModel):
    userid: str
    name: str = ""
    department: list[int] = []
    position: str = ""
    status: int | None = None


class Department(WeComModel):
    id: int
    name: str = ""
    parentid: int = 0
    order: int = 0
    department_leader: list[str] = []


class ContactWaySpec(WeComModel):
    """联系我 — a contact way to create (WECOM.md §3: state and remark <= 30 characters)."""

    type: Literal[1, 2]  # 1 a single member, 2 several
    scene: Literal[1, 2]  # 1 mini-program, 2 QR code
    style: int | None = None
    remark: str | None = None
    skip_verify: bool | None = None
    state: str | None = None
    user: list[str] | None = None
    party: list[int] | None = None
    is_temp: bool | None = None
    expires_in: int | None = None
    chat_expires_in: int | None = None
    unionid: str | None = None
    is_exclusive: bool | None = None
    conclusions: dict[str, Any] | None = None


class ContactWayUpdate(WeComModel):
    """Changes to a contact way; a given `user` / `party` list replaces the old one."""

    config_id: str
    remark: str | None = None
    skip_verify: bool | None = None
    style: int | None = None
    state: str | None = None
    user: list[str] | None = None
    party: list[int] | None = None
    expires_in: int | None = None
    chat_expires_in: int | None = None
    unionid: str | None = None
    conclusions: dict[str, Any] | None = None


class ContactWayCreated(WeComModel):
    config_id: str
    qr_code: str = ""  # scene 2 only


class ContactWay(WeComModel):
    config_id: str
    type: int
    scene: int
    style: int | None = None
    remark: str = ""
    skip_verify: bool = True
    state: str = ""
    qr_code: str = ""
    user: list[str] = []
    party: list[int] = []
    is_temp: bool = False
    expires_in: int | None = None
    chat_expires_in: int | None = None
    unionid: str = ""
    conclusions: dict[str, Any] | None = None


class ConfigRef(WeComModel):
    config_id: str


class ContactWayPage(WeComModel):
    contact_way: list[ConfigRef] = []
    next_cursor: str = ""


class Attachment(WeComModel):
    """One welcome-message attachment, in WeCom's shape: `{"msgtype": kind, kind: {...}}`."""

    msgtype: Literal["image", "link", "miniprogram", "video", "file"]
    image: dict[str, str] | None = None
    link: dict[str, str] | None = None
    miniprogram: dict[str, str] | None = None
    video: dict[str, str] | None = None
    file: dict[str, str] | None = None

    @classmethod
    def of_image(cls, media_id: str) -> Attachment:
        return cls(msgtype="image", image={"media_id": media_id})

    @classmethod
    def of_link(cls, title: str, url: str, picurl: str = "", desc: str = "") -> Attachment:
        link = (
            {"title": title, "url": url}
            | ({"picurl": picurl} if picurl else {})
            | ({"desc": desc} if desc else {})
        )
        return cls(msgtype="link", link=link)

    @classmethod
    def of_miniprogram(cls, title: str, pic_media_id: str, appid: str, page: str) -> Attachment:
        return cls(
            msgtype="miniprogram",
            miniprogram={
                "title": title,
                "pic_media_id": pic_media_id,
                "appid": appid,
                "page": page,
            },
        )


class ExternalContact(WeComModel):
    external_userid: str
    name: str = ""
    type: int = 1  # 1 WeChat user, 2 WeCom user
    gender: int = 0
    avatar: str = ""
    unionid: str = ""
    corp_name: str = ""


class FollowTag(WeComModel):
    tag_id: str = ""
    tag_name: str = ""
    group_name: str = ""
    type: int = 1


class FollowUser(WeComModel):
    """A staff member's side of the friendship (remark, tags, how and by which state added)."""

    userid: str
    remark: str = ""
    description: str = ""
    createtime: int = 0
    tags: list[FollowTag] = []
    tag_id: list[str] = []  # batch/get_by_user gives ids only
    remark_corp_name: str = ""
    remark_mobiles: list[str] = []
    add_way: int = 0
    oper_userid: str = ""
    state: str = ""


class CustomerDetail(WeComModel):
    external_contact: ExternalContact
    follow_user: list[FollowUser] = []
    next_cursor: str = ""


class CustomerOfStaff(WeComModel):
    external_contact: ExternalContact
    follow_info: FollowUser


class CustomerPage(WeComModel):
    external_contact_list: list[CustomerOfStaff] = []
    next_cursor: str = ""


class _CustomerIds(WeComModel):
    external_userid: list[str] = []


class CorpTag(WeComModel):
    id: str
    name: str
    create_time: int = 0
    order: int = 0
    deleted: bool = False


class TagGroup(WeComModel):
    group_id: str
    group_name: str
    create_time: int = 0
    order: int = 0
    deleted: bool = False
    tag: list[CorpTag] = []


class NewTag(WeComModel):
    name: str
    order: int | None = None


class _TagGroups(WeComModel):
    tag_group: list[TagGroup] = []


class _OneTagGroup(WeComModel):
    tag_group: TagGroup


class _Departments(WeComModel):
    department: list[Department] = []


class _OneContactWay(WeComModel):
    contact_way: ContactWay


class _Empty(WeComModel):
    pass


ModelT = TypeVar("ModelT", bound=WeComModel)


# --- rate limiting -----------------------------------------------------------------------------


class RateLimiter:
    """A token bucket per (corp_id, API) in this process, refilled at `calls_per_minute / 60` per
    second and holding at most a minute's worth. `reserve` takes a token (borrowing from the
    future if there is none) and says how long to wait before using it, so waits never spin."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str, int], tuple[float, float]] = {}  # -> (tokens, at)

    def reserve(self, corp_id: str, api: str, calls_per_minute: int) -> float:
        now = time.monotonic()
        key = (corp_id, api, calls_per_minute)
        rate = calls_per_minute / 60
        with self._lock:
            tokens, at = self._buckets.get(key, (float(calls_per_minute), now))
            tokens = min(float(calls_per_minute), tokens + (now - at) * rate) - 1
            self._buckets[key] = (tokens, now)
        return 0.0 if tokens >= 0 else -tokens / rate


RATE_LIMITER = RateLimiter()


# --- the client --------------------------------------------------------------------------------


class WeComClient:
    """The typed client for one brand's WeCom connection."""

    def __init__(
        self,
        connection: WeComConnection,
        http: httpx.Client | None = None,
        *,
        options: ClientOptions | None = None,
    ) -> None:
        self.connection = connection
        self.options = options or ClientOptions()
        self._owns_http = http is None
        self.http = http or httpx.Client(timeout=self.options.timeout_seconds)
        self.base = (
            connection.api_base if connection.api_base.endswith("/") else connection.api_base + "/"
        )
        secret_hash = hashlib.sha256(connection.secret.encode("utf-8")).hexdigest()[:16]
        base_hash = hashlib.sha256(self.base.encode("utf-8")).hexdigest()[:8]
        self._token_key = f"siyu:wecom:token:{base_hash}:{connection.corp_id}:{secret_hash}"

    def close(self) -> None:
        if self._owns_http:
            self.http.close()

    def __enter__(self) -> WeComClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- access token (WECOM.md §1) --

    def get_token(self) -> AccessToken:
        """`gettoken`: a fresh token from WeCom, bypassing the cache."""
        params = {"corpid": self.connection.corp_id, "corpsecret": self.connection.secret}
        data = self._with_limit_retry("GET", "gettoken", params, None)
        return AccessToken.model_validate(data)

    def access_token(self) -> str:
        """The cached token, fetched when missing or within the refresh margin of expiry."""
        cached = cache.get(self._token_key)
        if cached:
            return str(cached)
        token = self.get_token()
        lifetime = token.expires_in - self.options.token_refresh_margin_seconds
        if lifetime > 0:
            cache.set(self._token_key, token.access_token, timeout=lifetime)
        return token.access_token

    def forget_token(self) -> None:
        cache.delete(self._token_key)

    # -- staff --

    def list_staff_ids(self, cursor: str = "", limit: int = 10000) -> StaffPage:
        return self._post("user/list_id", {"cursor": cursor, "limit": limit}, StaffPage)

    def get_staff(self, userid: str) -> StaffMember:
        return self._get("user/get", {"userid": userid}, StaffMember)

    def list_departments(self, department_id: int | None = None) -> list[Department]:
        params = {"id": str(department_id)} if department_id is not None else {}
        return self._get("department/list", params, _Departments).department

    # -- contact ways (联系我, WECOM.md §3) --

    def add_contact_way(self, spec: ContactWaySpec) -> ContactWayCreated:
        return self._post("externalcontact/add_contact_way", spec.wire(), ContactWayCreated)

    def get_contact_way(self, config_id: str) -> ContactWay:
        return self._post(
            "externalcontact/get_contact_way", {"config_id": config_id}, _OneContactWay
        ).contact_way

    def list_contact_ways(
        self,
        start_time: int | None = None,
        end_time: int | None = None,
        cursor: str = "",
        limit: int = 100,
    ) -> ContactWayPage:
        body: dict[str, Any] = {"cursor": cursor, "limit": limit}
        if start_time is not None:
            body["start_time"] = start_time
        if end_time is not None:
            body["end_time"] = end_time
        return self._post("externalcontact/list_contact_way", body, ContactWayPage)

    def update_contact_way(self, update: ContactWayUpdate) -> None:
        self._post("externalcontact/update_contact_way", update.wire(), _Empty)

    def delete_contact_way(self, config_id: str) -> None:
        self._post("externalcontact/del_contact_way", {"config_id": config_id}, _Empty)

    # -- welcome message (WECOM.md §3: within 20 s of the event, once) --

    def send_welcome_message(
        self, welcome_code: str, text: str = "", attachments: Sequence[Attachment] = ()
    ) -> None:
        body: dict[str, Any] = {"welcome_code": welcome_code}
        if text:
            body["text"] = {"content": text}
        if attachments:
            body["attachments"] = [a.wire() for a in attachments]
        self._post("externalcontact/send_welcome_msg", body, _Empty)

    # -- customers --

    def get_customer(self, external_userid: str, cursor: str = "") -> CustomerDetail:
        params = {"external_userid": external_userid} | ({"cursor": cursor} if cursor else {})
        return self._get("externalcontact/get", params, CustomerDetail)

    def list_customer_ids(self, userid: str) -> list[str]:
        return self._get("externalcontact/list", {"userid": userid}, _CustomerIds).external_userid

    def customers_of_staff(
        self, userids: Sequence[str], cursor: str = "", limit: int = 100
    ) -> CustomerPage:
        """`batch/get_by_user`: up to 100 staff, up to 100 rows a page (WECOM.md §3)."""
        body = {"userid_list": list(userids), "cursor": cursor, "limit": limit}
        return self._post("externalcontact/batch/get_by_user", body, CustomerPage)

    def remark_customer(
        self,
        userid: str,
        external_userid: str,
        *,
        remark: str | None = None,
        description: str | None = None,
        remark_company: str | None = None,
        remark_mobiles: Sequence[str] | None = None,
        remark_pic_mediaid: str | None = None,
    ) -> None:
        """WECOM.md §3: remark <= 20, description <= 150; mobiles overwrite ([""] clears)."""
        fields = {
            "remark": remark,
            "description": description,
            "remark_company": remark_company,
            "remark_mobiles": list(remark_mobiles) if remark_mobiles is not None else None,
            "remark_pic_mediaid": remark_pic_mediaid,
        }
        body = {"userid": userid, "external_userid": external_userid} | {
            k: v for k, v in fields.items() if v is not None
        }
        self._post("externalcontact/remark", body, _Empty)

    # -- corp tags --

    def get_corp_tags(
        self, tag_ids: Sequence[str] = (), group_ids: Sequence[str] = ()
    ) -> list[TagGroup]:
        body = {"tag_id": list(tag_ids), "group_id": list(group_ids)}
        return self._post("externalcontact/get_corp_tag_list", body, _TagGroups).tag_group

    def add_corp_tags(
        self,
        tags: Sequence[NewTag],
        *,
        group_id: str | None = None,
        group_name: str | None = None,
        order: int | None = None,
    ) -> TagGroup:
        """Tags into an existing group (`group_id`) or a group named `group_name`; the answer
        holds the group with the new tags only."""
        body: dict[str, Any] = {"tag": [t.wire() for t in tags]}
        for key, value in (("group_id", group_id), ("group_name", group_name), ("order", order)):
            if value is not None:
                body[key] = value
        return self._post("externalcontact/add_corp_tag", body, _OneTagGroup).tag_group

    def edit_corp_tag(
        self, tag_or_group_id: str, *, name: str | None = None, order: int | None = None
    ) -> None:
        body: dict[str, Any] = {"id": tag_or_group_id}
        if name is not None:
            body["name"] = name
        if order is not None:
            body["order"] = order
        self._post("externalcontact/edit_corp_tag", body, _Empty)

    def delete_corp_tags(self, tag_ids: Sequence[str] = (), group_ids: Sequence[str] = ()) -> None:
        self._post(
            "externalcontact/del_corp_tag",
            {"tag_id": list(tag_ids), "group_id": list(group_ids)},
            _Empty,
        )

    def mark_tags(
        self, userid: str, external_userid: str, add: Sequence[str] = (), remove: Sequence[str] = ()
    ) -> None:
        """WECOM.md §0: this fires no callback; the caller records the change itself."""
        body = {
            "userid": userid,
            "external_userid": external_userid,
            "add_tag": list(add),
            "remove_tag": list(remove),
        }
        self._post("externalcontact/mark_tag", body, _Empty)

    # -- transport --

    def _get(self, endpoint: str, params: dict[str, str], model: type[ModelT]) -> ModelT:
        return model.model_validate(self._call("GET", endpoint, params, None))

    def _post(self, endpoint: str, body: dict[str, Any], model: type[ModelT]) -> ModelT:
        return model.model_validate(self._call("POST", endpoint, {}, body))

    def _call(
        self, method: str, endpoint: str, params: dict[str, str], body: dict[str, Any] | None
    ) -> dict[str, Any]:
        """One API call with the token and limit rules of WECOM.md §1: at most one retry."""
        data = self._exchange(
            method, endpoint, params | {"access_token": self.access_token()}, body, 1
        )
        errcode = data.get("errcode", 0)
        if errcode in TOKEN_ERRORS:
            self.forget_token()
            data = self._exchange(
                method, endpoint, params | {"access_token": self.access_token()}, body, 2
            )
        elif errcode in LIMIT_ERRORS:
            self.options.sleep(self.options.limit_backoff_seconds)
            data = self._exchange(
                method, endpoint, params | {"access_token": self.access_token()}, body, 2
            )
        return self._checked(endpoint, data)

    def _with_limit_retry(
        self, method: str, endpoint: str, params: dict[str, str], body: dict[str, Any] | None
    ) -> dict[str, Any]:
        data = self._exchange(method, endpoint, params, body, 1)
        if data.get("errcode", 0) in LIMIT_ERRORS:
            self.options.sleep(self.options.limit_backoff_seconds)
            data = self._exchange(method, endpoint, params, body, 2)
        return self._checked(endpoint, data)

    @staticmethod
    def _checked(endpoint: str, data: dict[str, Any]) -> dict[str, Any]:
        errcode = data.get("errcode", 0)
        if errcode != 0:
            raise WeComError(int(errcode), str(data.get("errmsg", "")), endpoint)
        return data

    def _exchange(
        self,
        method: str,
        endpoint: str,
        params: dict[str, str],
        body: dict[str, Any] | None,
        attempt: int,
    ) -> dict[str, Any]:
        """One HTTP request, paced by the rate limiter and recorded as an ApiCall."""
        wait = RATE_LIMITER.reserve(
            self.connection.corp_id, endpoint, self.options.calls_per_minute
        )
        if wait > 0:
            self.options.sleep(wait)
        started = time.monotonic()
        status: int | None = None
        try:
            response = self.http.request(
                method,
                self.base + endpoint,
                params=params,
                json=body,
                timeout=self.options.timeout_seconds,
            )
            status = response.status_code
            data = response.json()
            if not isinstance(data, dict):
                raise ValueError("the answer is not a JSON object")
        except (httpx.HTTPError, ValueError) as exc:
            errmsg = f"{type(exc).__name__}: {exc}"
            for secret in (params.get("access_token"), params.get("corpsecret")):
                if secret:  # never store a credential in the call log
                    errmsg = errmsg.replace(secret, "***")
            errmsg = errmsg[:300]
            self._record(endpoint, status, TRANSPORT_ERRCODE, errmsg, started, attempt)
            raise WeComUnavailable(TRANSPORT_ERRCODE, errmsg, endpoint) from exc
        errcode = data.get("errcode", 0)
        self._record(
            endpoint, status, int(errcode), str(data.get("errmsg", ""))[:300], started, attempt
        )
        return data

    def _record(
        self,
        endpoint: str,
        status: int | None,
        errcode: int,
        errmsg: str,
        started: float,
        attempt: int,
    ) -> None:
        ApiCall.objects.create(
            workspace=self.connection.workspace,
            endpoint=endpoint[:80],
            http_status=status,
            errcode=errcode,
            errmsg=errmsg,
            duration_ms=int((time.monotonic() - started) * 1000),
            attempt=attempt,
        )
