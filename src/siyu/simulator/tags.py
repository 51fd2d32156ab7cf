"""企业标签 — the twin's corp tag endpoints (WECOM.md §3). Marking a tag fires no callback (§0)."""

from __future__ import annotations

from typing import Any

from siyu.simulator.params import Body, Query, int_param, required, text_param
from siyu.simulator.world import (
    INVALID_PARAMETER,
    INVALID_TAG_ID,
    TAG_NAME_EXISTS,
    ApiError,
    Tag,
    TagGroup,
    World,
)

MAX_TAG_NAME_CHARS = 30
MAX_CORP_TAGS = 3000  # [sdk/?]
MAX_TAGS_PER_CUSTOMER = 3000


def _group_json(group: TagGroup, only: set[str] | None = None) -> dict[str, Any]:
    return {
        "group_id": group.group_id,
        "group_name": group.group_name,
        "create_time": group.create_time,
        "order": group.order,
        "deleted": False,
        "tag": [
            {
                "id": t.id,
                "name": t.name,
                "create_time": t.create_time,
                "order": t.order,
                "deleted": False,
            }
            for t in group.tags
            if only is None or t.id in only
        ],
    }


def get_corp_tag_list(world: World, query: Query, body: Body) -> dict[str, Any]:
    group_ids, tag_ids = body.get("group_id") or [], body.get("tag_id") or []
    if group_ids:  # WeCom ignores tag_id when group_id is given.
        return {
            "tag_group": [
                _group_json(g) for g in world.tag_groups.values() if g.group_id in group_ids
            ]
        }
    if tag_ids:
        wanted = set(tag_ids)
        return {
            "tag_group": [
                _group_json(g, wanted)
                for g in world.tag_groups.values()
                if any(t.id in wanted for t in g.tags)
            ]
        }
    return {"tag_group": [_group_json(g) for g in world.tag_groups.values()]}


def add_corp_tag(world: World, query: Query, body: Body) -> dict[str, Any]:
    new_tags = body.get("tag") or []
    if not new_tags or not all(isinstance(t, dict) and t.get("name") for t in new_tags):
        raise ApiError(INVALID_PARAMETER, "tag list missing")
    now = int(world.clock.now())
    group: TagGroup | None
    if body.get("group_id"):
        group = world.tag_groups.get(body["group_id"])
        if group is None:
            raise ApiError(INVALID_TAG_ID, "invalid group_id")
    else:
        name = required(
            text_param(body, "group_name", MAX_TAG_NAME_CHARS), "group_name or group_id"
        )
        # An existing group name adds to that group rather than making a second one.
        group = next((g for g in world.tag_groups.values() if g.group_name == name), None)
        if group is None:
            group = TagGroup(world.new_id("et", 20), name, now, int_param(body, "order", 0))
            world.tag_groups[group.group_id] = group
    if len(world.all_tags()) + len(new_tags) > MAX_CORP_TAGS:
        raise ApiError(INVALID_PARAMETER, "corp tag limit reached")
    existing: set[str | None] = {t.name for t in group.tags}
    added = []
    for item in new_tags:
        name = text_param(item, "name", MAX_TAG_NAME_CHARS, "invalid tag name")
        if name in existing:
            raise ApiError(TAG_NAME_EXISTS, f"tag name {name!r} exists")
        existing.add(name)
        added.append(Tag(world.new_id("et", 20), str(name), now, int_param(item, "order", 0)))
    group.tags.extend(added)
    return {"tag_group": _group_json(group, {t.id for t in added})}


def edit_corp_tag(world: World, query: Query, body: Body) -> dict[str, Any]:
    target_id = required(body.get("id"), "id")
    name = text_param(body, "name", MAX_TAG_NAME_CHARS, "invalid name")
    order = body.get("order")
    group = world.tag_groups.get(target_id)
    target: TagGroup | Tag | None = group or world.all_tags().get(target_id)
    if target is None:
        raise ApiError(INVALID_TAG_ID, "invalid tag id")
    if name is not None:
        if isinstance(target, Tag):
            owner = next(g for g in world.tag_groups.values() if target in g.tags)
            if any(t.name == name and t.id != target.id for t in owner.tags):
                raise ApiError(TAG_NAME_EXISTS, f"tag name {name!r} exists")
            target.name = name
        else:
            target.group_name = name
    if order is not None:
        target.order = int_param(body, "order", 0)
    return {}


def del_corp_tag(world: World, query: Query, body: Body) -> dict[str, Any]:
    tag_ids, group_ids = set(body.get("tag_id") or []), set(body.get("group_id") or [])
    if not tag_ids and not group_ids:
        raise ApiError(INVALID_PARAMETER, "tag_id or group_id missing")
    known = world.all_tags()
    if not tag_ids <= set(known) or not group_ids <= set(world.tag_groups):
        raise ApiError(INVALID_TAG_ID, "invalid tag id")
    for group_id in group_ids:
        tag_ids |= {t.id for t in world.tag_groups.pop(group_id).tags}
    for group in list(world.tag_groups.values()):
        group.tags = [t for t in group.tags if t.id not in tag_ids]
        if not group.tags:  # a group left without tags is deleted with them
            del world.tag_groups[group.group_id]
    for friendship in world.friendships.values():
        friendship.tag_ids = [t for t in friendship.tag_ids if t not in tag_ids]
    return {}


def mark_tag(world: World, query: Query, body: Body) -> dict[str, Any]:
    friendship = world.friendship(
        required(body.get("userid"), "userid"),
        required(body.get("external_userid"), "external_userid"),
    )
    add, remove = list(body.get("add_tag") or []), list(body.get("remove_tag") or [])
    if not add and not remove:
        raise ApiError(INVALID_PARAMETER, "add_tag or remove_tag missing")
    known = world.all_tags()
    if any(t not in known for t in add + remove):
        raise ApiError(INVALID_TAG_ID, "invalid tagid")
    tags = [t for t in friendship.tag_ids if t not in remove]
    tags += [t for t in add if t not in tags]
    if len(tags) > MAX_TAGS_PER_CUSTOMER:
        raise ApiError(INVALID_PARAMETER, "too many tags on this customer")
    friendship.tag_ids = tags
    return {}


# --- the admin console and the client (`/twin/tags/...`): these fire callbacks -----------------


def tag_event_xml(corp_id: str, create_time: int, change_type: str, tag_id: str, tag_type: str) -> bytes:
    """The inner XML of a `change_external_tag` event (WECOM.md §3): Id, TagType (tag |
    tag_group), ChangeType (create | update | delete | shuffle)."""
    from siyu.simulator.callbacks import _cdata

    parts = [
        f"<ToUserName>{_cdata(corp_id)}</ToUserName>",
        f"<FromUserName>{_cdata('sys')}</FromUserName>",
        f"<CreateTime>{create_time}</CreateTime>",
        f"<MsgType>{_cdata('event')}</MsgType>",
        f"<Event>{_cdata('change_external_tag')}</Event>",
        f"<Id>{_cdata(tag_id)}</Id>",
        f"<TagType>{_cdata(tag_type)}</TagType>",
        f"<ChangeType>{_cdata(change_type)}</ChangeType>",
    ]
    return ("<xml>" + "".join(parts) + "</xml>").encode("utf-8")


def _admin_call(handler: Any, world: World, body: Body) -> dict[str, Any]:
    from siyu.simulator.admin import AdminError

    try:
        return handler(world, {}, body)
    except ApiError as exc:
        raise AdminError(400, f"{exc.errcode} {exc.errmsg}") from exc


def client_add_tags(twin: Any, body: Body) -> tuple[int, dict[str, Any]]:
    """An admin adds tags (and perhaps their new group) in the WeCom admin console: one
    `create` callback for a new group, one per new tag."""
    world = twin.world
    with world.lock:
        groups_before = set(world.tag_groups)
        answer = _admin_call(add_corp_tag, world, body)["tag_group"]
        now = int(world.clock.now())
        events = []
        if answer["group_id"] not in groups_before:
            events.append(("change_external_tag/create",
                           tag_event_xml(world.config.corp_id, now, "create", answer["group_id"], "tag_group")))
        events += [("change_external_tag/create", tag_event_xml(world.config.corp_id, now, "create", t["id"], "tag"))
                   for t in answer["tag"]]
    return 201, {"tag_group": answer, "delivery_ids": twin.emit(events)}


def client_edit_tag(twin: Any, body: Body) -> tuple[int, dict[str, Any]]:
    """An admin renames or reorders a tag or a group in the admin console: an `update` callback."""
    world = twin.world
    with world.lock:
        _admin_call(edit_corp_tag, world, body)
        target = str(body["id"])
        kind = "tag_group" if target in world.tag_groups else "tag"
        xml = tag_event_xml(world.config.corp_id, int(world.clock.now()), "update", target, kind)
    return 200, {"delivery_ids": twin.emit([("change_external_tag/update", xml)])}


def client_delete_tags(twin: Any, body: Body) -> tuple[int, dict[str, Any]]:
    """An admin deletes tags or groups in the admin console: a `delete` callback for each."""
    world = twin.world
    with world.lock:
        _admin_call(del_corp_tag, world, body)
        now = int(world.clock.now())
        events = [("change_external_tag/delete", tag_event_xml(world.config.corp_id, now, "delete", str(i), "tag"))
                  for i in body.get("tag_id") or []]
        events += [("change_external_tag/delete",
                    tag_event_xml(world.config.corp_id, now, "delete", str(i), "tag_group"))
                   for i in body.get("group_id") or []]
    return 200, {"delivery_ids": twin.emit(events)}


def client_mark_tags(twin: Any, body: Body) -> tuple[int, dict[str, Any]]:
    """A staff member tags or untags a customer in the client: `edit_external_contact`."""
    from siyu.simulator.callbacks import contact_event_xml

    world = twin.world
    userid, external_userid = str(body.get("userid") or ""), str(body.get("external_userid") or "")
    with world.lock:
        _admin_call(mark_tag, world, body)
        xml = contact_event_xml(world.config.corp_id, int(world.clock.now()), "edit_external_contact",
                                userid, external_userid)
    return 200, {"delivery_ids": twin.emit([("change_external_contact/edit_external_contact", xml)])}


ADMIN_ROUTES: dict[tuple[str, str], Any] = {
    ("POST", "tags/client-add"): client_add_tags,
    ("POST", "tags/client-edit"): client_edit_tag,
    ("POST", "tags/client-delete"): client_delete_tags,
    ("POST", "tags/client-mark"): client_mark_tags,
}
