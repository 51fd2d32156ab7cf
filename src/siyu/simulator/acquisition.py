"""获客助手 — customer acquisition links in the twin (WECOM.md §7).

A customer who opens a link's URL with `customer_channel=XXX` (<= 64 bytes) and adds one of its
staff comes back in the add event with `State=XXX`; the twin's `POST /twin/customers/add`
takes `link_id` and `customer_channel` to play that customer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from siyu.simulator.api import Endpoint
from siyu.simulator.params import Body, Query, required, text_param
from siyu.simulator.world import INVALID_PARAMETER, ApiError, World

MAX_LINK_NAME_CHARS = 30
MAX_CUSTOMER_CHANNEL_BYTES = 64


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


def create_link(world: World, query: Query, body: Body) -> dict[str, Any]:
    name = required(text_param(body, "link_name", MAX_LINK_NAME_CHARS), "link_name")
    scope = body.get("range") or {}
    users = [str(u) for u in scope.get("user_list") or []]
    departments = [int(d) for d in scope.get("department_list") or []]
    if not users and not departments:
        raise ApiError(INVALID_PARAMETER, "range needs user_list or department_list")
    for userid in users:
        world.active_staff(userid)
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


ENDPOINTS: dict[str, Endpoint] = {
    "externalcontact/customer_acquisition/create_link": Endpoint("POST", create_link),
}
