"""The twin's `/cgi-bin/` endpoints: WeCom's paths, JSON shapes and rules (WECOM.md §1 and §3).

One small function per endpoint, `(world, query, body) -> result dict`, run under the world's
lock; a broken rule raises `ApiError`. Changes made here fire **no** callback (WECOM.md §0):
only the customer actions in `admin.py` do.
"""

from __future__ import annotations

import io
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import segno

from siyu.simulator import tags
from siyu.simulator.media import check_media
from siyu.simulator.params import (
    Body,
    Handler,
    Query,
    int_param,
    page,
    required,
    text_param,
)
from siyu.simulator.world import (
    CONTENT_TOO_LONG,
    DEPARTMENT_NOT_FOUND,
    INVALID_PARAMETER,
    NOT_EXTERNAL_CONTACT,
    WELCOME_CODE_UNUSABLE,
    ApiError,
    ContactWay,
    Customer,
    Friendship,
    ReceivedMessage,
    World,
)

# WECOM.md §3 limits.
MAX_STATE_CHARS = 30
MAX_CONTACT_WAY_REMARK_CHARS = 30
MAX_CONTACT_WAY_MEMBERS = 100
MAX_WELCOME_TEXT_BYTES = 4000
MAX_ATTACHMENTS = 9
ATTACHMENT_TYPES = ("image", "link", "miniprogram", "video", "file")
MAX_BATCH_USERS = 100
MAX_BATCH_LIMIT = 100
MAX_REMARK_CHARS = 20
MAX_DESCRIPTION_CHARS = 150
MAX_REMARK_COMPANY_CHARS = 20


# The twin's own base URL (scheme, host, port) for the request being served, set by the WSGI
# app from the request, so the QR codes it hands out point back at this twin and can be
# fetched and scanned like WeCom's (whose qr_code is an image URL on its CDN).
REQUEST_BASE_URL: ContextVar[str] = ContextVar("twin_request_base_url", default="http://127.0.0.1")
QR_SCALE = 10  # pixels per module: a 33-module code comes out about 400 px, as WeCom's does
QR_BORDER = 4  # the quiet zone the QR standard asks for, in modules


def contact_way_qr_url(base_url: str, config_id: str) -> str:
    return f"{base_url.rstrip('/')}/twin/qr/{config_id}.png"


def contact_way_scan_url(base_url: str, config_id: str) -> str:
    """What a customer's camera reads from the code: the twin's page to add through it."""
    return f"{base_url.rstrip('/')}/twin/scan/{config_id}"


def contact_way_qr_png(base_url: str, config_id: str) -> bytes:
    """A real, scannable QR (PNG) that encodes the contact way's scan URL."""
    out = io.BytesIO()
    qr = segno.make(contact_way_scan_url(base_url, config_id), error="m", micro=False)
    qr.save(out, kind="png", scale=QR_SCALE, border=QR_BORDER)
    return out.getvalue()


@dataclass(frozen=True)
class Endpoint:
    method: str
    handler: Handler
    needs_token: bool = True
    # False: the handler gets {"content": raw bytes, "content_type": ...} (media uploads).
    json_body: bool = True


# --- access token ----------------------------------------------------------------------------


def gettoken(world: World, query: Query, body: Body) -> dict[str, Any]:
    world.gettoken_calls += 1
    world.count_call("gettoken")
    token, expires_in = world.issue_token(query.get("corpid", ""), query.get("corpsecret", ""))
    return {"access_token": token, "expires_in": expires_in}


# --- staff -----------------------------------------------------------------------------------


def user_list_id(world: World, query: Query, body: Body) -> dict[str, Any]:
    limit = int_param(body, "limit", 10000)
    if not 1 <= limit <= 10000:
        raise ApiError(INVALID_PARAMETER, "invalid limit")
    rows = [
        {"userid": s.userid, "department": d}
        for s in sorted(world.staff.values(), key=lambda s: s.userid)
        for d in s.department
    ]
    chunk, next_cursor = page(rows, body.get("cursor"), limit)
    return {"dept_user": chunk, "next_cursor": next_cursor}


def user_get(world: World, query: Query, body: Body) -> dict[str, Any]:
    staff = world.staff_member(query.get("userid", ""))
    # WECOM.md: status 1 activated, 5 left the corp (the twin's resigned staff stay listed, as the
    # unassigned-customer APIs still need them).
    return {"userid": staff.userid, "name": staff.name, "department": staff.department,
            "status": 1 if staff.active else 5}


def department_list(world: World, query: Query, body: Body) -> dict[str, Any]:
    if not query.get("id"):
        return {"department": list(world.departments.values())}
    root = int_param(query, "id", 0)
    if root not in world.departments:
        raise ApiError(DEPARTMENT_NOT_FOUND, "department not found")
    wanted, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        for dept in world.departments.values():
            if dept["parentid"] == parent and dept["id"] not in wanted:
                wanted.add(dept["id"])
                frontier.append(dept["id"])
    return {"department": [d for d in world.departments.values() if d["id"] in wanted]}


# --- contact ways (联系我, WECOM.md §3) --------------------------------------------------------


def _contact_way_members(
    world: World, way_type: int, users: Any, parties: Any
) -> tuple[list[str], list[int]]:
    users = list(users or [])
    parties = [int(p) for p in parties or []]
    if way_type == 1 and (len(users) != 1 or parties):
        raise ApiError(INVALID_PARAMETER, "type 1 contact way needs exactly one user")
    if way_type == 2 and not (users or parties):
        raise ApiError(INVALID_PARAMETER, "user or party required")
    if len(users) > MAX_CONTACT_WAY_MEMBERS:
        raise ApiError(INVALID_PARAMETER, "too many users")
    for userid in users:
        world.staff_member(userid)
    return users, parties


def _way_fields(body: Body) -> dict[str, Any]:
    """The optional fields add and update share, validated."""
    fields: dict[str, Any] = {}
    state = text_param(body, "state", MAX_STATE_CHARS, "invalid state")
    if state is not None:
        fields["state"] = state
    remark = text_param(body, "remark", MAX_CONTACT_WAY_REMARK_CHARS, "invalid remark")
    if remark is not None:
        fields["remark"] = remark
    for key in ("style", "expires_in", "chat_expires_in"):
        if body.get(key) is not None:
            fields[key] = int_param(body, key, 0)
    for key in ("skip_verify", "is_temp", "is_exclusive"):
        if body.get(key) is not None:
            fields[key] = bool(body[key])
    if body.get("unionid") is not None:
        fields["unionid"] = str(body["unionid"])
    if body.get("conclusions") is not None:
        fields["conclusions"] = body["conclusions"]
    return fields


def _contact_way(world: World, body: Body) -> ContactWay:
    way = world.contact_ways.get(required(body.get("config_id"), "config_id"))
    if way is None:
        raise ApiError(INVALID_PARAMETER, "invalid config_id")
    return way


def _contact_way_json(way: ContactWay) -> dict[str, Any]:
    data = {
        "config_id": way.config_id,
        "type": way.type,
        "scene": way.scene,
        "remark": way.remark,
        "skip_verify": way.skip_verify,
        "state": way.state,
        "user": way.user,
        "party": way.party,
        "is_temp": way.is_temp,
        "is_exclusive": way.is_exclusive,
    }
    if way.style is not None:
        data["style"] = way.style
    if way.qr_code:
        data["qr_code"] = way.qr_code
    for key in ("expires_in", "chat_expires_in", "conclusions"):
        if getattr(way, key) is not None:
            data[key] = getattr(way, key)
    if way.unionid:
        data["unionid"] = way.unionid
    return data


def add_contact_way(world: World, query: Query, body: Body) -> dict[str, Any]:
    way_type, scene = int_param(body, "type", 0), int_param(body, "scene", 0)
    if way_type not in (1, 2):
        raise ApiError(INVALID_PARAMETER, "invalid type")
    if scene not in (1, 2):
        raise ApiError(INVALID_PARAMETER, "invalid scene")
    fields = _way_fields(body)
    users, parties = _contact_way_members(world, way_type, body.get("user"), body.get("party"))
    config_id = world.new_id("", 32, "0123456789abcdef")
    # Scene 2 (QR): an image URL on the twin itself, serving a QR that a test or a phone can scan.
    qr_code = contact_way_qr_url(REQUEST_BASE_URL.get(), config_id) if scene == 2 else ""
    world.contact_ways[config_id] = ContactWay(
        config_id=config_id,
        type=way_type,
        scene=scene,
        created_at=world.clock.now(),
        qr_code=qr_code,
        user=users,
        party=parties,
        **fields,
    )
    return {"config_id": config_id, "qr_code": qr_code} if qr_code else {"config_id": config_id}


def get_contact_way(world: World, query: Query, body: Body) -> dict[str, Any]:
    return {"contact_way": _contact_way_json(_contact_way(world, body))}


def list_contact_way(world: World, query: Query, body: Body) -> dict[str, Any]:
    limit = int_param(body, "limit", 100)
    if not 1 <= limit <= 1000:
        raise ApiError(INVALID_PARAMETER, "invalid limit")
    start, end = body.get("start_time"), body.get("end_time")
    ways = [
        w
        for w in world.contact_ways.values()
        if (start is None or w.created_at >= int(start))
        and (end is None or w.created_at <= int(end))
    ]
    chunk, next_cursor = page(ways, body.get("cursor"), limit)
    return {"contact_way": [{"config_id": w.config_id} for w in chunk], "next_cursor": next_cursor}


def update_contact_way(world: World, query: Query, body: Body) -> dict[str, Any]:
    way = _contact_way(world, body)
    fields = _way_fields(body)
    if "user" in body or "party" in body:
        # WECOM.md §3: the given lists replace the old ones.
        way.user, way.party = _contact_way_members(
            world, way.type, body.get("user", way.user), body.get("party", way.party)
        )
        way.next_pick = 0
    for key, value in fields.items():
        setattr(way, key, value)
    return {}


def del_contact_way(world: World, query: Query, body: Body) -> dict[str, Any]:
    del world.contact_ways[_contact_way(world, body).config_id]
    return {}


def close_temp_chat(world: World, query: Query, body: Body) -> dict[str, Any]:
    """Ends the temporary chat a temporary contact way opened (WECOM.md §3)."""
    world.friendship(
        required(body.get("userid"), "userid"),
        required(body.get("external_userid"), "external_userid"),
    )
    return {}


# --- welcome message (WECOM.md §3) -----------------------------------------------------------


def message_content(world: World, body: Body) -> tuple[str, list[dict[str, Any]]]:
    """A message's text and attachments, checked as WeCom checks welcome and mass messages
    (WECOM.md §3, §5): text <= 4000 bytes, <= 9 attachments of the known kinds, not empty, and
    every `media_id` a live upload (40007 once its 3 days are over)."""
    text = (body.get("text") or {}).get("content", "")
    if not isinstance(text, str):
        raise ApiError(INVALID_PARAMETER, "invalid text")
    if len(text.encode("utf-8")) > MAX_WELCOME_TEXT_BYTES:
        raise ApiError(CONTENT_TOO_LONG, "text content over 4000 bytes")
    attachments = body.get("attachments") or []
    if not isinstance(attachments, list) or len(attachments) > MAX_ATTACHMENTS:
        raise ApiError(INVALID_PARAMETER, "more than 9 attachments")
    for item in attachments:
        kind = item.get("msgtype") if isinstance(item, dict) else None
        if kind not in ATTACHMENT_TYPES or not isinstance(item.get(kind), dict):
            raise ApiError(INVALID_PARAMETER, "invalid attachment")
        content = item[kind]
        if kind == "miniprogram":
            check_media(world, content.get("pic_media_id"), "image")
        elif kind in ("video", "file") or (kind == "image" and not content.get("pic_url")):
            check_media(world, content.get("media_id"), kind)
    if not text and not attachments:
        raise ApiError(INVALID_PARAMETER, "empty message")
    return text, attachments


def send_welcome_msg(world: World, query: Query, body: Body) -> dict[str, Any]:
    code = world.welcome_codes.get(required(body.get("welcome_code"), "welcome_code"))
    # WECOM.md §3: within the window of the event and once only; later callers get 41051.
    if code is None or code.used:
        raise ApiError(WELCOME_CODE_UNUSABLE, "welcome_code used or invalid")
    if world.clock.now() - code.issued_at > world.config.welcome_window_seconds:
        raise ApiError(WELCOME_CODE_UNUSABLE, "welcome_code expired")
    text, attachments = message_content(world, body)
    code.used = True
    world.deliver(
        ReceivedMessage(
            kind="welcome",
            userid=code.userid,
            external_userid=code.external_userid,
            text=text,
            attachments=attachments,
            received_at=world.clock.now(),
        )
    )
    return {}


# --- customers (WECOM.md §3) -----------------------------------------------------------------


def _customer_json(customer: Customer) -> dict[str, Any]:
    data = {
        "external_userid": customer.external_userid,
        "name": customer.name,
        "type": customer.type,
        "gender": customer.gender,
        "avatar": customer.avatar,
    }
    if customer.unionid:
        data["unionid"] = customer.unionid
    return data


def _follow_json(world: World, friendship: Friendship, tags_as_ids: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "userid": friendship.userid,
        "remark": friendship.remark,
        "description": friendship.description,
        "createtime": friendship.createtime,
        "remark_corp_name": friendship.remark_corp_name,
        "remark_mobiles": friendship.remark_mobiles,
        "add_way": friendship.add_way,
        "oper_userid": friendship.external_userid,
        "state": friendship.state,
    }
    if tags_as_ids:
        data["tag_id"] = list(friendship.tag_ids)
    else:
        groups = {t.id: g for g in world.tag_groups.values() for t in g.tags}
        tags = world.all_tags()
        data["tags"] = [
            {"group_name": groups[i].group_name, "tag_name": tags[i].name, "tag_id": i, "type": 1}
            for i in friendship.tag_ids
            if i in tags
        ]
    return data


def externalcontact_get(world: World, query: Query, body: Body) -> dict[str, Any]:
    customer = world.customers.get(query.get("external_userid", ""))
    follows = [
        f
        for f in world.friendships.values()
        if customer and f.external_userid == customer.external_userid
    ]
    if customer is None or not follows:
        raise ApiError(NOT_EXTERNAL_CONTACT, "not external contact")
    # WECOM.md §3: next_cursor past 500 followers.
    chunk, next_cursor = page(follows, query.get("cursor"), 500)
    return {
        "external_contact": _customer_json(customer),
        "follow_user": [_follow_json(world, f, tags_as_ids=False) for f in chunk],
        "next_cursor": next_cursor,
    }


def externalcontact_list(world: World, query: Query, body: Body) -> dict[str, Any]:
    staff = world.staff_member(query.get("userid", ""))
    return {"external_userid": [e for (u, e) in world.friendships if u == staff.userid]}


def batch_get_by_user(world: World, query: Query, body: Body) -> dict[str, Any]:
    userids = body.get("userid_list") or []
    if not userids or len(userids) > MAX_BATCH_USERS:
        raise ApiError(INVALID_PARAMETER, "userid_list must hold 1 to 100 userids")
    limit = int_param(body, "limit", 50)
    if not 1 <= limit <= MAX_BATCH_LIMIT:
        raise ApiError(INVALID_PARAMETER, "invalid limit")
    unlicensed = [userid for userid in userids if not world.staff_member(userid).licensed]
    follows = [f for f in world.friendships.values() if f.userid in userids and f.userid not in unlicensed]
    chunk, next_cursor = page(follows, body.get("cursor"), limit)
    return {
        "external_contact_list": [
            {
                "external_contact": _customer_json(world.customers[f.external_userid]),
                "follow_info": _follow_json(world, f, tags_as_ids=True),
            }
            for f in chunk
        ],
        "next_cursor": next_cursor,
        "fail_info": {"unlicensed_userid_list": unlicensed},
    }


def remark(world: World, query: Query, body: Body) -> dict[str, Any]:
    friendship = world.friendship(
        required(body.get("userid"), "userid"),
        required(body.get("external_userid"), "external_userid"),
    )
    new_remark = text_param(body, "remark", MAX_REMARK_CHARS)
    description = text_param(body, "description", MAX_DESCRIPTION_CHARS)
    company = text_param(body, "remark_company", MAX_REMARK_COMPANY_CHARS)
    mobiles = body.get("remark_mobiles")
    if mobiles is not None and (
        not isinstance(mobiles, list) or not all(isinstance(m, str) for m in mobiles)
    ):
        raise ApiError(INVALID_PARAMETER, "invalid remark_mobiles")
    if new_remark is not None:
        friendship.remark = new_remark
    if description is not None:
        friendship.description = description
    if company is not None:
        friendship.remark_corp_name = company
    if mobiles is not None:
        # WECOM.md §3: the list overwrites; [""] clears it.
        friendship.remark_mobiles = [m for m in mobiles if m]
    return {}


ENDPOINTS: dict[str, Endpoint] = {
    "gettoken": Endpoint("GET", gettoken, needs_token=False),
    "user/list_id": Endpoint("POST", user_list_id),
    "user/get": Endpoint("GET", user_get),
    "department/list": Endpoint("GET", department_list),
    "externalcontact/add_contact_way": Endpoint("POST", add_contact_way),
    "externalcontact/get_contact_way": Endpoint("POST", get_contact_way),
    "externalcontact/list_contact_way": Endpoint("POST", list_contact_way),
    "externalcontact/update_contact_way": Endpoint("POST", update_contact_way),
    "externalcontact/del_contact_way": Endpoint("POST", del_contact_way),
    "externalcontact/close_temp_chat": Endpoint("POST", close_temp_chat),
    "externalcontact/send_welcome_msg": Endpoint("POST", send_welcome_msg),
    "externalcontact/get": Endpoint("GET", externalcontact_get),
    "externalcontact/list": Endpoint("GET", externalcontact_list),
    "externalcontact/batch/get_by_user": Endpoint("POST", batch_get_by_user),
    "externalcontact/remark": Endpoint("POST", remark),
    "externalcontact/get_corp_tag_list": Endpoint("POST", tags.get_corp_tag_list),
    "externalcontact/add_corp_tag": Endpoint("POST", tags.add_corp_tag),
    "externalcontact/edit_corp_tag": Endpoint("POST", tags.edit_corp_tag),
    "externalcontact/del_corp_tag": Endpoint("POST", tags.del_corp_tag),
    "externalcontact/mark_tag": Endpoint("POST", tags.mark_tag),
}
