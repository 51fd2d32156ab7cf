"""The twin's world: one corp's staff, customers, friendships, contact ways, tags and tokens,
held in memory behind one lock, on the twin's own clock.

Everything here is plain data plus the rules that need no HTTP. The `/cgi-bin/` handlers
(`api.py`) and the `/twin/` admin handlers (`admin.py`) read and change it under `World.lock`.
"""

from __future__ import annotations

import hashlib
import random
import string
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from siyu.simulator.config import TwinConfig

if TYPE_CHECKING:
    from siyu.simulator.acquisition import AcquisitionLink
    from siyu.simulator.groups import Group, JoinWay
    from siyu.simulator.identity import JssdkSent, OAuthCode, PhoneChat, Ticket
    from siyu.simulator.mass import MassTask
    from siyu.simulator.media import Media
    from siyu.simulator.moments import Moment
    from siyu.simulator.notices import StaffNotice
    from siyu.simulator.transfers import Transfer
    from siyu.simulator.wechat import Fan, SnsGrant, TemplateMessage

# WeCom global error codes used by the twin (WECOM.md §1 and the API's error-code table).
OK = 0
INVALID_SECRET = 40001
INVALID_USERID = 40003
INVALID_CORPID = 40013
INVALID_TOKEN = 40014
INVALID_PARAMETER = 40058
INVALID_TAG_ID = 40068
TAG_NAME_EXISTS = 40071
MISSING_TOKEN = 41001
MISSING_CORPID = 41002
MISSING_SECRET = 41004
WELCOME_CODE_UNUSABLE = 41051
EXPIRED_TOKEN = 42001
REQUIRE_GET = 43001
REQUIRE_POST = 43002
CONTENT_TOO_LONG = 45002
RATE_LIMITED = 45009
BAD_JSON = 47001
NOT_EXTERNAL_CONTACT = 84061
DEPARTMENT_NOT_FOUND = 60003
INVALID_CHAT_ID = 40050
INVALID_MEDIA_ID = 40007
DATA_NOT_READY = 41063  # WECOM.md §10 [sdk]: a mass-message task queried too soon

ROOT_DEPARTMENT = 1


def derived_unionid(external_userid: str) -> str:
    """A synthetic customer's WeChat unionid: stable per customer, the twin's stand-in for the
    corp's WeChat open-platform binding (which is what makes WeCom answer unionids)."""
    return "oTw" + hashlib.sha1(f"unionid:{external_userid}".encode(), usedforsecurity=False).hexdigest()[:25]


class ApiError(Exception):
    """A WeCom error answer: HTTP 200 with a non-zero errcode."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"{errcode} {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class Clock:
    """Real time plus an offset that only grows, so tests expire things without sleeping."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the twin's clock only moves forward")
        self.offset += seconds


@dataclass
class Staff:
    userid: str
    name: str
    department: list[int]
    capacity: int
    resigned_at: float | None = None  # set when the staff member leaves the corp (WECOM.md §8)
    licensed: bool = True  # without an interface licence batch/get_by_user lists no customers

    @property
    def active(self) -> bool:
        return self.resigned_at is None


@dataclass
class Customer:
    external_userid: str
    name: str
    type: int = 1  # 1 a WeChat user, 2 a WeCom user
    gender: int = 0  # 0 unknown, 1 male, 2 female
    avatar: str = ""
    unionid: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)  # population traits, twin-only


@dataclass
class Friendship:
    """One staff member's follow of one customer (WeCom's follow_user / follow_info)."""

    userid: str
    external_userid: str
    createtime: int
    state: str = ""
    add_way: int = 0  # 0 unknown, 1 scanned a QR code
    remark: str = ""
    description: str = ""
    remark_corp_name: str = ""
    remark_mobiles: list[str] = field(default_factory=list)
    tag_ids: list[str] = field(default_factory=list)


@dataclass
class ContactWay:
    config_id: str
    type: int
    scene: int
    created_at: float
    style: int | None = None
    remark: str = ""
    skip_verify: bool = True
    state: str = ""
    qr_code: str = ""
    user: list[str] = field(default_factory=list)
    party: list[int] = field(default_factory=list)
    is_temp: bool = False
    expires_in: int | None = None
    chat_expires_in: int | None = None
    unionid: str = ""
    is_exclusive: bool = False
    conclusions: dict[str, Any] | None = None
    next_pick: int = 0  # round-robin position among `user` for customer adds


@dataclass
class Tag:
    id: str
    name: str
    create_time: int
    order: int = 0


@dataclass
class TagGroup:
    group_id: str
    group_name: str
    create_time: int
    order: int = 0
    tags: list[Tag] = field(default_factory=list)


@dataclass
class WelcomeCode:
    code: str
    userid: str
    external_userid: str
    issued_at: float
    used: bool = False


@dataclass
class ReceivedMessage:
    """A message a customer (or, for group mass messages, a group) received: a welcome message,
    a mass message, a transfer notice."""

    kind: str  # "welcome" | "mass" | "transfer" | "chat"
    userid: str
    external_userid: str
    text: str
    attachments: list[dict[str, Any]]
    received_at: float
    chat_id: str = ""
    msgid: str = ""


@dataclass
class AccessToken:
    token: str
    expires_at: float
    revoked: bool = False


class World:
    """All of the twin's state. Hold `lock` while reading or changing any of it."""

    def __init__(self, config: TwinConfig) -> None:
        self.config = config
        self.lock = threading.Lock()
        self.clock = Clock()
        self.rng = random.Random(config.seed)
        self.staff: dict[str, Staff] = {}
        self.departments: dict[int, dict[str, Any]] = {
            ROOT_DEPARTMENT: {"id": ROOT_DEPARTMENT, "name": "Twin Corp", "parentid": 0, "order": 1}
        }
        self.customers: dict[str, Customer] = {}
        self.friendships: dict[tuple[str, str], Friendship] = {}  # (userid, external_userid)
        self.contact_ways: dict[str, ContactWay] = {}
        self.tag_groups: dict[str, TagGroup] = {}
        self.welcome_codes: dict[str, WelcomeCode] = {}
        self.messages: list[ReceivedMessage] = []
        self.groups: dict[str, Group] = {}
        self.join_ways: dict[str, JoinWay] = {}
        self.mass_tasks: dict[str, MassTask] = {}
        self.transfers: list[Transfer] = []
        self.links: dict[str, AcquisitionLink] = {}
        self.moments: dict[str, Moment] = {}
        self.moment_jobs: dict[str, str] = {}  # jobid -> moment_id
        self.media: dict[str, Media] = {}
        # (userid, external_userid) -> when the staff member last sent the customer something:
        # the twin's stand-in for "last chatted" (WECOM.md §10), set by `deliver`.
        self.interactions: dict[tuple[str, str], float] = {}
        self.notices: list[StaffNotice] = []  # 应用消息 delivered to staff (notices.py)
        self.notices_dropped: dict[str, int] = {}  # userid -> notices over the member's limits
        self.notice_times: dict[str, deque[float]] = {}  # userid -> delivery times, last hour
        self.notice_days: dict[str, int] = {}  # Shanghai date -> person-times used that day
        self.notices_blocked_on: str = ""  # the Shanghai date the app's daily quota ran out
        # Staff identity on the phone (identity.py): OAuth codes, JS-SDK tickets, the chat open
        # on each member's phone, and what the JS-SDK stand-in's sendChatMessage sent.
        self.oauth_codes: dict[str, OAuthCode] = {}
        self.tickets: dict[str, Ticket] = {}
        self.jssdk_sessions: dict[str, tuple[str, float]] = {}  # session -> (userid, expires_at)
        self.phone_chats: dict[str, PhoneChat] = {}  # userid -> the chat open on their phone
        self.jssdk_sent: list[JssdkSent] = []
        # The WeChat service account (wechat.py): fans, web-OAuth codes and grants, template
        # messages, and its own access tokens.
        self.fans: dict[str, Fan] = {}  # unionid -> a WeChat user who is not a customer
        self.openids: dict[str, str] = {}  # openid -> unionid, for every fan seen
        self.sns_codes: dict[str, SnsGrant] = {}
        self.sns_tokens: dict[str, SnsGrant] = {}
        self.mp_tokens: dict[str, AccessToken] = {}
        self.templates_sent: list[TemplateMessage] = []
        self.tokens: dict[str, AccessToken] = {}
        self.gettoken_calls = 0
        self.api_calls: dict[str, int] = {}
        self._recent_calls: dict[str, deque[float]] = {}
        self._blocked_until: dict[str, float] = {}

    # -- ids ---------------------------------------------------------------------------------

    def new_id(
        self, prefix: str, length: int, alphabet: str = string.ascii_letters + string.digits
    ) -> str:
        return prefix + "".join(self.rng.choices(alphabet, k=length))

    # -- access tokens (WECOM.md §1) -----------------------------------------------------------

    def issue_token(self, corpid: str, corpsecret: str) -> tuple[str, int]:
        if not corpid:
            raise ApiError(MISSING_CORPID, "corpid missing")
        if not corpsecret:
            raise ApiError(MISSING_SECRET, "corpsecret missing")
        if corpid != self.config.corp_id:
            raise ApiError(INVALID_CORPID, "invalid corpid")
        if corpsecret != self.config.corp_secret:
            raise ApiError(
                INVALID_SECRET, "invalid credential, access_token is invalid or not latest"
            )
        now = self.clock.now()
        # WeCom doc 91039 [?]: within its validity a repeated gettoken returns the same token.
        for token in self.tokens.values():
            if not token.revoked and token.expires_at > now:
                return token.token, int(token.expires_at - now)
        token = AccessToken(self.new_id("", 64), now + self.config.token_ttl_seconds)
        self.tokens[token.token] = token
        return token.token, self.config.token_ttl_seconds

    def authenticate(self, access_token: str) -> None:
        if not access_token:
            raise ApiError(MISSING_TOKEN, "access_token missing")
        token = self.tokens.get(access_token)
        if token is None or token.revoked:
            raise ApiError(INVALID_TOKEN, "invalid access_token")
        if token.expires_at <= self.clock.now():
            raise ApiError(EXPIRED_TOKEN, "access_token expired")

    def invalidate_tokens(self, access_token: str | None = None) -> int:
        """WeCom may invalidate a token before it expires (WECOM.md §1)."""
        revoked = 0
        for token in self.tokens.values():
            if not token.revoked and access_token in (None, token.token):
                token.revoked = True
                revoked += 1
        return revoked

    # -- frequency limit (WECOM.md §1) ---------------------------------------------------------

    def count_call(self, api: str) -> None:
        """Count a call against the corp's per-API limit; raise 45009 once it is broken.

        Breaking the limit blocks the API for `rate_limit_block_seconds`, as WeCom does.
        """
        now = self.clock.now()
        self.api_calls[api] = self.api_calls.get(api, 0) + 1
        if self._blocked_until.get(api, 0) > now:
            raise ApiError(RATE_LIMITED, "api freq out of limit")
        recent = self._recent_calls.setdefault(api, deque())
        while recent and recent[0] <= now - 60:
            recent.popleft()
        if len(recent) >= self.config.rate_limit_per_minute:
            self._blocked_until[api] = now + self.config.rate_limit_block_seconds
            recent.clear()
            raise ApiError(RATE_LIMITED, "api freq out of limit")
        recent.append(now)

    # -- lookups -------------------------------------------------------------------------------

    def staff_member(self, userid: str) -> Staff:
        staff = self.staff.get(userid)
        if staff is None:
            raise ApiError(INVALID_USERID, f"invalid userid {userid!r}")
        return staff

    def active_staff(self, userid: str) -> Staff:
        staff = self.staff_member(userid)
        if not staff.active:
            raise ApiError(INVALID_USERID, f"userid {userid!r} has resigned")
        return staff

    def friendship(self, userid: str, external_userid: str) -> Friendship:
        friendship = self.friendships.get((userid, external_userid))
        if friendship is None:
            raise ApiError(NOT_EXTERNAL_CONTACT, "not external contact")
        return friendship

    def friend_count(self, userid: str) -> int:
        return sum(1 for (u, _) in self.friendships if u == userid)

    def deliver(self, message: ReceivedMessage) -> None:
        """Record a message a customer (or group) received. One a staff member sent to one
        customer counts as their latest interaction, which routes mass messages without a
        sender (`last_chatted`)."""
        self.messages.append(message)
        if message.external_userid and not message.chat_id:
            key = (message.userid, message.external_userid)
            self.interactions[key] = max(self.interactions.get(key, 0.0), message.received_at)

    def last_chatted(
        self, external_userid: str, follows: list[Friendship] | None = None
    ) -> Friendship | None:
        """The follow of the member who last chatted with the customer (WECOM.md §10 [sdk]).

        The twin has no chats: a pair's last interaction is the latest message the member
        sent the customer (welcome, mass message, transfer notice, `/twin/customers/chat`),
        or, if later or there is none, the add itself. Ties go to the later add.
        """
        if follows is None:  # callers routing many customers pass each one's follows
            follows = [
                f for f in self.friendships.values() if f.external_userid == external_userid
            ]
        if not follows:
            return None
        return max(
            enumerate(follows),
            key=lambda item: (
                max(
                    float(item[1].createtime),
                    self.interactions.get((item[1].userid, external_userid), 0.0),
                ),
                item[1].createtime,
                item[0],
            ),
        )[1]

    def customer_by_unionid(self, unionid: str) -> Customer | None:
        if not unionid:
            return None
        return next((c for c in self.customers.values() if c.unionid == unionid), None)

    def all_tags(self) -> dict[str, Tag]:
        return {tag.id: tag for group in self.tag_groups.values() for tag in group.tags}

    # -- snapshot ------------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """Everything, as JSON-able data, for `GET /twin/state`."""
        return {
            "now": self.clock.now(),
            "clock_offset": self.clock.offset,
            "corp_id": self.config.corp_id,
            "staff": [
                asdict(s) | {"friends": self.friend_count(s.userid)} for s in self.staff.values()
            ],
            "customers": [asdict(c) for c in self.customers.values()],
            "friendships": [asdict(f) for f in self.friendships.values()],
            "contact_ways": [asdict(w) for w in self.contact_ways.values()],
            "tag_groups": [asdict(g) for g in self.tag_groups.values()],
            "welcome_codes": [asdict(w) for w in self.welcome_codes.values()],
            "messages": [asdict(m) for m in self.messages],
            "groups": [asdict(g) | {"member_count": len(g.members)} for g in self.groups.values()],
            "join_ways": [asdict(w) for w in self.join_ways.values()],
            "mass_tasks": [asdict(t) for t in self.mass_tasks.values()],
            "transfers": [asdict(t) for t in self.transfers],
            "links": [asdict(link) for link in self.links.values()],
            "moments": [asdict(m) for m in self.moments.values()],
            "notices": [asdict(n) for n in self.notices],
            "notices_dropped": dict(self.notices_dropped),
            "interactions": [
                {"userid": u, "external_userid": e, "at": at}
                for (u, e), at in self.interactions.items()
            ],
            "jssdk_sent": [asdict(m) for m in self.jssdk_sent],
            "templates_sent": [asdict(m) for m in self.templates_sent],
            "gettoken_calls": self.gettoken_calls,
            "api_calls": dict(self.api_calls),
            "tokens": [
                {"expires_at": t.expires_at, "revoked": t.revoked} for t in self.tokens.values()
            ],
        }
