"""获客助手 — customer acquisition links in the twin (WECOM.md §7).

A customer who opens a link's URL with `customer_channel=XXX` (<= 64 bytes) and adds one of its
staff comes back in the add event with `State=XXX`; the twin's `POST /twin/customers/add`
takes `link_id` and `customer_channel` to play that customer.

Besides `create_link` the twin answers `list_link`, `get`, `update_link` and `delete_link` as
WeCom does: `update_link`'s `range` replaces the old one, and an unknown `link_id` is an
invalid parameter (40058 [?]).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from siyu.simulator.api import Endpoint
from siyu.simulator.params import Body, Query, int_param, page, required, text_param
from siyu.simulator.world import INVALID_PARAMETER, ApiError, World

MAX_LINK_NAME_CHARS = 30
MAX_CUSTOMER_CHANNEL_BYTES = 64
MAX_LIST_LIMIT = 100


@dataclass
class AcquisitionLink:
    link_id: str
    link_name: str
    url: str
    create_time: int
    user_list: list[str] = field(default_factory=list)
    department_list: list[int] = field(default_factory=list)
    skip_verify: bool = True
    priority_option: dict[str, Any] | None = None
    next_pick: int = 0  # round-robin among the link's staff, as for contact ways


def _range(world: World, body: Body) -> tuple[list[str], list[int]]:
    scope = body.get("range") or {}
    if not isinstance(scope, dict):
        raise ApiError(INVALID_PARAMETER, "invalid range")
    users = [str(u) for u in scope.get("user_list") or []]
    try:
        departments = [int(d) for d in scope.get("department_list") or []]
    except (TypeError, ValueError):
        raise ApiError(INVALID_PARAMETER, "invalid department_list") from None
    if not users and not departments:
        raise ApiError(INVALID_PARAMETER, "range needs user_list or department_list")
    for userid in users:
        world.active_staff(userid)
    return users, departments


def _link(world: World, body: Body) -> AcquisitionLink:
    link = world.links.get(str(required(body.get("link_id"), "link_id")))
    if link is None:
        raise ApiError(INVALID_PARAMETER, "invalid link_id")
    return link


def create_link(world: World, query: Query, body: Body) -> dict[str, Any]:
    name = required(text_param(body, "link_name", MAX_LINK_NAME_CHARS), "link_name")
    users, departments = _range(world, body)
    link_id = world.new_id("cawcde", 16, "0123456789abcdef")
    link = AcquisitionLink(
        link_id=link_id,
        link_name=name,
        url=f"https://work.weixin.qq.com/ca/{link_id}",
        create_time=int(world.clock.now()),
        user_list=users,
        department_list=departments,
        skip_verify=bool(body.get("skip_verify", True)),
        priority_option=body.get("priority_option"),
    )
    world.links[link_id] = link
    return {
        "link": {
            "link_id": link.link_id,
            "link_name": link.link_name,
            "url": link.url,
            "create_time": link.create_time,
        }
    }


def list_link(world: World, query: Query, body: Body) -> dict[str, Any]:
    limit = int_param(body, "limit", MAX_LIST_LIMIT)
    if not 1 <= limit <= MAX_LIST_LIMIT:
        raise ApiError(INVALID_PARAMETER, "invalid limit")
    chunk, next_cursor = page(list(world.links.values()), body.get("cursor"), limit)
    return {"link_id_list": [link.link_id for link in chunk], "next_cursor": next_cursor}


def get_link(world: World, query: Query, body: Body) -> dict[str, Any]:
    link = _link(world, body)
    return {
        "link": {
            "link_id": link.link_id,
            "link_name": link.link_name,
            "url": link.url,
            "create_time": link.create_time,
            "skip_verify": link.skip_verify,
        },
        "range": {"user_list": list(link.user_list), "department_list": list(link.department_list)},
        "priority_option": link.priority_option or {"priority_type": 0, "priority_userid_list": []},
    }


def update_link(world: World, query: Query, body: Body) -> dict[str, Any]:
    link = _link(world, body)
    name = text_param(body, "link_name", MAX_LINK_NAME_CHARS)
    if "range" in body:
        # WECOM.md §7: like update_contact_way, the range given replaces the old one.
        link.user_list, link.department_list = _range(world, body)
        link.next_pick = 0
    if name:
        link.link_name = name
    if "skip_verify" in body:
        link.skip_verify = bool(body["skip_verify"])
    if "priority_option" in body:
        link.priority_option = body.get("priority_option")
    return {}


def delete_link(world: World, query: Query, body: Body) -> dict[str, Any]:
    del world.links[_link(world, body).link_id]
    return {}


ENDPOINTS: dict[str, Endpoint] = {
    "externalcontact/customer_acquisition/create_link": Endpoint("POST", create_link),
    "externalcontact/customer_acquisition/list_link": Endpoint("POST", list_link),
    "externalcontact/customer_acquisition/get": Endpoint("POST", get_link),
    "externalcontact/customer_acquisition/update_link": Endpoint("POST", update_link),
    "externalcontact/customer_acquisition/delete_link": Endpoint("POST", delete_link),
}
