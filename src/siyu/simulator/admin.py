"""The twin-only admin API under `/twin/`: look at the world, and play the other people in it —
an admin adding staff, a customer adding or deleting a staff member, WeCom revoking a token,
time passing.

Customer actions fire callbacks, as they do in WeCom; the `/cgi-bin/` API never does (WECOM.md §0).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from siyu.simulator.callbacks import CallbackDispatcher, contact_event_xml
from siyu.simulator.faults import Fault, Faults
from siyu.simulator.world import (
    ROOT_DEPARTMENT,
    Customer,
    Friendship,
    ReceivedMessage,
    Staff,
    WelcomeCode,
    World,
    derived_unionid,
)

Body = dict[str, Any]
GENDERS = {"male": 1, "female": 2, 1: 1, 2: 2}
ADD_WAY_QR = 1  # WeCom's add_way 1: the customer scanned a QR code


class AdminError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Twin:
    world: World
    callbacks: CallbackDispatcher
    faults: Faults = field(default_factory=Faults)

    def emit(self, events: list[tuple[str, bytes]]) -> list[int]:
        """Queue callbacks built under the world's lock; call it after releasing the lock."""
        return [self.callbacks.enqueue(kind, xml).id for kind, xml in events]


AdminHandler = Callable[[Twin, Body], tuple[int, dict[str, Any]]]


def need(body: Body, key: str) -> Any:
    value = body.get(key)
    if value in (None, ""):
        raise AdminError(400, f"{key} is required")
    return value


def state(twin: Twin, body: Body) -> tuple[int, dict[str, Any]]:
    with twin.world.lock:
        snapshot = twin.world.snapshot()
    return 200, snapshot | {"callbacks": twin.callbacks.snapshot(), "faults": twin.faults.snapshot()}


def put_staff(twin: Twin, body: Body) -> tuple[int, dict[str, Any]]:
    """Create a staff member, or update one's name, departments, friend capacity or interface
    licence."""
    world = twin.world
    userid = str(need(body, "userid"))
    with world.lock:
        existing = world.staff.get(userid)
        staff = Staff(
            userid=userid,
            name=str(body.get("name") or (existing.name if existing else userid)),
            department=[
                int(d)
                for d in body.get("department")
                or (existing.department if existing else [ROOT_DEPARTMENT])
            ],
            capacity=int(
                body.get("capacity")
                or (existing.capacity if existing else world.config.default_capacity)
            ),
        )
        staff.resigned_at = existing.resigned_at if existing else None
        staff.licensed = bool(body["licensed"]) if "licensed" in body else (existing.licensed if existing else True)
        world.staff[userid] = staff
    return (200 if existing else 201), {"userid": userid, "capacity": staff.capacity}


def _staff_for_add(world: World, body: Body) -> tuple[Staff, str]:
    """The staff member a new customer reaches, and the state the add carries."""
    if body.get("config_id"):
        way = world.contact_ways.get(body["config_id"])
        if way is None:
            raise AdminError(404, "no such contact way")
        members = list(way.user) + [
            s.userid
            for s in world.staff.values()
            if set(s.department) & set(way.party) and s.userid not in way.user
        ]
        if not members:
            raise AdminError(409, "the contact way has no members")
        # WeCom picks a member of a multi-member code; the twin goes round in turn, to be predictable.
        userid = members[way.next_pick % len(members)]
        way.next_pick += 1
        return world.staff[userid], way.state
    if body.get("link_id"):
        link = world.links.get(body["link_id"])
        if link is None:
            raise AdminError(404, "no such acquisition link")
        channel = str(body.get("customer_channel") or "")
        # WECOM.md §7: customer_channel <= 64 bytes comes back as the add event's State.
        if len(channel.encode("utf-8")) > 64:
            raise AdminError(400, "customer_channel is longer than 64 bytes")
        members = list(link.user_list) + [
            s.userid
            for s in world.staff.values()
            if set(s.department) & set(link.department_list) and s.userid not in link.user_list
        ]
        members = [u for u in members if world.staff[u].active]
        if not members:
            raise AdminError(409, "the link has no active members")
        userid = members[link.next_pick % len(members)]
        link.next_pick += 1
        return world.staff[userid], channel
    staff = world.staff.get(str(need(body, "staff_userid")))
    if staff is None:
        raise AdminError(404, "no such staff")
    return staff, str(body.get("state") or "")


def add_customer(twin: Twin, body: Body) -> tuple[int, dict[str, Any]]:
    """A customer adds a staff member (by a contact way, or directly)."""
    world = twin.world
    name = str(need(body, "name"))
    with world.lock:
        staff, add_state = _staff_for_add(world, body)
        external_userid = str(body.get("external_userid") or world.new_id("wm", 30))
        if (staff.userid, external_userid) in world.friendships:
            raise AdminError(409, "already friends")
        # WECOM.md §3 friend limits: a full account cannot take another customer.
        if world.friend_count(staff.userid) >= staff.capacity:
            raise AdminError(409, f"{staff.userid} is at capacity ({staff.capacity})")
        customer = world.customers.get(external_userid)
        if customer is None:
            traits = {
                k: v
                for k, v in body.items()
                if k
                not in {
                    "external_userid",
                    "name",
                    "staff_userid",
                    "config_id",
                    "link_id",
                    "customer_channel",
                    "state",
                    "welcome",
                    "gender",
                    "unionid",
                }
            }
            # A fan of the brand's service account who becomes a customer keeps their unionid.
            unionid = str(body.get("unionid") or derived_unionid(external_userid))
            customer = Customer(
                external_userid, name, gender=GENDERS.get(body.get("gender"), 0), unionid=unionid,
                attributes=traits,
            )
            world.customers[external_userid] = customer
            world.fans.pop(unionid, None)
        now = world.clock.now()
        world.friendships[(staff.userid, external_userid)] = Friendship(
            userid=staff.userid,
            external_userid=external_userid,
            createtime=int(now),
            state=add_state,
            add_way=ADD_WAY_QR,
        )
        code = ""
        # WECOM.md §3: WelcomeCode is absent e.g. when an admin welcome message is set.
        if body.get("welcome", True):
            code = world.new_id("", 43)
            world.welcome_codes[code] = WelcomeCode(code, staff.userid, external_userid, now)
        xml = contact_event_xml(
            world.config.corp_id,
            int(now),
            "add_external_contact",
            staff.userid,
            external_userid,
            State=add_state,
            WelcomeCode=code,
        )
    delivery = twin.callbacks.enqueue("change_external_contact/add_external_contact", xml)
    return 201, {
        "external_userid": external_userid,
        "userid": staff.userid,
        "state": add_state,
        "welcome_code": code,
        "delivery_id": delivery.id,
    }


def customer_deletes_staff(twin: Twin, body: Body) -> tuple[int, dict[str, Any]]:
    """A customer deletes a staff member (churn): WeCom sends `del_follow_user`."""
    world = twin.world
    userid, external_userid = (
        str(need(body, "staff_userid")),
        str(need(body, "external_userid")),
    )
    with world.lock:
        if world.friendships.pop((userid, external_userid), None) is None:
            raise AdminError(404, "no such friendship")
        xml = contact_event_xml(
            world.config.corp_id, int(world.clock.now()), "del_follow_user", userid, external_userid
        )
    delivery = twin.callbacks.enqueue("change_external_contact/del_follow_user", xml)
    return 200, {"delivery_id": delivery.id}


def staff_chats(twin: Twin, body: Body) -> tuple[int, dict[str, Any]]:
    """A staff member sends a customer a 1:1 message in the client (no callback). It makes
    them the member who last chatted with the customer, where mass messages without a sender
    go (WECOM.md §10)."""
    world = twin.world
    userid, external_userid = str(need(body, "staff_userid")), str(need(body, "external_userid"))
    with world.lock:
        if (userid, external_userid) not in world.friendships:
            raise AdminError(404, "no such friendship")
        now = world.clock.now()
        world.deliver(
            ReceivedMessage("chat", userid, external_userid, str(body.get("text") or ""), [], now)
        )
    return 200, {"at": now}


def invalidate_tokens(twin: Twin, body: Body) -> tuple[int, dict[str, Any]]:
    with twin.world.lock:
        revoked = twin.world.invalidate_tokens(body.get("access_token"))
    return 200, {"revoked": revoked}


def advance_clock(twin: Twin, body: Body) -> tuple[int, dict[str, Any]]:
    try:
        seconds = float(need(body, "seconds"))
        with twin.world.lock:
            twin.world.clock.advance(seconds)
            return 200, {"now": twin.world.clock.now(), "offset": twin.world.clock.offset}
    except ValueError as exc:
        raise AdminError(400, str(exc)) from exc


def set_fault(twin: Twin, body: Body) -> tuple[int, dict[str, Any]]:
    """Make the next `times` calls (every call, without `times`) to one `/cgi-bin/` API answer
    with `errcode` and/or `delay_seconds` late, before or `after_effect` (see `faults.py`)."""
    api_path = str(need(body, "api")).strip("/")
    try:
        errcode = int(body.get("errcode") or 0)
        fault = Fault(
            api=api_path,
            errcode=errcode,
            errmsg=str(body.get("errmsg") or (f"twin fault {errcode}" if errcode else "")),
            delay_seconds=float(body.get("delay_seconds") or 0),
            after_effect=bool(body.get("after_effect", False)),
            times=None if body.get("times") is None else int(body["times"]),
        )
        twin.faults.set(fault)
    except (TypeError, ValueError) as exc:
        raise AdminError(400, str(exc)) from exc
    return 201, {"fault": asdict(fault)}


def clear_faults(twin: Twin, body: Body) -> tuple[int, dict[str, Any]]:
    """Clear one API's fault (`{"api": ...}`), or all of them."""
    api_path = body.get("api")
    return 200, {"cleared": twin.faults.clear(str(api_path).strip("/") if api_path else None)}


ROUTES: dict[tuple[str, str], AdminHandler] = {
    ("GET", "state"): state,
    ("POST", "staff"): put_staff,
    ("POST", "customers/add"): add_customer,
    ("POST", "customers/delete-staff"): customer_deletes_staff,
    ("POST", "customers/chat"): staff_chats,
    ("POST", "tokens/invalidate"): invalidate_tokens,
    ("POST", "clock/advance"): advance_clock,
    ("POST", "faults"): set_fault,
    ("DELETE", "faults"): clear_faults,
}
