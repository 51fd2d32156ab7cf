"""客户群 and 群活码 — customer groups and their join ways in the twin (WECOM.md §4).

The rules kept: a group holds at most `group_max_members` (500); once it has
`group_qr_join_max_members` (200) members, scanning its QR code no longer lets anyone in — they
must be invited; a join way with `auto_create_room` opens a new group (`room_base_name` +
`room_base_id`, the id counting up) when all its groups are closed to QR joins.

`/cgi-bin/groupchat/*` changes fire no callback (WECOM.md §0); the staff and customer actions
under `/twin/groups` do, with `change_external_chat` XML built as WeCom builds it.
"""

from __future__ import annotations

import hashlib
import weakref
from dataclasses import dataclass, field
from typing import Any

from siyu.simulator.admin import AdminError, AdminHandler, Twin, need
from siyu.simulator.api import REQUEST_BASE_URL, Endpoint, contact_way_qr_png, contact_way_qr_url
from siyu.simulator.callbacks import chat_event_xml
from siyu.simulator.media import check_media
from siyu.simulator.params import Body, Query, int_param, page, required, text_param
from siyu.simulator.world import (
    INVALID_CHAT_ID,
    INVALID_PARAMETER,
    ApiError,
    Customer,
    World,
    derived_unionid,
)

MAX_JOIN_WAY_REMARK_CHARS = 30
MAX_JOIN_WAY_STATE_CHARS = 30
MAX_ROOM_BASE_NAME_CHARS = 40
MAX_JOIN_WAY_CHATS = 5
MAX_TRANSFER_CHATS = 100

MEMBER_STAFF, MEMBER_EXTERNAL = 1, 2
# groupchat/get join_scene: 1 invited directly, 2 by invite link, 3 by scanning the group QR.
JOINED_BY_INVITE, JOINED_BY_QR = 1, 3
# The event's JoinScene (WECOM.md §4): 0 invited or by link, 3 by QR; QuitScene 0 left, 1 removed.
EVENT_JOIN_INVITED, EVENT_JOIN_QR = 0, 3
EVENT_QUIT_LEFT, EVENT_QUIT_REMOVED = 0, 1
# groupchat/list status: 0 normal, 1 owner resigned, 2 being inherited, 3 inherited.
STATUS_NORMAL, STATUS_OWNER_RESIGNED, STATUS_INHERITED = 0, 1, 3


@dataclass
class GroupMember:
    userid: str  # a staff userid or an external_userid
    type: int  # 1 staff, 2 external
    join_time: int
    join_scene: int
    invitor: str = ""
    group_nickname: str = ""
    state: str = ""  # the join way's state, when joined through one


@dataclass
class Group:
    chat_id: str
    name: str
    owner: str
    create_time: int
    members: list[GroupMember] = field(default_factory=list)
    admin_list: list[str] = field(default_factory=list)
    notice: str = ""
    status: int = STATUS_NORMAL
    dismissed: bool = False

    def member_version(self) -> str:
        ids = "|".join(sorted(m.userid for m in self.members))
        return hashlib.md5(ids.encode("utf-8"), usedforsecurity=False).hexdigest()

    def member(self, userid: str) -> GroupMember | None:
        return next((m for m in self.members if m.userid == userid), None)


@dataclass
class JoinWay:
    config_id: str
    scene: int  # 1 mini-program, 2 QR code
    created_at: float
    chat_id_list: list[str]
    remark: str = ""
    auto_create_room: int = 1
    room_base_name: str = ""
    room_base_id: int = 1
    state: str = ""
    qr_code: str = ""


# --- rules -----------------------------------------------------------------------------------


def live_group(world: World, chat_id: str) -> Group:
    group = world.groups.get(chat_id)
    if group is None or group.dismissed:
        raise ApiError(INVALID_CHAT_ID, "invalid chatid")
    return group


def new_group(world: World, owner: str, name: str) -> Group:
    now = int(world.clock.now())
    group = Group(world.new_id("wr", 30), name, owner, now)
    group.members.append(GroupMember(owner, MEMBER_STAFF, now, JOINED_BY_INVITE))
    world.groups[group.chat_id] = group
    return group


def open_to_qr(world: World, group: Group) -> bool:
    """WECOM.md §4 [sdk]: past 200 members, joining by QR stops working."""
    return not group.dismissed and len(group.members) < world.config.group_qr_join_max_members


def group_for_qr_join(world: World, way: JoinWay) -> tuple[Group, Group | None]:
    """The group a scan of `way` lands in, and the group made for it (None if none was made)."""
    for chat_id in way.chat_id_list:
        group = world.groups.get(chat_id)
        if group is not None and open_to_qr(world, group):
            return group, None
    if not way.auto_create_room:
        raise AdminError(409, "every group of this join way is closed to QR joins")
    template = world.groups[way.chat_id_list[-1]]
    made = new_group(
        world, template.owner, f"{way.room_base_name or template.name}{way.room_base_id}"
    )
    way.room_base_id += 1
    # The new group serves the same code from now on; the list holds at most 5 groups, so the
    # oldest (closed to QR joins, as every group of the list is here) makes room.
    way.chat_id_list = [*way.chat_id_list, made.chat_id][-MAX_JOIN_WAY_CHATS:]
    return made, made


# --- /cgi-bin/groupchat ----------------------------------------------------------------------


def groupchat_list(world: World, query: Query, body: Body) -> dict[str, Any]:
    limit = int_param(body, "limit", 0)
    if not 1 <= limit <= 1000:
        raise ApiError(INVALID_PARAMETER, "invalid limit")
    status_filter = int_param(body, "status_filter", 0)
    owners = set((body.get("owner_filter") or {}).get("userid_list") or [])
    groups = [
        g
        for g in world.groups.values()
        if not g.dismissed
        and (status_filter == 0 or g.status == status_filter)
        and (not owners or g.owner in owners)
    ]
    chunk, next_cursor = page(groups, body.get("cursor"), limit)
    return {
        "group_chat_list": [{"chat_id": g.chat_id, "status": g.status} for g in chunk],
        "next_cursor": next_cursor,
    }


def _member_json(world: World, member: GroupMember, need_name: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "userid": member.userid,
        "type": member.type,
        "join_time": member.join_time,
        "join_scene": member.join_scene,
        "group_nickname": member.group_nickname,
    }
    if member.invitor:
        data["invitor"] = {"userid": member.invitor}
    if member.state:
        data["state"] = member.state
    customer = world.customers.get(member.userid) if member.type == MEMBER_EXTERNAL else None
    if customer is not None and customer.unionid:
        data["unionid"] = customer.unionid
    if need_name:
        staff = world.staff.get(member.userid)
        data["name"] = customer.name if customer else (staff.name if staff else "")
    return data


def groupchat_get(world: World, query: Query, body: Body) -> dict[str, Any]:
    group = live_group(world, required(body.get("chat_id"), "chat_id"))
    need_name = int_param(body, "need_name", 0) == 1
    return {
        "group_chat": {
            "chat_id": group.chat_id,
            "name": group.name,
            "owner": group.owner,
            "create_time": group.create_time,
            "notice": group.notice,
            "member_list": [_member_json(world, m, need_name) for m in group.members],
            "admin_list": [{"userid": u} for u in group.admin_list],
            "member_version": group.member_version(),
        }
    }


def _join_way_fields(world: World, body: Body, adding: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if adding or "scene" in body:
        scene = int_param(body, "scene", 0)
        if scene not in (1, 2):
            raise ApiError(INVALID_PARAMETER, "invalid scene")
        fields["scene"] = scene
    for key, limit in (
        ("remark", MAX_JOIN_WAY_REMARK_CHARS),
        ("state", MAX_JOIN_WAY_STATE_CHARS),
        ("room_base_name", MAX_ROOM_BASE_NAME_CHARS),
    ):
        value = text_param(body, key, limit)
        if value is not None:
            fields[key] = value
    if body.get("auto_create_room") is not None:
        fields["auto_create_room"] = int_param(body, "auto_create_room", 1)
        if fields["auto_create_room"] not in (0, 1):
            raise ApiError(INVALID_PARAMETER, "invalid auto_create_room")
    if body.get("room_base_id") is not None:
        fields["room_base_id"] = int_param(body, "room_base_id", 1)
    if adding or "chat_id_list" in body:
        chats = body.get("chat_id_list") or []
        if not isinstance(chats, list) or not 1 <= len(chats) <= MAX_JOIN_WAY_CHATS:
            raise ApiError(INVALID_PARAMETER, "chat_id_list must hold 1 to 5 chat ids")
        for chat_id in chats:
            live_group(world, chat_id)
        fields["chat_id_list"] = list(chats)
    return fields


def join_way_qr_url(config_id: str) -> str:
    """The join way's QR image, served by the twin like a contact way's (`/twin/qr/<id>.png`)."""
    return contact_way_qr_url(REQUEST_BASE_URL.get(), config_id)


def join_way_qr_png(world: World, base_url: str, config_id: str) -> bytes | None:
    """A real, scannable QR (PNG) of a QR join way, or None when there is no such join way.
    Call with `world.lock` held."""
    way = world.join_ways.get(config_id)
    if way is None or not way.qr_code:
        return None
    return contact_way_qr_png(base_url, config_id)


def _join_way(world: World, body: Body) -> JoinWay:
    way = world.join_ways.get(required(body.get("config_id"), "config_id"))
    if way is None:
        raise ApiError(INVALID_PARAMETER, "invalid config_id")
    return way


def add_join_way(world: World, query: Query, body: Body) -> dict[str, Any]:
    fields = _join_way_fields(world, body, adding=True)
    config_id = world.new_id("", 32, "0123456789abcdef")
    way = JoinWay(config_id=config_id, created_at=world.clock.now(), **fields)
    if way.scene == 2:
        way.qr_code = join_way_qr_url(config_id)
    world.join_ways[config_id] = way
    return {"config_id": config_id}


def get_join_way(world: World, query: Query, body: Body) -> dict[str, Any]:
    way = _join_way(world, body)
    data = {
        "config_id": way.config_id,
        "scene": way.scene,
        "remark": way.remark,
        "auto_create_room": way.auto_create_room,
        "room_base_name": way.room_base_name,
        "room_base_id": way.room_base_id,
        "chat_id_list": list(way.chat_id_list),
        "state": way.state,
    }
    if way.qr_code:
        data["qr_code"] = way.qr_code
    return {"join_way": data}


def update_join_way(world: World, query: Query, body: Body) -> dict[str, Any]:
    way = _join_way(world, body)
    for key, value in _join_way_fields(world, body, adding=False).items():
        setattr(way, key, value)
    if way.scene == 2 and not way.qr_code:
        way.qr_code = join_way_qr_url(way.config_id)
    return {}


def del_join_way(world: World, query: Query, body: Body) -> dict[str, Any]:
    del world.join_ways[_join_way(world, body).config_id]
    return {}


def _give_groups(world: World, body: Body, resigned: bool) -> dict[str, Any]:
    chat_ids = body.get("chat_id_list") or []
    if not isinstance(chat_ids, list) or not 1 <= len(chat_ids) <= MAX_TRANSFER_CHATS:
        raise ApiError(INVALID_PARAMETER, "chat_id_list must hold 1 to 100 chat ids")
    new_owner = world.active_staff(required(body.get("new_owner"), "new_owner")).userid
    failed = []
    for chat_id in chat_ids:
        group = world.groups.get(chat_id)
        owner = world.staff.get(group.owner) if group else None
        if group is None or group.dismissed:
            failed.append(
                {"chat_id": chat_id, "errcode": INVALID_CHAT_ID, "errmsg": "invalid chatid"}
            )
            continue
        if resigned != (owner is not None and not owner.active):
            why = "the owner has not resigned" if resigned else "the owner has resigned"
            failed.append({"chat_id": chat_id, "errcode": INVALID_PARAMETER, "errmsg": why})
            continue
        if group.member(new_owner) is None:
            now = int(world.clock.now())
            group.members.append(GroupMember(new_owner, MEMBER_STAFF, now, JOINED_BY_INVITE))
        group.owner = new_owner
        if resigned:
            group.status = STATUS_INHERITED
    return {"failed_chat_list": failed}


def onjob_transfer(world: World, query: Query, body: Body) -> dict[str, Any]:
    """On-job group transfer (WECOM.md §8): the owner must still work at the corp."""
    return _give_groups(world, body, resigned=False)


def resigned_transfer(world: World, query: Query, body: Body) -> dict[str, Any]:
    """`groupchat/transfer` (WECOM.md §8): groups of a resigned owner to a new owner."""
    return _give_groups(world, body, resigned=True)


# --- groupchat/statistic: what the population says in its groups -----------------------------

DAY_SECONDS = 86400
CHINA_OFFSET = 8 * 3600  # WeCom's statistics count days in China time
STAT_MAX_SPAN_DAYS = 30  # [sdk] day_end_time - day_begin_time is at most 30 days
STAT_MAX_AGE_DAYS = 180  # [sdk] data of the last 180 days only
STAT_MAX_LIMIT = 1000
HALF_LIFE_DAYS = 14  # a group's chatter halves every two weeks without a newcomer


def _unit(*parts: object) -> float:
    digest = hashlib.md5("|".join(map(str, parts)).encode(), usedforsecurity=False).digest()
    return int.from_bytes(digest[:4], "big") / 2**32


def day_activity(group: Group, day_start: int) -> tuple[int, int, int]:
    """(members at the day's end, members who spoke, messages) of one group on one day: a
    deterministic model of the population's chatter. Each group has its own liveliness; newcomers
    liven a group up and it quietens as the last join ages."""
    end = day_start + DAY_SECONDS
    present = [m for m in group.members if m.join_time < end]
    if group.create_time >= end or not present:
        return 0, 0, 0
    last_join = max(m.join_time for m in present)
    idle_days = max(0, (end - last_join) // DAY_SECONDS)
    rate = (0.03 + 0.25 * _unit("rate", group.chat_id)) * 0.5 ** (idle_days / HALF_LIFE_DAYS)
    speakers = min(len(present), int(len(present) * rate * (0.6 + 0.8 * _unit(group.chat_id, day_start))))
    messages = sum(1 + int(6 * _unit(group.chat_id, day_start, n)) for n in range(speakers))
    return len(present), speakers, messages


def _stat_window(world: World, body: Body) -> tuple[int, int]:
    begin = int_param(body, "day_begin_time", 0)
    end = int_param(body, "day_end_time", begin) or begin
    now = int(world.clock.now())
    if begin <= 0 or end < begin or (end - begin) // DAY_SECONDS >= STAT_MAX_SPAN_DAYS:
        raise ApiError(INVALID_PARAMETER, "invalid day_begin_time or day_end_time")
    if begin < now - STAT_MAX_AGE_DAYS * DAY_SECONDS:
        raise ApiError(INVALID_PARAMETER, "day_begin_time is older than 180 days")
    # Whole days in China time, from the day holding `begin` to the day holding `end`.
    first = (begin + CHINA_OFFSET) // DAY_SECONDS * DAY_SECONDS - CHINA_OFFSET
    return first, end


def _owners_filter(body: Body) -> set[str]:
    owners = (body.get("owner_filter") or {}).get("userid_list") or []
    if not isinstance(owners, list) or not owners or len(owners) > 100:
        raise ApiError(INVALID_PARAMETER, "owner_filter.userid_list must hold 1 to 100 userids")
    return {str(o) for o in owners}


def _stat_data(world: World, owners: set[str], days: list[int]) -> dict[str, int]:
    data = dict.fromkeys(("new_chat_cnt", "chat_total", "chat_has_msg", "new_member_cnt", "member_total",
                          "member_has_msg", "msg_total", "migrate_trainee_chat_cnt"), 0)
    for group in world.groups.values():
        if group.owner not in owners:
            continue
        for day in days:
            members, speakers, messages = day_activity(group, day)
            if not members:
                continue
            data["new_chat_cnt"] += day <= group.create_time < day + DAY_SECONDS
            data["chat_total"] += 1
            data["chat_has_msg"] += messages > 0
            data["new_member_cnt"] += sum(1 for m in group.members if day <= m.join_time < day + DAY_SECONDS)
            data["member_total"] += members
            data["member_has_msg"] += speakers
            data["msg_total"] += messages
    return data


def _days(first: int, end: int, now: int) -> list[int]:
    """Days of the window that are over: WeCom reports a day once it has ended."""
    return [d for d in range(first, end + 1, DAY_SECONDS) if d + DAY_SECONDS <= now]


def groupchat_statistic(world: World, query: Query, body: Body) -> dict[str, Any]:
    """`groupchat/statistic` — the window's figures by owner (群主), ordered and paged."""
    first, end = _stat_window(world, body)
    owners = _owners_filter(body)
    order_by = int_param(body, "order_by", 1)
    keys = ("new_chat_cnt", "chat_total", "chat_has_msg", "new_member_cnt", "member_total", "member_has_msg",
            "msg_total")
    if not 1 <= order_by <= len(keys):
        raise ApiError(INVALID_PARAMETER, "invalid order_by")
    offset, limit = int_param(body, "offset", 0), int_param(body, "limit", 500)
    if offset < 0 or not 1 <= limit <= STAT_MAX_LIMIT:
        raise ApiError(INVALID_PARAMETER, "invalid offset or limit")
    days = _days(first, end, int(world.clock.now()))
    rows = [(o, _stat_data(world, {o}, days)) for o in sorted(owners)]
    rows.sort(key=lambda row: row[1][keys[order_by - 1]], reverse=not int_param(body, "order_asc", 0))
    chunk = [{"owner": o, "data": data} for o, data in rows[offset:offset + limit]]
    items = rows
    return {"total": len(items), "next_offset": offset + len(chunk), "items": chunk}


def groupchat_statistic_by_day(world: World, query: Query, body: Body) -> dict[str, Any]:
    """`groupchat/statistic_group_by_day` — the owners' figures summed, one item per day."""
    first, end = _stat_window(world, body)
    owners = _owners_filter(body)
    return {"items": [{"stat_time": day, "data": _stat_data(world, owners, [day])}
                      for day in _days(first, end, int(world.clock.now()))]}


# --- group_welcome_template: 入群欢迎语素材 (WECOM.md §10) -------------------------------------

MAX_WELCOME_TEXT_BYTES = 4000
WELCOME_ATTACHMENTS = ("image", "link", "miniprogram", "file", "video")  # WeCom's order of priority


@dataclass
class GroupWelcomeTemplate:
    template_id: str
    text: str
    attachment: tuple[str, dict[str, str]] | None  # (kind, its fields): WeCom keeps one
    notified: int  # how many times the group owners were told of a change (notify = 1)


_WELCOME_TEMPLATES: weakref.WeakKeyDictionary[World, dict[str, GroupWelcomeTemplate]] = (
    weakref.WeakKeyDictionary()
)


def welcome_templates(world: World) -> dict[str, GroupWelcomeTemplate]:
    """The world's group welcome templates (call with `world.lock` held)."""
    return _WELCOME_TEMPLATES.setdefault(world, {})


def _welcome_fields(world: World, body: Body) -> tuple[str, tuple[str, dict[str, str]] | None]:
    """Text and the one attachment WeCom keeps: with several kinds given, the first of
    image, link, miniprogram, file, video wins, as WeCom documents."""
    text = body.get("text") or {}
    content = str(text.get("content") or "") if isinstance(text, dict) else ""
    if len(content.encode("utf-8")) > MAX_WELCOME_TEXT_BYTES:
        raise ApiError(INVALID_PARAMETER, "text.content is longer than 4000 bytes")
    attachment = None
    for kind in WELCOME_ATTACHMENTS:
        value = body.get(kind)
        if not isinstance(value, dict) or not value:
            continue
        fields = {str(k): str(v) for k, v in value.items()}
        if kind == "image":
            if fields.get("media_id"):
                check_media(world, fields["media_id"], "image")
            elif not fields.get("pic_url"):
                raise ApiError(INVALID_PARAMETER, "image needs media_id or pic_url")
        elif kind == "link" and not (fields.get("title") and fields.get("url")):
            raise ApiError(INVALID_PARAMETER, "link needs title and url")
        elif kind == "miniprogram":
            if not all(fields.get(k) for k in ("title", "pic_media_id", "appid", "page")):
                raise ApiError(INVALID_PARAMETER, "miniprogram needs title, pic_media_id, appid and page")
            check_media(world, fields["pic_media_id"], "image")
        elif kind in ("file", "video"):
            check_media(world, fields.get("media_id"), kind)
        attachment = (kind, fields)
        break
    if not content and attachment is None:
        raise ApiError(INVALID_PARAMETER, "a group welcome needs text or an attachment")
    return content, attachment


def _notify(body: Body) -> int:
    notify = int_param(body, "notify", 1)
    if notify not in (0, 1):
        raise ApiError(INVALID_PARAMETER, "invalid notify")
    return notify


def _welcome_template(world: World, body: Body) -> GroupWelcomeTemplate:
    template = welcome_templates(world).get(str(required(body.get("template_id"), "template_id")))
    if template is None:
        raise ApiError(INVALID_PARAMETER, "invalid template_id")
    return template


def add_group_welcome(world: World, query: Query, body: Body) -> dict[str, Any]:
    content, attachment = _welcome_fields(world, body)
    template_id = world.new_id("msg", 24)
    welcome_templates(world)[template_id] = GroupWelcomeTemplate(template_id, content, attachment, _notify(body))
    return {"template_id": template_id}


def edit_group_welcome(world: World, query: Query, body: Body) -> dict[str, Any]:
    template = _welcome_template(world, body)
    template.text, template.attachment = _welcome_fields(world, body)
    template.notified += _notify(body)
    return {}


def get_group_welcome(world: World, query: Query, body: Body) -> dict[str, Any]:
    template = _welcome_template(world, body)
    data: dict[str, Any] = {"text": {"content": template.text}}
    if template.attachment is not None:
        kind, fields = template.attachment
        data[kind] = dict(fields)
    return data


def del_group_welcome(world: World, query: Query, body: Body) -> dict[str, Any]:
    del welcome_templates(world)[_welcome_template(world, body).template_id]
    return {}


ENDPOINTS: dict[str, Endpoint] = {
    "externalcontact/groupchat/list": Endpoint("POST", groupchat_list),
    "externalcontact/groupchat/get": Endpoint("POST", groupchat_get),
    "externalcontact/groupchat/statistic": Endpoint("POST", groupchat_statistic),
    "externalcontact/groupchat/statistic_group_by_day": Endpoint("POST", groupchat_statistic_by_day),
    "externalcontact/groupchat/add_join_way": Endpoint("POST", add_join_way),
    "externalcontact/groupchat/get_join_way": Endpoint("POST", get_join_way),
    "externalcontact/groupchat/update_join_way": Endpoint("POST", update_join_way),
    "externalcontact/groupchat/del_join_way": Endpoint("POST", del_join_way),
    "externalcontact/groupchat/onjob_transfer": Endpoint("POST", onjob_transfer),
    "externalcontact/groupchat/transfer": Endpoint("POST", resigned_transfer),
    "externalcontact/group_welcome_template/add": Endpoint("POST", add_group_welcome),
    "externalcontact/group_welcome_template/edit": Endpoint("POST", edit_group_welcome),
    "externalcontact/group_welcome_template/get": Endpoint("POST", get_group_welcome),
    "externalcontact/group_welcome_template/del": Endpoint("POST", del_group_welcome),
}


# --- /twin/groups: staff and customers acting in their WeCom clients -------------------------


def _admin_group(world: World, chat_id: str) -> Group:
    group = world.groups.get(chat_id)
    if group is None or group.dismissed:
        raise AdminError(404, "no such group")
    return group


def _update_xml(world: World, group: Group, **detail: Any) -> bytes:
    return chat_event_xml(
        world.config.corp_id, int(world.clock.now()), group.chat_id, "update", **detail
    )


def create_group(twin: Twin, body: Body) -> tuple[int, dict[str, Any]]:
    """A staff member creates a group in their client, with optional first members."""
    world = twin.world
    with world.lock:
        owner = world.staff.get(str(need(body, "owner")))
        if owner is None or not owner.active:
            raise AdminError(404, "no such staff")
        members = [str(m) for m in body.get("members") or []]
        unknown = [m for m in members if m not in world.staff and m not in world.customers]
        if unknown:
            raise AdminError(404, f"unknown members: {unknown}")
        guests = int(body.get("guests") or 0)
        if not 0 <= guests <= world.config.group_max_members:
            raise AdminError(400, "guests is 0 to 500")
        if len(set(members) | {owner.userid}) + guests > world.config.group_max_members:
            raise AdminError(409, "a group holds at most 500 members")
        group = new_group(world, owner.userid, str(body.get("name") or ""))
        # Demo seeding: `age_days` backdates the group, its first members joining at creation
        # and `guests` (new WeChat users, friends of nobody, as people who scan a group QR
        # passed on by a member are) joining evenly over its first `growth_days` (all its age).
        age = max(0, int(float(body.get("age_days") or 0) * 86400))
        growth = min(age, max(0, int(float(body.get("growth_days") or 0) * 86400)) or age)
        group.create_time -= age
        group.members[0].join_time = group.create_time
        for userid in dict.fromkeys(members):
            if group.member(userid) is None:
                kind = MEMBER_STAFF if userid in world.staff else MEMBER_EXTERNAL
                group.members.append(
                    GroupMember(userid, kind, group.create_time, JOINED_BY_INVITE, owner.userid)
                )
        for n in range(guests):
            external_userid = world.new_id("wm", 30)
            world.customers[external_userid] = Customer(
                external_userid, f"群友{n + 1}", unionid=derived_unionid(external_userid)
            )
            joined = group.create_time + (growth * (n + 1)) // (guests + 1)
            group.members.append(GroupMember(external_userid, MEMBER_EXTERNAL, joined, JOINED_BY_QR))
        xml = chat_event_xml(world.config.corp_id, group.create_time, group.chat_id, "create")
    [delivery] = twin.emit([("change_external_chat/create", xml)])
    return 201, {"chat_id": group.chat_id, "delivery_id": delivery, "member_count": len(group.members)}


def join_group(twin: Twin, body: Body) -> tuple[int, dict[str, Any]]:
    """A customer joins a group: by scanning a join way's (or the group's) QR code, or invited
    by a member. WeCom's size rules decide whether the join works."""
    world = twin.world
    scene = str(body.get("scene") or "qr")
    if scene not in ("qr", "invite"):
        raise AdminError(400, "scene is qr or invite")
    events: list[tuple[str, bytes]] = []
    with world.lock:
        external_userid = str(need(body, "external_userid"))
        if external_userid not in world.customers:
            raise AdminError(404, "no such customer")
        state = ""
        made: Group | None = None
        if body.get("config_id"):
            way = world.join_ways.get(str(body["config_id"]))
            if way is None:
                raise AdminError(404, "no such join way")
            if scene != "qr":
                raise AdminError(400, "a join way is scanned, not an invitation")
            group, made = group_for_qr_join(world, way)
            if made is not None:
                events.append(
                    (
                        "change_external_chat/create",
                        chat_event_xml(
                            world.config.corp_id, made.create_time, made.chat_id, "create"
                        ),
                    )
                )
            state = way.state
        else:
            group = _admin_group(world, str(need(body, "chat_id")))
        if group.member(external_userid) is not None:
            raise AdminError(409, "already a member")
        if len(group.members) >= world.config.group_max_members:
            raise AdminError(409, f"the group is full ({world.config.group_max_members})")
        invitor = ""
        if scene == "qr" and not open_to_qr(world, group):
            raise AdminError(
                409,
                f"groups of {world.config.group_qr_join_max_members} or more members take"
                " invitations only",
            )
        if scene == "invite":
            invitor = str(body.get("invitor") or group.owner)
            if group.member(invitor) is None:
                raise AdminError(400, "the invitor is not a member of the group")
        last = group.member_version()
        group.members.append(
            GroupMember(
                external_userid,
                MEMBER_EXTERNAL,
                int(world.clock.now()),
                JOINED_BY_QR if scene == "qr" else JOINED_BY_INVITE,
                invitor,
                state=state,
            )
        )
        events.append(
            (
                "change_external_chat/update",
                _update_xml(
                    world,
                    group,
                    update_detail="add_member",
                    join_scene=EVENT_JOIN_QR if scene == "qr" else EVENT_JOIN_INVITED,
                    members=[external_userid],
                    last_version=last,
                    current_version=group.member_version(),
                ),
            )
        )
        result = {"chat_id": group.chat_id, "member_count": len(group.members), "state": state,
                  "created": made is not None}
    return 200, result | {"delivery_ids": twin.emit(events)}


MAX_SCANS_PER_CALL = 500


def scan_join_way(twin: Twin, body: Body) -> tuple[int, dict[str, Any]]:
    """`count` new WeChat users (friends of nobody, as people who scan a poster are) scan a join
    way's QR one after another: each lands in the group WeCom's rules pick (join scene 3, the
    way's `state` on the member), with the callbacks WeCom sends. A scan WeCom turns down (every
    group closed to QR joins, auto_create_room off) ends the run; `refused` says so."""
    world = twin.world
    count = int(body.get("count") or 1)
    if not 1 <= count <= MAX_SCANS_PER_CALL:
        raise AdminError(400, f"count is 1 to {MAX_SCANS_PER_CALL}")
    prefix = str(body.get("name") or "扫码用户")
    joined: list[dict[str, Any]] = []
    refused = ""
    for n in range(count):
        with world.lock:
            external_userid = world.new_id("wm", 30)
            world.customers[external_userid] = Customer(
                external_userid, f"{prefix}{len(world.customers)}", unionid=derived_unionid(external_userid)
            )
        try:
            _status, outcome = join_group(
                twin, {"config_id": need(body, "config_id"), "external_userid": external_userid, "scene": "qr"}
            )
        except AdminError as exc:
            if n == 0 and exc.status == 404:
                raise
            refused = exc.message
            break
        joined.append({"external_userid": external_userid} | outcome)
    return 200, {"joined": joined, "refused": refused}


def leave_group(twin: Twin, body: Body) -> tuple[int, dict[str, Any]]:
    """A member leaves (`scene` "left") or is removed by the owner or an admin ("removed")."""
    world = twin.world
    scene = str(body.get("scene") or "left")
    if scene not in ("left", "removed"):
        raise AdminError(400, "scene is left or removed")
    with world.lock:
        group = _admin_group(world, str(need(body, "chat_id")))
        userid = str(body.get("external_userid") or need(body, "userid"))
        member = group.member(userid)
        if member is None:
            raise AdminError(404, "not a member")
        if userid == group.owner:
            raise AdminError(409, "the owner cannot leave; dismiss the group instead")
        last = group.member_version()
        group.members.remove(member)
        xml = _update_xml(
            world,
            group,
            update_detail="del_member",
            quit_scene=EVENT_QUIT_LEFT if scene == "left" else EVENT_QUIT_REMOVED,
            members=[userid],
            last_version=last,
            current_version=group.member_version(),
        )
    [delivery] = twin.emit([("change_external_chat/update", xml)])
    return 200, {"member_count": len(group.members), "delivery_id": delivery}


def dismiss_group(twin: Twin, body: Body) -> tuple[int, dict[str, Any]]:
    world = twin.world
    with world.lock:
        group = _admin_group(world, str(need(body, "chat_id")))
        group.dismissed = True
        xml = chat_event_xml(world.config.corp_id, int(world.clock.now()), group.chat_id, "dismiss")
    [delivery] = twin.emit([("change_external_chat/dismiss", xml)])
    return 200, {"delivery_id": delivery}


def edit_group(twin: Twin, body: Body) -> tuple[int, dict[str, Any]]:
    """The owner renames the group, changes its notice (群公告) or hands it to another member in
    the client; each change is its own update callback (change_name, change_notice, change_owner).
    The same changes made through the API fire nothing (WECOM.md §0)."""
    world = twin.world
    events: list[tuple[str, bytes]] = []
    with world.lock:
        group = _admin_group(world, str(need(body, "chat_id")))
        if body.get("name") is not None and str(body["name"]) != group.name:
            group.name = str(body["name"])
            events.append(("change_external_chat/update", _update_xml(world, group, update_detail="change_name")))
        if body.get("notice") is not None and str(body["notice"]) != group.notice:
            group.notice = str(body["notice"])
            events.append(("change_external_chat/update", _update_xml(world, group, update_detail="change_notice")))
        if body.get("owner") is not None and str(body["owner"]) != group.owner:
            owner = world.staff.get(str(body["owner"]))
            if owner is None or not owner.active:
                raise AdminError(404, "no such staff")
            group.owner = owner.userid
            events.append(("change_external_chat/update", _update_xml(world, group, update_detail="change_owner")))
    return 200, {"delivery_ids": twin.emit(events)}


ADMIN_ROUTES: dict[tuple[str, str], AdminHandler] = {
    ("POST", "groups"): create_group,
    ("POST", "groups/edit"): edit_group,
    ("POST", "groups/join"): join_group,
    ("POST", "groups/scan"): scan_join_way,
    ("POST", "groups/leave"): leave_group,
    ("POST", "groups/dismiss"): dismiss_group,
}
