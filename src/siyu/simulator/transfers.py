"""在职继承 and 离职继承 — moving customers from one staff member to another (WECOM.md §8).

A transfer waits `transfer_delay_seconds` (24 h) on the twin's clock, during which the customer
may refuse (`POST /twin/transfers/refuse`). When it falls due (`settle_due`, run by the app
before every request) the takeover gets the friendship unless they are at their friend
capacity (status 4, `transfer_fail` with FailReason customer_limit_exceed). A completed
transfer sends the handover staff `del_external_contact` with `Source=DELETE_BY_TRANSFER`
(WECOM.md §3). A customer may be transferred at most twice in 90 days.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from siyu.simulator.admin import AdminError, AdminHandler, Twin, need
from siyu.simulator.api import Endpoint
from siyu.simulator.callbacks import contact_event_xml
from siyu.simulator.groups import STATUS_OWNER_RESIGNED
from siyu.simulator.params import Body, Query, int_param, page, required
from siyu.simulator.world import (
    INVALID_PARAMETER,
    NOT_EXTERNAL_CONTACT,
    ApiError,
    ReceivedMessage,
    World,
)

MAX_CUSTOMERS_PER_CALL = 100
DONE, WAITING, REFUSED, OVER_LIMIT, NONE = 1, 2, 3, 4, 5


@dataclass
class Transfer:
    kind: str  # "onjob" | "resigned"
    handover_userid: str
    takeover_userid: str
    external_userid: str
    started_at: float
    status: int = WAITING
    takeover_time: int = 0
    success_msg: str = ""


def _counted(world: World, external_userid: str, now: float) -> int:
    """Transfers of the customer in the window that count against the limit."""
    since = now - world.config.transfer_window_days * 24 * 3600
    return sum(
        1
        for t in world.transfers
        if t.external_userid == external_userid
        and t.started_at >= since
        and t.status in (DONE, WAITING)
    )


def _start(world: World, body: Body, kind: str) -> dict[str, Any]:
    handover = world.staff_member(required(body.get("handover_userid"), "handover_userid"))
    takeover = world.active_staff(required(body.get("takeover_userid"), "takeover_userid"))
    if handover.userid == takeover.userid:
        raise ApiError(INVALID_PARAMETER, "handover and takeover are the same")
    if kind == "onjob" and not handover.active:
        raise ApiError(INVALID_PARAMETER, "the handover staff has resigned: use resigned/")
    if kind == "resigned" and handover.active:
        raise ApiError(INVALID_PARAMETER, "the handover staff has not resigned")
    customers = body.get("external_userid") or []
    if not isinstance(customers, list) or not 1 <= len(customers) <= MAX_CUSTOMERS_PER_CALL:
        raise ApiError(INVALID_PARAMETER, "external_userid must hold 1 to 100 ids")
    now = world.clock.now()
    results = []
    for external_userid in dict.fromkeys(customers):
        if (handover.userid, external_userid) not in world.friendships:
            errcode = NOT_EXTERNAL_CONTACT
        elif (
            any(
                t.external_userid == external_userid and t.status == WAITING
                for t in world.transfers
            )
            or _counted(world, external_userid, now) >= world.config.transfer_max_per_customer
        ):
            errcode = world.config.transfer_limit_errcode  # WECOM.md §8: twice in 90 days
        else:
            errcode = 0
            world.transfers.append(
                Transfer(
                    kind,
                    handover.userid,
                    takeover.userid,
                    external_userid,
                    now,
                    success_msg=str(body.get("transfer_success_msg") or ""),
                )
            )
        results.append({"external_userid": external_userid, "errcode": errcode})
    return {"customer": results}


def _results(world: World, body: Body, kind: str) -> dict[str, Any]:
    handover = required(body.get("handover_userid"), "handover_userid")
    takeover = required(body.get("takeover_userid"), "takeover_userid")
    rows = [
        t
        for t in world.transfers
        if t.kind == kind and t.handover_userid == handover and t.takeover_userid == takeover
    ]
    chunk, next_cursor = page(rows, body.get("cursor"), 1000)
    return {
        "customer": [
            {"external_userid": t.external_userid, "status": t.status}
            | ({"takeover_time": t.takeover_time} if t.takeover_time else {})
            for t in chunk
        ],
        "next_cursor": next_cursor,
    }


def transfer_customer(world: World, query: Query, body: Body) -> dict[str, Any]:
    return _start(world, body, "onjob")


def transfer_result(world: World, query: Query, body: Body) -> dict[str, Any]:
    return _results(world, body, "onjob")


def resigned_transfer_customer(world: World, query: Query, body: Body) -> dict[str, Any]:
    return _start(world, body, "resigned")


def resigned_transfer_result(world: World, query: Query, body: Body) -> dict[str, Any]:
    return _results(world, body, "resigned")


def get_unassigned_list(world: World, query: Query, body: Body) -> dict[str, Any]:
    page_size = int_param(body, "page_size", 1000)
    if not 1 <= page_size <= 1000:
        raise ApiError(INVALID_PARAMETER, "invalid page_size")
    moving = {
        (t.handover_userid, t.external_userid) for t in world.transfers if t.status == WAITING
    }
    rows = [
        {
            "handover_userid": f.userid,
            "external_userid": f.external_userid,
            "dimission_time": int(world.staff[f.userid].resigned_at or 0),
        }
        for f in world.friendships.values()
        if not world.staff[f.userid].active and (f.userid, f.external_userid) not in moving
    ]
    chunk, next_cursor = page(rows, body.get("cursor"), page_size)
    return {"info": chunk, "is_last": not next_cursor, "next_cursor": next_cursor}


ENDPOINTS: dict[str, Endpoint] = {
    "externalcontact/transfer_customer": Endpoint("POST", transfer_customer),
    "externalcontact/transfer_result": Endpoint("POST", transfer_result),
    "externalcontact/get_unassigned_list": Endpoint("POST", get_unassigned_list),
    "externalcontact/resigned/transfer_customer": Endpoint("POST", resigned_transfer_customer),
    "externalcontact/resigned/transfer_result": Endpoint("POST", resigned_transfer_result),
}


# --- time passing ----------------------------------------------------------------------------


def settle_due(world: World) -> list[tuple[str, bytes]]:
    """Complete every transfer whose 24 h have passed; the callbacks that fire. Hold the lock."""
    now = world.clock.now()
    events: list[tuple[str, bytes]] = []
    for t in world.transfers:
        if t.status != WAITING or now < t.started_at + world.config.transfer_delay_seconds:
            continue
        at = int(t.started_at + world.config.transfer_delay_seconds)
        old = world.friendships.get((t.handover_userid, t.external_userid))
        takeover = world.staff.get(t.takeover_userid)
        if old is None or takeover is None:
            t.status = NONE
            continue
        already = (t.takeover_userid, t.external_userid) in world.friendships
        if not already and world.friend_count(takeover.userid) >= takeover.capacity:
            t.status = OVER_LIMIT
            events.append(_fail(world, t, at, "customer_limit_exceed"))
            continue
        del world.friendships[(t.handover_userid, t.external_userid)]
        if not already:
            world.friendships[(t.takeover_userid, t.external_userid)] = replace(
                old, userid=t.takeover_userid, createtime=at
            )
        t.status, t.takeover_time = DONE, at
        if t.success_msg:
            world.deliver(
                ReceivedMessage(
                    "transfer", t.takeover_userid, t.external_userid, t.success_msg, [], at
                )
            )
        events.append(
            (
                "change_external_contact/del_external_contact",
                contact_event_xml(
                    world.config.corp_id,
                    at,
                    "del_external_contact",
                    t.handover_userid,
                    t.external_userid,
                    Source="DELETE_BY_TRANSFER",
                ),
            )
        )
        if world.config.transfer_sends_add_event and not already:
            events.append(
                (
                    "change_external_contact/add_external_contact",
                    contact_event_xml(
                        world.config.corp_id,
                        at,
                        "add_external_contact",
                        t.takeover_userid,
                        t.external_userid,
                    ),
                )
            )
    return events


def _fail(world: World, t: Transfer, at: int, reason: str) -> tuple[str, bytes]:
    # WECOM.md §3: transfer_fail names the takeover staff who did not get the customer.
    return (
        "change_external_contact/transfer_fail",
        contact_event_xml(
            world.config.corp_id,
            at,
            "transfer_fail",
            t.takeover_userid,
            t.external_userid,
            FailReason=reason,
        ),
    )


# --- /twin: a staff member leaves, a customer refuses ----------------------------------------


def resign(twin: Twin, body: Body) -> tuple[int, dict[str, Any]]:
    world = twin.world
    with world.lock:
        staff = world.staff.get(str(need(body, "userid")))
        if staff is None:
            raise AdminError(404, "no such staff")
        if not staff.active:
            raise AdminError(409, "already resigned")
        staff.resigned_at = world.clock.now()
        owned = [g for g in world.groups.values() if g.owner == staff.userid and not g.dismissed]
        for group in owned:
            group.status = STATUS_OWNER_RESIGNED
        customers = world.friend_count(staff.userid)
    return 200, {"userid": staff.userid, "customers": customers, "groups": len(owned)}


def refuse(twin: Twin, body: Body) -> tuple[int, dict[str, Any]]:
    """The customer refuses a waiting transfer: WeCom sends `transfer_fail` (customer_refused)."""
    world = twin.world
    with world.lock:
        external_userid = str(need(body, "external_userid"))
        waiting = [
            t
            for t in world.transfers
            if t.external_userid == external_userid and t.status == WAITING
        ]
        if not waiting:
            raise AdminError(404, "no waiting transfer for this customer")
        transfer = waiting[-1]
        transfer.status = REFUSED
        event = _fail(world, transfer, int(world.clock.now()), "customer_refused")
    [delivery] = twin.emit([event])
    return 200, {"delivery_id": delivery}


ADMIN_ROUTES: dict[tuple[str, str], AdminHandler] = {
    ("POST", "staff/resign"): resign,
    ("POST", "transfers/refuse"): refuse,
}
