"""企业微信 API 客户端 — the connector's typed client for WeCom's server API (WECOM.md §1, §3-§8).

The same code talks to real WeCom and to the WeCom twin; only `WeComConnection.api_base` differs.
What it takes care of, so callers never do:

- the access token, cached per (API base, corp_id, secret hash) in Django's cache and refreshed
  60 s before it expires; on 40014 / 42001 / 41001 a fresh token is fetched and the call retried
  **once**; 40001 (bad secret) is never retried (WECOM.md §1);
- 45009 / 45033 (frequency / concurrency limit): one back-off sleep, one retry, then the error;
- a client-side rate limit per corp per API: an in-process token bucket (see `RateLimiter`);
- a timeout on every request;
- an `ApiCall` row for every HTTP exchange, retries included, in the connection's workspace.

Each endpoint is one small method below; add new ones the same way. The wire shapes live in
`siyu.wecom.schemas` and the ones callers use are re-exported here.
"""

from __future__ import annotations

import functools
import hashlib
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

import httpx
import pydantic
from django.core.cache import cache

from siyu.wecom.api_bases import api_base_allowed
from siyu.wecom.errors import (
    AcquisitionLinkMissing,
    BadSecret,
    ContactWayMissing,
    DownloadFailed,
    DownloadProblem,
    GroupChatMissing,
    GroupWelcomeMissing,
    InvalidCode,
    InvalidParameter,
    IpNotTrusted,
    JoinWayMissing,
    NotAFriend,
    NotAMember,
    NotReady,
    RateLimited,
    StaffGone,
    TransferLimitReached,
    WeComError,
    WeComUnavailable,
    WelcomeCodeUsed,
    error_for,
)
from siyu.wecom.models import ApiCall, WeComConnection
from siyu.wecom.schemas import (
    AccessToken,
    AcquisitionLink,
    AcquisitionLinkDetail,
    AcquisitionLinkPage,
    Attachment,
    ConfigRef,
    ContactWay,
    ContactWayCreated,
    ContactWayPage,
    ContactWaySpec,
    ContactWayUpdate,
    CustomerDetail,
    CustomerIds,
    CustomerPage,
    CustomerTransferOutcome,
    CustomerTransferOutcomes,
    Department,
    Departments,
    Empty,
    ExternalUserId,
    FailedChat,
    FailedChats,
    GroupChat,
    GroupChatPage,
    GroupDayStat,
    GroupDayStats,
    GroupWelcome,
    GroupWelcomeCreated,
    GroupWelcomeHeld,
    JoinWay,
    JoinWaySpec,
    JoinWayUpdate,
    MassMessageCreated,
    MassMessagePage,
    MassMessageSpec,
    MassSendPage,
    MassTaskPage,
    MediaUpload,
    MomentComments,
    MomentCustomerPage,
    MomentJob,
    MomentJobResult,
    MomentPage,
    MomentSpec,
    MomentTaskPage,
    NewTag,
    NoticeCard,
    OAuthUser,
    OneAcquisitionLink,
    OneContactWay,
    OneGroupChat,
    OneJoinWay,
    OneTagGroup,
    StaffMember,
    StaffNoticeSent,
    StaffNoticeSpec,
    StaffPage,
    TagGroup,
    TagGroups,
    Ticket,
    TransferResultPage,
    TransferState,
    UnassignedCustomer,
    UnassignedPage,
    WeComModel,
)

__all__ = [
    "AccessToken",
    "AcquisitionLink",
    "AcquisitionLinkDetail",
    "AcquisitionLinkMissing",
    "AcquisitionLinkPage",
    "Attachment",
    "BadSecret",
    "ClientOptions",
    "ContactWay",
    "ContactWayCreated",
    "ContactWayMissing",
    "ContactWayPage",
    "ContactWaySpec",
    "ContactWayUpdate",
    "CustomerDetail",
    "CustomerPage",
    "CustomerTransferOutcome",
    "Department",
    "DownloadFailed",
    "DownloadProblem",
    "FailedChat",
    "GroupChatMissing",
    "GroupChat",
    "GroupChatPage",
    "GroupDayStat",
    "InvalidCode",
    "InvalidParameter",
    "IpNotTrusted",
    "GroupWelcome",
    "GroupWelcomeHeld",
    "GroupWelcomeMissing",
    "JoinWay",
    "JoinWayMissing",
    "JoinWaySpec",
    "JoinWayUpdate",
    "MassMessageCreated",
    "MassMessagePage",
    "MassMessageSpec",
    "MassSendPage",
    "MassTaskPage",
    "MediaUpload",
    "MomentComments",
    "MomentCustomerPage",
    "MomentJobResult",
    "MomentPage",
    "MomentSpec",
    "MomentTaskPage",
    "NewTag",
    "NoticeCard",
    "NotAFriend",
    "NotAMember",
    "NotReady",
    "RateLimited",
    "StaffGone",
    "StaffMember",
    "StaffNoticeSent",
    "StaffNoticeSpec",
    "StaffPage",
    "TagGroup",
    "Ticket",
    "TransferLimitReached",
    "TransferResultPage",
    "TransferState",
    "UnassignedCustomer",
    "UnassignedPage",
    "WeComClient",
    "WeComError",
    "WeComUnavailable",
    "WelcomeCodeUsed",
    "download",
]

# WECOM.md §1: errors that mean "get a new token and try once more".
TOKEN_ERRORS = frozenset({40014, 42001, 41001})
# WECOM.md §1: frequency (45009) and concurrency (45033) limits: back off, retry once.
LIMIT_ERRORS = frozenset({45009, 45033})
TRANSPORT_ERRCODE = -1  # no WeCom answer at all (timeout, refused connection, not JSON)


@dataclass(frozen=True)
class ClientOptions:
    timeout_seconds: float = 10.0
    token_refresh_margin_seconds: int = 60  # WECOM.md §1: refresh ~60 s before expiry
    limit_backoff_seconds: float = 1.0  # sleep before the single retry after 45009/45033
    # WECOM.md §1: 10,000 calls/min per corp per API. The bucket is per process, so with N
    # processes calling WeCom give each `calls_per_minute = 10_000 // N`.
    calls_per_minute: int = 10_000
    sleep: Callable[[float], None] = time.sleep


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
# This process's copy of each cached access token: (token, until when, monotonic). Short, so a
# token another process forgot (WeCom said it is invalid) is dropped here soon after too.
TOKEN_MEMO_SECONDS = 30.0
_TOKEN_MEMO: dict[str, tuple[str, float]] = {}


def forget_remembered_tokens() -> None:
    """Drop this process's copies of access tokens (the shared cache keeps its own)."""
    _TOKEN_MEMO.clear()


# --- the client --------------------------------------------------------------------------------


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One TLS context per process, shared by every client: loading the CA bundle takes ~20 ms,
    which a worker sending a welcome message per add cannot pay per call."""
    return httpx.create_ssl_context()


def download(
    url: str,
    *,
    max_bytes: int,
    timeout_seconds: float = 10.0,
    max_redirects: int = 3,
    transport: httpx.BaseTransport | None = None,
) -> bytes:
    """GET a file WeCom serves by address, without a token (e.g. a contact way's `qr_code`,
    WECOM.md §3), with a timeout, a redirect limit and a size cap. Raises `DownloadFailed`."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise DownloadFailed(DownloadProblem.NOT_A_WEB_ADDRESS)
    try:
        with httpx.Client(timeout=timeout_seconds, follow_redirects=True, max_redirects=max_redirects,
                          verify=_tls_context(), transport=transport) as client, client.stream("GET", url) as response:
            if response.status_code != 200:
                raise DownloadFailed(DownloadProblem.HTTP_STATUS, status=response.status_code)
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise DownloadFailed(DownloadProblem.TOO_LARGE)
            body = bytearray()
            for chunk in response.iter_bytes():
                body.extend(chunk)
                if len(body) > max_bytes:
                    raise DownloadFailed(DownloadProblem.TOO_LARGE)
    except httpx.TimeoutException:
        raise DownloadFailed(DownloadProblem.TIMEOUT) from None
    except httpx.HTTPError as exc:
        raise DownloadFailed(DownloadProblem.UNREACHABLE, error=exc.__class__.__name__) from None
    return bytes(body)


class WeComClient:
    """The typed client for one brand's WeCom connection."""

    def __init__(
        self,
        connection: WeComConnection,
        http: httpx.Client | None = None,
        *,
        options: ClientOptions | None = None,
        call_log: list[ApiCall] | None = None,
    ) -> None:
        """`call_log`: collect the calls' ApiCall rows there instead of inserting each at once;
        `close` (or the end of the `with` block) inserts them together."""
        self.connection = connection
        self.options = options or ClientOptions()
        self._owns_http = http is None
        self._call_log = call_log
        self.http = http or httpx.Client(timeout=self.options.timeout_seconds, verify=_tls_context())
        self.base = (
            connection.api_base if connection.api_base.endswith("/") else connection.api_base + "/"
        )
        # Checked when saved too; a base saved before the rule, or no longer allowed, is not called.
        self._base_allowed = api_base_allowed(self.base)
        secret_hash = hashlib.sha256(connection.secret.encode("utf-8")).hexdigest()[:16]
        base_hash = hashlib.sha256(self.base.encode("utf-8")).hexdigest()[:8]
        self._token_key = f"siyu:wecom:token:{base_hash}:{connection.corp_id}:{secret_hash}"

    def close(self) -> None:
        if self._owns_http:
            self.http.close()
            if self._call_log:
                ApiCall.unscoped.bulk_create(self._call_log)
                self._call_log.clear()

    def with_options(self, options: ClientOptions) -> WeComClient:
        """A client for the same connection with other options (a deadline of its own), sharing
        this one's HTTP connection pool; safe to use from several threads at once."""
        return WeComClient(self.connection, self.http, options=options, call_log=self._call_log)

    def __enter__(self) -> WeComClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- access token (WECOM.md §1) --

    def get_token(self) -> AccessToken:
        """`gettoken`: a fresh token from WeCom, bypassing the cache."""
        params = {"corpid": self.connection.corp_id, "corpsecret": self.connection.secret}
        data = self._with_limit_retry("GET", "gettoken", params, None)
        return self._shaped(AccessToken, data, "gettoken")

    def access_token(self) -> str:
        """The cached token, fetched when missing or within the refresh margin of expiry. The
        shared cache is read at most every `TOKEN_MEMO_SECONDS` per process: on the database
        cache each read is a query, and a burst of welcome messages makes one call per add."""
        memo = _TOKEN_MEMO.get(self._token_key)
        if memo and memo[1] > time.monotonic():
            return memo[0]
        cached = cache.get(self._token_key)
        if cached:
            _TOKEN_MEMO[self._token_key] = (str(cached), time.monotonic() + TOKEN_MEMO_SECONDS)
            return str(cached)
        token = self.get_token()
        lifetime = token.expires_in - self.options.token_refresh_margin_seconds
        if lifetime > 0:
            cache.set(self._token_key, token.access_token, timeout=lifetime)
            _TOKEN_MEMO[self._token_key] = (token.access_token, time.monotonic() + min(lifetime, TOKEN_MEMO_SECONDS))
        return token.access_token

    def forget_token(self) -> None:
        _TOKEN_MEMO.pop(self._token_key, None)
        cache.delete(self._token_key)

    # -- staff --

    def list_staff_ids(self, cursor: str = "", limit: int = 10000) -> StaffPage:
        return self._post("user/list_id", {"cursor": cursor, "limit": limit}, StaffPage)

    def get_staff(self, userid: str) -> StaffMember:
        return self._get("user/get", {"userid": userid}, StaffMember)

    def list_departments(self, department_id: int | None = None) -> list[Department]:
        params = {"id": str(department_id)} if department_id is not None else {}
        return self._get("department/list", params, Departments).department

    # -- identity on the phone (WECOM.md §10) --

    def get_user_by_code(self, code: str) -> str:
        """`auth/getuserinfo`: the userid of the member an OAuth code was issued to. The code
        works once, within 5 minutes (`InvalidCode` otherwise); `NotAMember` for someone who
        is not a member of the corp."""
        endpoint = "auth/getuserinfo"
        user = self._get(endpoint, {"code": code}, OAuthUser)
        if not user.userid:
            raise NotAMember(0, "not a member of the corp", endpoint)
        return user.userid

    def get_jsapi_ticket(self) -> Ticket:
        """The corp's jsapi_ticket (valid 7,200 s; cache it: `siyu.wecom.identity`)."""
        return self._get("get_jsapi_ticket", {}, Ticket)

    def get_agent_ticket(self) -> Ticket:
        """The app's jsapi_ticket, which signs `agentConfig` (valid 7,200 s; cache it)."""
        return self._get("ticket/get", {"type": "agent_config"}, Ticket)

    def unionid_to_external_userid(self, unionid: str, openid: str) -> str | None:
        """The customer a WeChat user (unionid + openid at the corp's service account) is, or
        None when they are not a customer of the corp (84061)."""
        body = {"unionid": unionid, "openid": openid}
        try:
            return self._post(
                "externalcontact/unionid_to_external_userid", body, ExternalUserId
            ).external_userid
        except NotAFriend:
            return None

    # -- contact ways (联系我, WECOM.md §3) --

    def add_contact_way(self, spec: ContactWaySpec) -> ContactWayCreated:
        return self._post("externalcontact/add_contact_way", spec.wire(), ContactWayCreated)

    def get_contact_way(self, config_id: str) -> ContactWay:
        return self._post(
            "externalcontact/get_contact_way", {"config_id": config_id}, OneContactWay
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
        self._post("externalcontact/update_contact_way", update.wire(), Empty)

    def delete_contact_way(self, config_id: str) -> None:
        self._post("externalcontact/del_contact_way", {"config_id": config_id}, Empty)

    # -- welcome message (WECOM.md §3: within 20 s of the event, once) --

    def send_welcome_message(
        self, welcome_code: str, text: str = "", attachments: Sequence[Attachment] = ()
    ) -> None:
        body: dict[str, Any] = {"welcome_code": welcome_code}
        if text:
            body["text"] = {"content": text}
        if attachments:
            body["attachments"] = [a.wire() for a in attachments]
        self._post("externalcontact/send_welcome_msg", body, Empty)

    # -- customers --

    def get_customer(self, external_userid: str, cursor: str = "") -> CustomerDetail:
        params = {"external_userid": external_userid} | ({"cursor": cursor} if cursor else {})
        return self._get("externalcontact/get", params, CustomerDetail)

    def list_customer_ids(self, userid: str) -> list[str]:
        return self._get("externalcontact/list", {"userid": userid}, CustomerIds).external_userid

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
        self._post("externalcontact/remark", body, Empty)

    # -- corp tags --

    def get_corp_tags(
        self, tag_ids: Sequence[str] = (), group_ids: Sequence[str] = ()
    ) -> list[TagGroup]:
        body = {"tag_id": list(tag_ids), "group_id": list(group_ids)}
        return self._post("externalcontact/get_corp_tag_list", body, TagGroups).tag_group

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
        return self._post("externalcontact/add_corp_tag", body, OneTagGroup).tag_group

    def edit_corp_tag(
        self, tag_or_group_id: str, *, name: str | None = None, order: int | None = None
    ) -> None:
        body: dict[str, Any] = {"id": tag_or_group_id}
        if name is not None:
            body["name"] = name
        if order is not None:
            body["order"] = order
        self._post("externalcontact/edit_corp_tag", body, Empty)

    def delete_corp_tags(self, tag_ids: Sequence[str] = (), group_ids: Sequence[str] = ()) -> None:
        self._post(
            "externalcontact/del_corp_tag",
            {"tag_id": list(tag_ids), "group_id": list(group_ids)},
            Empty,
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
        self._post("externalcontact/mark_tag", body, Empty)

    def close_temp_chat(self, userid: str, external_userid: str) -> None:
        """Ends the temporary chat a temporary contact way opened (WECOM.md §3)."""
        body = {"userid": userid, "external_userid": external_userid}
        self._post("externalcontact/close_temp_chat", body, Empty)

    # -- customer groups and join ways (客户群, 群活码; WECOM.md §4) --

    def group_statistic_by_day(
        self, day_begin_time: int, day_end_time: int, owners: Sequence[str]
    ) -> list[GroupDayStat]:
        """`groupchat/statistic_group_by_day`: the owners' groups summed per day (China time),
        days that are over only; a window of at most 30 days within the last 180 (WECOM.md §10)."""
        body = {
            "day_begin_time": day_begin_time,
            "day_end_time": day_end_time,
            "owner_filter": {"userid_list": list(owners)},
        }
        return self._post("externalcontact/groupchat/statistic_group_by_day", body, GroupDayStats).items

    def list_groups(
        self, status_filter: int = 0, owners: Sequence[str] = (), cursor: str = "", limit: int = 100
    ) -> GroupChatPage:
        body: dict[str, Any] = {"status_filter": status_filter, "cursor": cursor, "limit": limit}
        if owners:
            body["owner_filter"] = {"userid_list": list(owners)}
        return self._post("externalcontact/groupchat/list", body, GroupChatPage)

    def get_group(self, chat_id: str, need_name: bool = False) -> GroupChat:
        """WECOM.md §4: the data may lag the event; re-fetch ~2 s later if a member is missing."""
        body = {"chat_id": chat_id, "need_name": int(need_name)}
        return self._post("externalcontact/groupchat/get", body, OneGroupChat).group_chat

    def add_join_way(self, spec: JoinWaySpec) -> str:
        """The new join way's config_id; its QR code comes from `get_join_way`."""
        return self._post("externalcontact/groupchat/add_join_way", spec.wire(), ConfigRef).config_id

    def get_join_way(self, config_id: str) -> JoinWay:
        body = {"config_id": config_id}
        return self._post("externalcontact/groupchat/get_join_way", body, OneJoinWay).join_way

    def update_join_way(self, update: JoinWayUpdate) -> None:
        self._post("externalcontact/groupchat/update_join_way", update.wire(), Empty)

    def delete_join_way(self, config_id: str) -> None:
        self._post("externalcontact/groupchat/del_join_way", {"config_id": config_id}, Empty)

    def add_group_welcome(self, template: GroupWelcome) -> str:
        """`group_welcome_template/add`: the new template's template_id (WECOM.md §10)."""
        endpoint = "externalcontact/group_welcome_template/add"
        return self._post(endpoint, template.wire(), GroupWelcomeCreated).template_id

    def edit_group_welcome(self, template_id: str, template: GroupWelcome) -> None:
        body = {"template_id": template_id} | template.wire()
        self._post("externalcontact/group_welcome_template/edit", body, Empty)

    def get_group_welcome(self, template_id: str) -> GroupWelcomeHeld:
        body = {"template_id": template_id}
        return self._post("externalcontact/group_welcome_template/get", body, GroupWelcomeHeld)

    def delete_group_welcome(self, template_id: str) -> None:
        self._post("externalcontact/group_welcome_template/del", {"template_id": template_id}, Empty)

    def transfer_groups(
        self, chat_ids: Sequence[str], new_owner: str, *, resigned: bool = False
    ) -> list[FailedChat]:
        """`groupchat/onjob_transfer`, or `groupchat/transfer` for a resigned owner (WECOM.md §8);
        the groups that could not be given."""
        endpoint = "groupchat/transfer" if resigned else "groupchat/onjob_transfer"
        body = {"chat_id_list": list(chat_ids), "new_owner": new_owner}
        return self._post(f"externalcontact/{endpoint}", body, FailedChats).failed_chat_list

    # -- mass messages (企业群发; WECOM.md §5: staff confirm each task in their client) --

    def add_mass_message(self, spec: MassMessageSpec) -> MassMessageCreated:
        return self._post("externalcontact/add_msg_template", spec.wire(), MassMessageCreated)

    def list_mass_messages(
        self,
        start_time: int,
        end_time: int,
        *,
        chat_type: Literal["single", "group"] = "single",
        creator: str | None = None,
        filter_type: int = 2,
        cursor: str = "",
        limit: int = 50,
    ) -> MassMessagePage:
        """`get_groupmsg_list_v2`: a span of at most one month (WECOM.md §5)."""
        body: dict[str, Any] = {
            "chat_type": chat_type,
            "start_time": start_time,
            "end_time": end_time,
            "filter_type": filter_type,
            "cursor": cursor,
            "limit": limit,
        } | ({"creator": creator} if creator else {})
        return self._post("externalcontact/get_groupmsg_list_v2", body, MassMessagePage)

    def get_mass_message_tasks(
        self, msgid: str, cursor: str = "", limit: int = 500
    ) -> MassTaskPage:
        body = {"msgid": msgid, "cursor": cursor, "limit": limit}
        return self._post("externalcontact/get_groupmsg_task", body, MassTaskPage)

    def get_mass_message_results(
        self, msgid: str, userid: str, cursor: str = "", limit: int = 500
    ) -> MassSendPage:
        body = {"msgid": msgid, "userid": userid, "cursor": cursor, "limit": limit}
        return self._post("externalcontact/get_groupmsg_send_result", body, MassSendPage)

    def remind_mass_message(self, msgid: str) -> None:
        """WECOM.md §5: at most 3 reminders per task in 24 h."""
        self._post("externalcontact/remind_groupmsg_send", {"msgid": msgid}, Empty)

    def cancel_mass_message(self, msgid: str) -> None:
        self._post("externalcontact/cancel_groupmsg_send", {"msgid": msgid}, Empty)

    # -- media and notices to staff (临时素材, 应用消息; WECOM.md §10) --

    def upload_media(
        self, media_type: Literal["image", "voice", "video", "file"], filename: str, content: bytes
    ) -> MediaUpload:
        """`media/upload`: a `media_id` for messages (mass-message and welcome attachments,
        notices) that lasts 3 days; WeCom answers 40007 for it afterwards."""
        files = {"media": (filename, content)}
        data = self._call("POST", "media/upload", {"type": media_type}, None, files)
        return self._shaped(MediaUpload, data, "media/upload")

    def send_notice(self, spec: StaffNoticeSpec) -> StaffNoticeSent:
        """`message/send` from the connection's app. WECOM.md §10: a member receives at most 30
        a minute and 1,000 an hour and WeCom drops the excess without an error; an app sends at
        most licences x 200 person-times a day."""
        body = spec.wire_for(self.connection.agent_id)
        return self._post("message/send", body, StaffNoticeSent)

    # -- moments (客户朋友圈; WECOM.md §6) --

    def upload_attachment(
        self, media_type: Literal["image", "video", "file"], filename: str, content: bytes
    ) -> MediaUpload:
        """`media/upload_attachment` for moments (attachment_type 1); the media lasts 3 days."""
        params = {"media_type": media_type, "attachment_type": "1"}
        files = {"media": (filename, content)}
        data = self._call("POST", "media/upload_attachment", params, None, files)
        return self._shaped(MediaUpload, data, "media/upload_attachment")

    def add_moment_task(self, spec: MomentSpec) -> str:
        """The job id; `get_moment_task_result` gives the moment_id once the job is done."""
        return self._post("externalcontact/add_moment_task", spec.wire(), MomentJob).jobid

    def get_moment_task_result(self, jobid: str) -> MomentJobResult:
        return self._get(
            "externalcontact/get_moment_task_result", {"jobid": jobid}, MomentJobResult
        )

    def list_moments(
        self,
        start_time: int,
        end_time: int,
        *,
        creator: str | None = None,
        filter_type: int = 2,
        cursor: str = "",
        limit: int = 20,
    ) -> MomentPage:
        """`get_moment_list`: a span of at most 30 days, at most 20 a page (WECOM.md §6)."""
        body: dict[str, Any] = {
            "start_time": start_time,
            "end_time": end_time,
            "filter_type": filter_type,
            "cursor": cursor,
            "limit": limit,
        } | ({"creator": creator} if creator else {})
        return self._post("externalcontact/get_moment_list", body, MomentPage)

    def get_moment_tasks(
        self, moment_id: str, cursor: str = "", limit: int = 500
    ) -> MomentTaskPage:
        body = {"moment_id": moment_id, "cursor": cursor, "limit": limit}
        return self._post("externalcontact/get_moment_task", body, MomentTaskPage)

    def get_moment_customers(
        self, moment_id: str, userid: str, cursor: str = "", limit: int = 500
    ) -> MomentCustomerPage:
        body = {"moment_id": moment_id, "userid": userid, "cursor": cursor, "limit": limit}
        return self._post("externalcontact/get_moment_customer_list", body, MomentCustomerPage)

    def get_moment_send_result(
        self, moment_id: str, userid: str, cursor: str = "", limit: int = 500
    ) -> MomentCustomerPage:
        body = {"moment_id": moment_id, "userid": userid, "cursor": cursor, "limit": limit}
        return self._post("externalcontact/get_moment_send_result", body, MomentCustomerPage)

    def get_moment_comments(self, moment_id: str, userid: str) -> MomentComments:
        body = {"moment_id": moment_id, "userid": userid}
        return self._post("externalcontact/get_moment_comments", body, MomentComments)

    # -- acquisition links (获客助手; WECOM.md §7) --

    def create_acquisition_link(
        self,
        link_name: str,
        *,
        users: Sequence[str] = (),
        departments: Sequence[int] = (),
        skip_verify: bool = True,
        priority_option: dict[str, Any] | None = None,
    ) -> AcquisitionLink:
        """Append `customer_channel=XXX` (<= 64 bytes) to the URL: it comes back as `State`."""
        body: dict[str, Any] = {
            "link_name": link_name,
            "range": {"user_list": list(users), "department_list": list(departments)},
            "skip_verify": skip_verify,
        } | ({"priority_option": priority_option} if priority_option else {})
        path = "externalcontact/customer_acquisition/create_link"
        return self._post(path, body, OneAcquisitionLink).link

    def list_acquisition_links(self, cursor: str = "", limit: int = 100) -> AcquisitionLinkPage:
        """One page of the corp's link ids (limit <= 100)."""
        body = {"cursor": cursor, "limit": limit}
        return self._post("externalcontact/customer_acquisition/list_link", body, AcquisitionLinkPage)

    def get_acquisition_link(self, link_id: str) -> AcquisitionLinkDetail:
        """The link and its staff range; `AcquisitionLinkMissing` when WeCom has no such link."""
        path = "externalcontact/customer_acquisition/get"
        return self._post(path, {"link_id": link_id}, AcquisitionLinkDetail)

    def update_acquisition_link(
        self,
        link_id: str,
        *,
        link_name: str | None = None,
        users: Sequence[str] | None = None,
        departments: Sequence[int] = (),
        skip_verify: bool | None = None,
    ) -> None:
        """Change a link; a range given replaces the old one, as for contact ways (§7)."""
        body: dict[str, Any] = {"link_id": link_id}
        if link_name is not None:
            body["link_name"] = link_name
        if users is not None:
            body["range"] = {"user_list": list(users), "department_list": list(departments)}
        if skip_verify is not None:
            body["skip_verify"] = skip_verify
        self._post("externalcontact/customer_acquisition/update_link", body, Empty)

    def delete_acquisition_link(self, link_id: str) -> None:
        path = "externalcontact/customer_acquisition/delete_link"
        self._post(path, {"link_id": link_id}, Empty)

    # -- transfers (在职继承 / 离职继承; WECOM.md §8) --

    def transfer_customers(
        self,
        handover_userid: str,
        takeover_userid: str,
        external_userids: Sequence[str],
        *,
        resigned: bool = False,
        transfer_success_msg: str | None = None,
    ) -> list[CustomerTransferOutcome]:
        """Up to 100 customers; each takes effect after 24 h unless refused. Per-customer
        errcodes say who was not accepted (e.g. transferred twice in 90 days)."""
        endpoint = "resigned/transfer_customer" if resigned else "transfer_customer"
        body: dict[str, Any] = {
            "handover_userid": handover_userid,
            "takeover_userid": takeover_userid,
            "external_userid": list(external_userids),
        } | ({"transfer_success_msg": transfer_success_msg} if transfer_success_msg else {})
        return self._post(f"externalcontact/{endpoint}", body, CustomerTransferOutcomes).customer

    def transfer_result(
        self,
        handover_userid: str,
        takeover_userid: str,
        cursor: str = "",
        *,
        resigned: bool = False,
    ) -> TransferResultPage:
        endpoint = "resigned/transfer_result" if resigned else "transfer_result"
        body = {
            "handover_userid": handover_userid,
            "takeover_userid": takeover_userid,
            "cursor": cursor,
        }
        return self._post(f"externalcontact/{endpoint}", body, TransferResultPage)

    def list_unassigned(self, cursor: str = "", page_size: int = 1000) -> UnassignedPage:
        """Customers of resigned staff not yet given to anyone."""
        body = {"cursor": cursor, "page_size": page_size}
        return self._post("externalcontact/get_unassigned_list", body, UnassignedPage)

    # -- transport --

    def _get(self, endpoint: str, params: dict[str, str], model: type[ModelT]) -> ModelT:
        return self._shaped(model, self._call("GET", endpoint, params, None), endpoint)

    def _post(self, endpoint: str, body: dict[str, Any], model: type[ModelT]) -> ModelT:
        return self._shaped(model, self._call("POST", endpoint, {}, body), endpoint)

    @staticmethod
    def _shaped(model: type[ModelT], data: dict[str, Any], endpoint: str) -> ModelT:
        """The answer as `model`; an answer without WeCom's fields (a server that is not WeCom) is
        no usable answer."""
        try:
            return model.model_validate(data)
        except pydantic.ValidationError as exc:
            errmsg = f"the answer does not have WeCom's shape ({exc.error_count()} problems)"
            raise WeComUnavailable(TRANSPORT_ERRCODE, errmsg, endpoint) from exc

    def _call(
        self,
        method: str,
        endpoint: str,
        params: dict[str, str],
        body: dict[str, Any] | None,
        files: dict[str, tuple[str, bytes]] | None = None,
    ) -> dict[str, Any]:
        """One API call with the token and limit rules of WECOM.md §1: at most one retry."""
        data = self._exchange(
            method, endpoint, params | {"access_token": self.access_token()}, body, 1, files
        )
        errcode = data.get("errcode", 0)
        if errcode in TOKEN_ERRORS:
            self.forget_token()
            data = self._exchange(
                method, endpoint, params | {"access_token": self.access_token()}, body, 2, files
            )
        elif errcode in LIMIT_ERRORS:
            self.options.sleep(self.options.limit_backoff_seconds)
            data = self._exchange(
                method, endpoint, params | {"access_token": self.access_token()}, body, 2, files
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
            raise error_for(int(errcode), str(data.get("errmsg", "")), endpoint)
        return data

    def _exchange(
        self,
        method: str,
        endpoint: str,
        params: dict[str, str],
        body: dict[str, Any] | None,
        attempt: int,
        files: dict[str, tuple[str, bytes]] | None = None,
    ) -> dict[str, Any]:
        """One HTTP request, paced by the rate limiter and recorded as an ApiCall."""
        if not self._base_allowed:
            errmsg = "the API base URL is not allowed (SIYU_WECOM_ALLOWED_API_BASES)"
            self._record(endpoint, None, TRANSPORT_ERRCODE, errmsg, time.monotonic(), attempt)
            raise WeComUnavailable(TRANSPORT_ERRCODE, errmsg, endpoint)
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
                files=files,
                timeout=self.options.timeout_seconds,
            )
            status = response.status_code
            data = response.json()
            if not isinstance(data, dict):
                raise ValueError("the answer is not a JSON object")
            if "errcode" not in data and not response.is_success:
                raise ValueError(f"HTTP {status} without a WeCom answer")
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
        call = ApiCall(  # the connection's brand, by id: `.workspace` would be a query per call
            workspace_id=self.connection.workspace_id,
            endpoint=endpoint[:80],
            http_status=status,
            errcode=errcode,
            errmsg=errmsg,
            duration_ms=int((time.monotonic() - started) * 1000),
            attempt=attempt,
        )
        if self._call_log is None:
            call.save(force_insert=True)
        else:
            self._call_log.append(call)  # list.append is atomic: sender threads share the log
