"""应用消息 — notices the app sends to staff with `message/send` (WECOM.md §10 [sdk]).

`touser` is "a|b" or "@all" (and `toparty` "1|2"); unknown or resigned members come back in
`invaliduser`, and if nobody is valid the call fails with 81013. Per app at most licences x 200
person-times a day (`licences`, `notice_person_times_per_licence`): past it the app is blocked
for the rest of the Shanghai day (`notice_daily_limit_errcode` [?]). A member receives at most
30 a minute and 1,000 an hour; the excess is **dropped silently** (errcode 0, not delivered),
as WeCom does, and counted in `World.notices_dropped`. Delivered notices are recorded in
`World.notices`; `GET /twin/notices?userid=` lists them.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any
from zoneinfo import ZoneInfo

from siyu.simulator.admin import AdminHandler, Twin
from siyu.simulator.api import Endpoint
from siyu.simulator.media import check_media
from siyu.simulator.params import Body, Query
from siyu.simulator.world import INVALID_PARAMETER, ApiError, World

SHANGHAI = ZoneInfo("Asia/Shanghai")
INVALID_AGENTID = 40056
EMPTY_CONTENT = 44004
ALL_INVALID = 81013
MAX_CONTENT_BYTES = 2048  # text and markdown: WeCom truncates longer content
MAX_CARD_TITLE_BYTES = 128
MAX_CARD_DESCRIPTION_BYTES = 512
MEDIA_KINDS = ("image", "voice", "video", "file")
MSGTYPES = ("text", "markdown", "textcard", "template_card", *MEDIA_KINDS)


@dataclass
class StaffNotice:
    msgid: str
    userid: str
    msgtype: str
    content: dict[str, Any]
    sent_at: float


def _truncate(text: str, max_bytes: int) -> str:
    return text.encode("utf-8")[:max_bytes].decode("utf-8", "ignore")


def _content(world: World, body: Body, msgtype: str) -> dict[str, Any]:
    content = body.get(msgtype)
    if not isinstance(content, dict):
        raise ApiError(INVALID_PARAMETER, f"{msgtype} missing")
    if msgtype in ("text", "markdown"):
        text = content.get("content")
        if not isinstance(text, str) or not text:
            raise ApiError(EMPTY_CONTENT, "empty content")
        return {"content": _truncate(text, MAX_CONTENT_BYTES)}
    if msgtype == "textcard":
        title, description, url = (content.get(k) for k in ("title", "description", "url"))
        if not all(isinstance(v, str) and v for v in (title, description, url)):
            raise ApiError(INVALID_PARAMETER, "textcard needs title, description and url")
        if (
            len(str(title).encode()) > MAX_CARD_TITLE_BYTES
            or len(str(description).encode()) > MAX_CARD_DESCRIPTION_BYTES
        ):
            raise ApiError(INVALID_PARAMETER, "textcard title or description too long")
        return dict(content)
    if msgtype == "template_card":
        if not content.get("card_type"):
            raise ApiError(INVALID_PARAMETER, "template_card needs a card_type")
        return dict(content)
    check_media(world, content.get("media_id"), msgtype)
    return dict(content)


def _recipients(world: World, body: Body) -> tuple[list[str], list[str], list[str]]:
    """The active members addressed, then the invalid userids and parties."""
    touser = str(body.get("touser") or "")
    toparty = str(body.get("toparty") or "")
    if touser.strip() == "@all":
        return [s.userid for s in world.staff.values() if s.active], [], []
    valid: dict[str, None] = {}
    invalid_users, invalid_parties = [], []
    for userid in (u for u in touser.split("|") if u):
        staff = world.staff.get(userid)
        if staff is not None and staff.active:
            valid[userid] = None
        else:
            invalid_users.append(userid.lower())  # WeCom answers userids in lower case
    for party in (p for p in toparty.split("|") if p):
        if not party.isdigit() or int(party) not in world.departments:
            invalid_parties.append(party)
            continue
        for staff in world.staff.values():
            if staff.active and int(party) in staff.department:
                valid[staff.userid] = None
    return list(valid), invalid_users, invalid_parties


def _shanghai_day(at: float) -> str:
    return dt.datetime.fromtimestamp(at, SHANGHAI).date().isoformat()


def _within_member_limits(world: World, userid: str, now: float) -> bool:
    """WECOM.md §10 [sdk]: <= 30 a minute and <= 1,000 an hour per member, from one app."""
    times = world.notice_times.setdefault(userid, deque())
    while times and times[0] <= now - 3600:
        times.popleft()
    last_minute = sum(1 for t in times if t > now - 60)
    config = world.config
    return (
        last_minute < config.notices_per_member_per_minute
        and len(times) < config.notices_per_member_per_hour
    )


def message_send(world: World, query: Query, body: Body) -> dict[str, Any]:
    config = world.config
    if str(body.get("agentid") or "") != config.agent_id:
        raise ApiError(INVALID_AGENTID, "invalid agentid")
    msgtype = str(body.get("msgtype") or "")
    if msgtype not in MSGTYPES:
        raise ApiError(INVALID_PARAMETER, "invalid msgtype")
    content = _content(world, body, msgtype)
    recipients, invalid_users, invalid_parties = _recipients(world, body)
    if not recipients:
        raise ApiError(ALL_INVALID, "all touser, toparty and totag are invalid")
    now = world.clock.now()
    today = _shanghai_day(now)
    quota = config.licences * config.notice_person_times_per_licence
    used = world.notice_days.get(today, 0)
    if world.notices_blocked_on == today or used + len(recipients) > quota:
        # "按天拦截则被屏蔽一天(自然天)": blocked until the day ends.
        world.notices_blocked_on = today
        raise ApiError(config.notice_daily_limit_errcode, "app message quota of the day reached")
    world.notice_days[today] = used + len(recipients)
    msgid = world.new_id("", 32)
    for userid in recipients:
        if _within_member_limits(world, userid, now):
            world.notice_times[userid].append(now)
            world.notices.append(StaffNotice(msgid, userid, msgtype, content, now))
        else:
            world.notices_dropped[userid] = world.notices_dropped.get(userid, 0) + 1
    answer: dict[str, Any] = {"invaliduser": "|".join(invalid_users), "msgid": msgid}
    if body.get("toparty"):
        answer["invalidparty"] = "|".join(invalid_parties)
    if body.get("totag"):
        answer["invalidtag"] = str(body["totag"])  # the twin has no member tags
    return answer


ENDPOINTS: dict[str, Endpoint] = {"message/send": Endpoint("POST", message_send)}


def list_notices(twin: Twin, body: Body) -> tuple[int, dict[str, Any]]:
    """`GET /twin/notices[?userid=]`: what reached whom, and how many were dropped."""
    world = twin.world
    userid = str(body.get("userid") or "")
    with world.lock:
        notices = [asdict(n) for n in world.notices if not userid or n.userid == userid]
        dropped = (
            world.notices_dropped.get(userid, 0) if userid else sum(world.notices_dropped.values())
        )
    return 200, {"notices": notices, "dropped": dropped}


ADMIN_ROUTES: dict[tuple[str, str], AdminHandler] = {("GET", "notices"): list_notices}
