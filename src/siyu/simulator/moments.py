"""客户朋友圈 — moments posted by staff for their customers, in the twin (WECOM.md §6).

`add_moment_task` makes a pending moment and a job (done at once in the twin); each sending
staff member publishes it in their client (`POST /twin/moments/publish`), and only then do its
customers see it; customers like and comment (`POST /twin/moments/interact`). Media comes from
`media/upload_attachment` (`media.py`) and lasts `media_ttl_seconds` (3 days), twin time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from siyu.simulator.admin import AdminError, AdminHandler, Twin, need
from siyu.simulator.api import Endpoint
from siyu.simulator.media import check_media, upload_attachment
from siyu.simulator.params import Body, Query, int_param, page, required
from siyu.simulator.world import INVALID_PARAMETER, ApiError, World

MAX_TEXT_CHARS = 2000
MAX_IMAGES = 9
MAX_LIST_SPAN_SECONDS = 30 * 24 * 3600
MAX_LIST_LIMIT = 20
JOB_DONE = 3


@dataclass
class Moment:
    moment_id: str
    jobid: str
    create_time: int
    text: str
    attachments: list[dict[str, Any]]
    senders: list[str]
    tag_list: list[str] = field(default_factory=list)
    published: dict[str, int] = field(default_factory=dict)  # userid -> publish time
    audience: dict[str, list[str]] = field(default_factory=dict)  # userid -> customers
    likes: list[dict[str, Any]] = field(default_factory=list)
    comments: list[dict[str, Any]] = field(default_factory=list)
    creator: str = ""
    create_type: int = 0  # 0 made by the corp (the API)


def _attachments(world: World, body: Body) -> list[dict[str, Any]]:
    """WECOM.md §6: up to 9 images, or 1 video, or 1 link — never mixed."""
    items = body.get("attachments") or []
    if not isinstance(items, list):
        raise ApiError(INVALID_PARAMETER, "invalid attachments")
    kinds = [i.get("msgtype") if isinstance(i, dict) else None for i in items]
    if any(
        k not in ("image", "video", "link") or not isinstance(i.get(k), dict)
        for k, i in zip(kinds, items, strict=True)
    ):
        raise ApiError(INVALID_PARAMETER, "invalid attachment")
    if len(set(kinds)) > 1:
        raise ApiError(INVALID_PARAMETER, "images, a video and a link cannot be mixed")
    limit = MAX_IMAGES if kinds and kinds[0] == "image" else 1
    if len(items) > limit:
        raise ApiError(INVALID_PARAMETER, f"at most {limit} {kinds[0]} attachment(s)")
    for kind, item in zip(kinds, items, strict=True):
        if kind in ("image", "video"):
            check_media(world, item[kind].get("media_id"), kind)
        elif not item["link"].get("url"):
            raise ApiError(INVALID_PARAMETER, "a link needs a url")
    return items


def add_moment_task(world: World, query: Query, body: Body) -> dict[str, Any]:
    text = (body.get("text") or {}).get("content", "")
    if not isinstance(text, str) or len(text) > MAX_TEXT_CHARS:
        raise ApiError(INVALID_PARAMETER, "text content over 2000 characters")
    attachments = _attachments(world, body)
    if not text and not attachments:
        raise ApiError(INVALID_PARAMETER, "empty moment")
    scope = body.get("visible_range") or {}
    senders_in = scope.get("sender_list") or {}
    users = [str(u) for u in senders_in.get("user_list") or []]
    departments = {int(d) for d in senders_in.get("department_list") or []}
    senders = [
        s.userid
        for s in world.staff.values()
        if s.active
        and (
            (not users and not departments) or s.userid in users or departments & set(s.department)
        )
    ]
    tag_list = [str(t) for t in (scope.get("external_contact_list") or {}).get("tag_list") or []]
    moment = Moment(
        moment_id=world.new_id("mom", 24),
        jobid=world.new_id("job", 24),
        create_time=int(world.clock.now()),
        text=text,
        attachments=attachments,
        senders=senders,
        tag_list=tag_list,
    )
    world.moments[moment.moment_id] = moment
    world.moment_jobs[moment.jobid] = moment.moment_id
    return {"jobid": moment.jobid}


def get_moment_task_result(world: World, query: Query, body: Body) -> dict[str, Any]:
    moment_id = world.moment_jobs.get(query.get("jobid", ""))
    if moment_id is None:
        raise ApiError(INVALID_PARAMETER, "invalid jobid")
    return {
        "status": JOB_DONE,
        "type": "add_moment_task",
        "result": {"errcode": 0, "errmsg": "ok", "moment_id": moment_id},
    }


def _moment(world: World, body: Body) -> Moment:
    moment = world.moments.get(required(body.get("moment_id"), "moment_id"))
    if moment is None:
        raise ApiError(INVALID_PARAMETER, "invalid moment_id")
    return moment


def get_moment_list(world: World, query: Query, body: Body) -> dict[str, Any]:
    start, end = int_param(body, "start_time", 0), int_param(body, "end_time", 0)
    if not start or not end or end < start or end - start > MAX_LIST_SPAN_SECONDS:
        raise ApiError(INVALID_PARAMETER, "start_time/end_time span at most 30 days")
    limit = int_param(body, "limit", MAX_LIST_LIMIT)
    if not 1 <= limit <= MAX_LIST_LIMIT:
        raise ApiError(INVALID_PARAMETER, "invalid limit")
    filter_type = int_param(body, "filter_type", 2)
    moments = [
        m
        for m in world.moments.values()
        if start <= m.create_time <= end and filter_type in (2, m.create_type)
    ]
    chunk, next_cursor = page(moments, body.get("cursor"), limit)
    rows = []
    for m in chunk:
        row: dict[str, Any] = {
            "moment_id": m.moment_id,
            "creator": m.creator,
            "create_time": m.create_time,
            "create_type": m.create_type,
            "visible_type": 1,
            "text": {"content": m.text},
        }
        kinds = {a["msgtype"] for a in m.attachments}
        if "image" in kinds:
            row["image"] = [a["image"] for a in m.attachments]
        elif kinds:
            row[kinds.pop()] = m.attachments[0][m.attachments[0]["msgtype"]]
        rows.append(row)
    return {"moment_list": rows, "next_cursor": next_cursor}


def get_moment_task(world: World, query: Query, body: Body) -> dict[str, Any]:
    moment = _moment(world, body)
    chunk, next_cursor = page(moment.senders, body.get("cursor"), 1000)
    return {
        "task_list": [
            {"userid": u, "publish_status": 1 if u in moment.published else 0} for u in chunk
        ],
        "next_cursor": next_cursor,
    }


def _audience_page(world: World, body: Body) -> tuple[list[str], str, str]:
    moment = _moment(world, body)
    userid = required(body.get("userid"), "userid")
    customers = moment.audience.get(userid, [])
    chunk, next_cursor = page(customers, body.get("cursor"), int_param(body, "limit", 1000))
    return chunk, next_cursor, userid


def get_moment_customer_list(world: World, query: Query, body: Body) -> dict[str, Any]:
    chunk, next_cursor, userid = _audience_page(world, body)
    return {
        "customer_list": [{"userid": userid, "external_userid": e} for e in chunk],
        "next_cursor": next_cursor,
    }


def get_moment_send_result(world: World, query: Query, body: Body) -> dict[str, Any]:
    chunk, next_cursor, _ = _audience_page(world, body)
    return {"customer_list": [{"external_userid": e} for e in chunk], "next_cursor": next_cursor}


def get_moment_comments(world: World, query: Query, body: Body) -> dict[str, Any]:
    moment = _moment(world, body)
    userid = required(body.get("userid"), "userid")

    def rows(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {"external_userid": i["external_userid"], "create_time": i["create_time"]}
            for i in items
            if i["userid"] == userid
        ]

    return {"comment_list": rows(moment.comments), "like_list": rows(moment.likes)}


ENDPOINTS: dict[str, Endpoint] = {
    "media/upload_attachment": Endpoint("POST", upload_attachment, json_body=False),
    "externalcontact/add_moment_task": Endpoint("POST", add_moment_task),
    "externalcontact/get_moment_task_result": Endpoint("GET", get_moment_task_result),
    "externalcontact/get_moment_list": Endpoint("POST", get_moment_list),
    "externalcontact/get_moment_task": Endpoint("POST", get_moment_task),
    "externalcontact/get_moment_customer_list": Endpoint("POST", get_moment_customer_list),
    "externalcontact/get_moment_send_result": Endpoint("POST", get_moment_send_result),
    "externalcontact/get_moment_comments": Endpoint("POST", get_moment_comments),
}


# --- /twin/moments: staff publish, customers react -------------------------------------------


def _admin_moment(world: World, body: Body) -> Moment:
    moment = world.moments.get(str(need(body, "moment_id")))
    if moment is None:
        raise AdminError(404, "no such moment")
    return moment


def publish(twin: Twin, body: Body) -> tuple[int, dict[str, Any]]:
    world = twin.world
    with world.lock:
        moment = _admin_moment(world, body)
        userid = str(need(body, "userid"))
        if userid not in moment.senders:
            raise AdminError(404, f"{userid} is not a sender of this moment")
        if userid in moment.published:
            raise AdminError(409, "already published")
        moment.published[userid] = int(world.clock.now())
        moment.audience[userid] = [
            f.external_userid
            for f in world.friendships.values()
            if f.userid == userid and (not moment.tag_list or set(f.tag_ids) & set(moment.tag_list))
        ]
    return 200, {"moment_id": moment.moment_id, "customers": len(moment.audience[userid])}


def interact(twin: Twin, body: Body) -> tuple[int, dict[str, Any]]:
    """A customer who can see the moment likes it or comments on it."""
    world = twin.world
    kind = str(body.get("kind") or "like")
    if kind not in ("like", "comment"):
        raise AdminError(400, "kind is like or comment")
    with world.lock:
        moment = _admin_moment(world, body)
        userid, external_userid = str(need(body, "userid")), str(need(body, "external_userid"))
        if external_userid not in moment.audience.get(userid, []):
            raise AdminError(409, "the customer cannot see this moment")
        entry = {
            "userid": userid,
            "external_userid": external_userid,
            "create_time": int(world.clock.now()),
            "text": str(body.get("text") or ""),
        }
        (moment.likes if kind == "like" else moment.comments).append(entry)
    return 200, {"likes": len(moment.likes), "comments": len(moment.comments)}


ADMIN_ROUTES: dict[tuple[str, str], AdminHandler] = {
    ("POST", "moments/publish"): publish,
    ("POST", "moments/interact"): interact,
}
