"""企业群发 — mass messages to customers or customer groups in the twin (WECOM.md §5, §10).

`add_msg_template` only creates a task per sending staff member; nothing is delivered until
that member confirms it in their client (`POST /twin/mass/confirm`). At that moment each
recipient either receives it (status 1, recorded as a `mass` ReceivedMessage with a timestamp),
is no longer a friend (2), or has already received this month's quota (3: the receive limit).

Recipients of a single-chat task: `external_userid`, or else all of `sender`'s customers;
narrowed to `sender`'s customers when a sender is given, and to those whose follow carries
tags matching `tag_filter` (OR within a group, AND across groups). Without a sender each
customer goes to the member who last chatted with them (`World.last_chatted`) and the filter
applies to that member's tags. With `allow_select` (single chats only) the confirming member
may send to a subset; the rest stay status 0. Queried within `mass_query_ready_seconds` of
creation the task answers 41063.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from siyu.simulator.admin import AdminError, AdminHandler, Twin, need
from siyu.simulator.api import Endpoint, message_content
from siyu.simulator.params import Body, Query, int_param, page, required
from siyu.simulator.world import (
    DATA_NOT_READY,
    INVALID_PARAMETER,
    INVALID_TAG_ID,
    ApiError,
    Friendship,
    ReceivedMessage,
    World,
)

MAX_SINGLE_RECIPIENTS = 10_000
MAX_GROUP_RECIPIENTS = 2_000
MAX_LIST_SPAN_SECONDS = 31 * 24 * 3600  # WECOM.md §5: a span of at most one month
MAX_TAGS_PER_FILTER_GROUP = 100  # add_msg_template: at most 100 tags in each tag_filter group
SHANGHAI = ZoneInfo("Asia/Shanghai")

NOT_SENT, SENT, NOT_FRIEND, OVER_LIMIT = 0, 1, 2, 3
TASK_UNSENT, TASK_SENT = 0, 2  # get_groupmsg_task status


@dataclass
class MassSend:
    userid: str
    external_userid: str = ""
    chat_id: str = ""
    status: int = NOT_SENT
    send_time: int = 0


@dataclass
class MassTask:
    msgid: str
    chat_type: str  # single | group
    create_time: int
    text: str
    attachments: list[dict[str, Any]]
    sends: list[MassSend] = field(default_factory=list)
    confirmed: dict[str, int] = field(default_factory=dict)  # userid -> send_time
    reminders: list[float] = field(default_factory=list)
    cancelled: bool = False
    creator: str = ""
    create_type: int = 0  # 0 made by the corp (the API), 1 by a staff member
    allow_select: bool = False  # the confirming member may choose a subset (single chats only)
    tag_filter: list[list[str]] = field(default_factory=list)
    created_at: float = 0.0  # the twin-clock instant, for the 41063 window

    def pending_senders(self) -> list[str]:
        return [u for u in dict.fromkeys(s.userid for s in self.sends) if u not in self.confirmed]


def receive_limit(world: World, now: float) -> int:
    """WECOM.md §5: as many per month as the month has days, unless configured otherwise."""
    if world.config.mass_receive_limit_per_month is not None:
        return world.config.mass_receive_limit_per_month
    local = dt.datetime.fromtimestamp(now, SHANGHAI)
    return calendar.monthrange(local.year, local.month)[1]


def received_this_month(world: World, recipient: str, now: float) -> int:
    local = dt.datetime.fromtimestamp(now, SHANGHAI)
    month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0).timestamp()
    return sum(
        1
        for m in world.messages
        if m.kind == "mass"
        and (m.chat_id or m.external_userid) == recipient
        and m.received_at >= month_start
    )


# --- /cgi-bin/externalcontact mass-message endpoints -----------------------------------------


def _tag_filter(world: World, body: Body) -> list[list[str]]:
    """`tag_filter.group_list[].tag_list` as lists of tag ids; unknown tags answer 40068."""
    groups = (body.get("tag_filter") or {}).get("group_list") or []
    if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
        raise ApiError(INVALID_PARAMETER, "invalid tag_filter")
    known = world.all_tags()
    result = []
    for group in groups:
        tags = group.get("tag_list") or []
        if not isinstance(tags, list) or len(tags) > MAX_TAGS_PER_FILTER_GROUP:
            raise ApiError(INVALID_PARAMETER, "a tag_filter group holds at most 100 tags")
        if any(str(t) not in known for t in tags):
            raise ApiError(INVALID_TAG_ID, "invalid tag id in tag_filter")
        if tags:
            result.append([str(t) for t in tags])
    return result


def matches(follow: Friendship, tag_filter: list[list[str]]) -> bool:
    """OR within a group, AND across groups, over the tags this follow carries."""
    carried = set(follow.tag_ids)
    return all(carried & set(group) for group in tag_filter)


def _single_sends(
    world: World, body: Body, sender: str, tag_filter: list[list[str]]
) -> tuple[list[MassSend], list[str]]:
    targets = body.get("external_userid") or []
    if not isinstance(targets, list) or len(targets) > MAX_SINGLE_RECIPIENTS:
        raise ApiError(INVALID_PARAMETER, "external_userid holds at most 10000 ids")
    if not targets:
        if not sender:
            raise ApiError(INVALID_PARAMETER, "external_userid or sender missing")
        targets = [e for (u, e) in world.friendships if u == sender]
    wanted = list(dict.fromkeys(str(t) for t in targets))
    follows_of: dict[str, list[Friendship]] = {}
    if not sender:  # one pass over the friendships, not one per customer
        wanted_set = set(wanted)
        for f in world.friendships.values():
            if f.external_userid in wanted_set:
                follows_of.setdefault(f.external_userid, []).append(f)
    sends, fail_list = [], []
    for external_userid in wanted:
        # WECOM.md §10: without a sender it goes to the member who last chatted with them.
        follow = (
            world.friendships.get((sender, external_userid))
            if sender
            else world.last_chatted(external_userid, follows_of.get(external_userid, []))
        )
        if follow is None:
            fail_list.append(external_userid)
        elif matches(follow, tag_filter):
            sends.append(MassSend(follow.userid, external_userid=external_userid))
    return sends, fail_list


def _group_sends(world: World, body: Body, sender: str) -> tuple[list[MassSend], list[str]]:
    if not sender:
        raise ApiError(INVALID_PARAMETER, "sender is required for group messages")
    chat_ids = body.get("chat_id_list") or []
    if not isinstance(chat_ids, list) or len(chat_ids) > MAX_GROUP_RECIPIENTS:
        raise ApiError(INVALID_PARAMETER, "chat_id_list holds at most 2000 ids")
    owned = {g.chat_id for g in world.groups.values() if g.owner == sender and not g.dismissed}
    wanted = list(dict.fromkeys(chat_ids)) or sorted(owned)
    sends = [MassSend(sender, chat_id=c) for c in wanted if c in owned]
    return sends, [c for c in wanted if c not in owned]


def add_msg_template(world: World, query: Query, body: Body) -> dict[str, Any]:
    chat_type = body.get("chat_type") or "single"
    if chat_type not in ("single", "group"):
        raise ApiError(INVALID_PARAMETER, "invalid chat_type")
    sender = str(body.get("sender") or "")
    if sender:
        world.active_staff(sender)
    text, attachments = message_content(world, body)
    tag_filter: list[list[str]] = []
    if chat_type == "single":
        tag_filter = _tag_filter(world, body)
        sends, fail_list = _single_sends(world, body, sender, tag_filter)
    else:
        sends, fail_list = _group_sends(world, body, sender)
    if not sends:
        raise ApiError(INVALID_PARAMETER, "no valid recipient")
    msgid = world.new_id("msg", 24)
    now = world.clock.now()
    world.mass_tasks[msgid] = MassTask(
        msgid,
        chat_type,
        int(now),
        text,
        attachments,
        sends,
        creator=sender,
        # WeCom: "allow_select ... 仅支持客户群发场景" — customer (single) mass messages only.
        allow_select=bool(body.get("allow_select")) and chat_type == "single",
        tag_filter=tag_filter,
        created_at=now,
    )
    return {"fail_list": fail_list, "msgid": msgid}


def _task(world: World, body: Body) -> MassTask:
    task = world.mass_tasks.get(required(body.get("msgid"), "msgid"))
    if task is None:
        raise ApiError(INVALID_PARAMETER, "invalid msgid")
    return task


def _ready_task(world: World, body: Body) -> MassTask:
    """WECOM.md §10 [sdk]: a task queried straight after creation is not ready yet (41063)."""
    task = _task(world, body)
    if world.clock.now() - task.created_at < world.config.mass_query_ready_seconds:
        raise ApiError(DATA_NOT_READY, "data not ready, try again later")
    return task


def get_groupmsg_list_v2(world: World, query: Query, body: Body) -> dict[str, Any]:
    chat_type = body.get("chat_type") or "single"
    start, end = int_param(body, "start_time", 0), int_param(body, "end_time", 0)
    if not start or not end or end < start or end - start > MAX_LIST_SPAN_SECONDS:
        raise ApiError(INVALID_PARAMETER, "start_time/end_time span at most one month")
    limit = int_param(body, "limit", 50)
    if not 1 <= limit <= 100:
        raise ApiError(INVALID_PARAMETER, "invalid limit")
    filter_type = int_param(body, "filter_type", 2)
    creator = body.get("creator")
    tasks = [
        t
        for t in world.mass_tasks.values()
        if t.chat_type == chat_type
        and start <= t.create_time <= end
        and (filter_type == 2 or t.create_type == filter_type)
        and (not creator or t.creator == creator)
    ]
    chunk, next_cursor = page(tasks, body.get("cursor"), limit)
    return {
        "group_msg_list": [
            {
                "msgid": t.msgid,
                "creator": t.creator,
                "create_time": t.create_time,
                "create_type": t.create_type,
                "text": {"content": t.text},
                "attachments": t.attachments,
            }
            for t in chunk
        ],
        "next_cursor": next_cursor,
    }


def get_groupmsg_task(world: World, query: Query, body: Body) -> dict[str, Any]:
    task = _ready_task(world, body)
    limit = int_param(body, "limit", 500)
    if not 1 <= limit <= 1000:
        raise ApiError(INVALID_PARAMETER, "invalid limit")
    senders = list(dict.fromkeys(s.userid for s in task.sends))
    chunk, next_cursor = page(senders, body.get("cursor"), limit)
    rows = []
    for userid in chunk:
        row: dict[str, Any] = {
            "userid": userid,
            "status": TASK_SENT if userid in task.confirmed else TASK_UNSENT,
        }
        if userid in task.confirmed:
            row["send_time"] = task.confirmed[userid]
        rows.append(row)
    return {"task_list": rows, "next_cursor": next_cursor}


def get_groupmsg_send_result(world: World, query: Query, body: Body) -> dict[str, Any]:
    task = _ready_task(world, body)
    userid = required(body.get("userid"), "userid")
    limit = int_param(body, "limit", 500)
    if not 1 <= limit <= 1000:
        raise ApiError(INVALID_PARAMETER, "invalid limit")
    sends = [s for s in task.sends if s.userid == userid]
    chunk, next_cursor = page(sends, body.get("cursor"), limit)
    rows = []
    for send in chunk:
        row: dict[str, Any] = {"userid": send.userid, "status": send.status}
        row |= {"chat_id": send.chat_id} if send.chat_id else {}
        row |= {"external_userid": send.external_userid} if send.external_userid else {}
        row |= {"send_time": send.send_time} if send.send_time else {}
        rows.append(row)
    return {"send_list": rows, "next_cursor": next_cursor}


def remind_groupmsg_send(world: World, query: Query, body: Body) -> dict[str, Any]:
    task = _task(world, body)
    now = world.clock.now()
    task.reminders = [at for at in task.reminders if at > now - 24 * 3600]
    # WECOM.md §5: at most 3 reminders per task per 24 h.
    if len(task.reminders) >= world.config.mass_reminders_per_day:
        raise ApiError(world.config.mass_reminder_limit_errcode, "remind limit reached")
    task.reminders.append(now)
    return {}


def cancel_groupmsg_send(world: World, query: Query, body: Body) -> dict[str, Any]:
    """Stops the senders who have not sent yet: their sends stay status 0 for good. A task
    every sender has sent cannot be cancelled (`mass_cancel_sent_errcode` [?])."""
    task = _task(world, body)
    if not task.cancelled and not task.pending_senders():
        raise ApiError(world.config.mass_cancel_sent_errcode, "the mass message was already sent")
    task.cancelled = True
    return {}


ENDPOINTS: dict[str, Endpoint] = {
    "externalcontact/add_msg_template": Endpoint("POST", add_msg_template),
    "externalcontact/get_groupmsg_list_v2": Endpoint("POST", get_groupmsg_list_v2),
    "externalcontact/get_groupmsg_task": Endpoint("POST", get_groupmsg_task),
    "externalcontact/get_groupmsg_send_result": Endpoint("POST", get_groupmsg_send_result),
    "externalcontact/remind_groupmsg_send": Endpoint("POST", remind_groupmsg_send),
    "externalcontact/cancel_groupmsg_send": Endpoint("POST", cancel_groupmsg_send),
}


# --- /twin/mass/confirm: the staff member taps "send" in their client ------------------------


def _chosen(task: MassTask, body: Body, sends: list[MassSend]) -> list[MassSend]:
    """The sends the member chose, with `allow_select`: a subset of their recipients."""
    chosen = body.get("external_userid")
    if chosen is None:
        return sends
    if not task.allow_select:
        raise AdminError(409, "this mass message does not let the member choose recipients")
    if not isinstance(chosen, list):
        raise AdminError(400, "external_userid must be a list")
    wanted = {str(e) for e in chosen}
    unknown = wanted - {s.external_userid for s in sends}
    if unknown:
        raise AdminError(400, f"not among this member's recipients: {sorted(unknown)}")
    return [s for s in sends if s.external_userid in wanted]


def send_confirmed(world: World, task: MassTask, userid: str, sends: list[MassSend]) -> None:
    """Deliver `sends` of `userid` now, each within the receive limit (WECOM.md §5)."""
    now = world.clock.now()
    limit = receive_limit(world, now)
    for send in sends:
        recipient = send.chat_id or send.external_userid
        gone = (
            world.groups[send.chat_id].dismissed
            if send.chat_id
            else (userid, send.external_userid) not in world.friendships
        )
        if gone:
            send.status = NOT_FRIEND
        elif received_this_month(world, recipient, now) >= limit:
            send.status = OVER_LIMIT
        else:
            send.status, send.send_time = SENT, int(now)
            world.deliver(
                ReceivedMessage(
                    kind="mass",
                    userid=userid,
                    external_userid=send.external_userid,
                    chat_id=send.chat_id,
                    msgid=task.msgid,
                    text=task.text,
                    attachments=task.attachments,
                    received_at=now,
                )
            )
    task.confirmed[userid] = int(now)


def confirm(twin: Twin, body: Body) -> tuple[int, dict[str, Any]]:
    """The member taps "send"; with `allow_select`, `external_userid` lists the recipients
    they kept (the others stay status 0)."""
    world = twin.world
    with world.lock:
        task = world.mass_tasks.get(str(need(body, "msgid")))
        if task is None:
            raise AdminError(404, "no such mass message")
        userid = str(need(body, "userid"))
        sends = [s for s in task.sends if s.userid == userid]
        if not sends:
            raise AdminError(404, f"{userid} has nothing to send in this task")
        if task.cancelled:
            raise AdminError(409, "the mass message was cancelled")
        if userid in task.confirmed:
            raise AdminError(409, "already sent")
        chosen = _chosen(task, body, sends)
        send_confirmed(world, task, userid, chosen)
        counts = {str(code): sum(1 for s in sends if s.status == code) for code in (0, 1, 2, 3)}
    return 200, {"msgid": task.msgid, "userid": userid, "statuses": counts}


def pending(twin: Twin, body: Body) -> tuple[int, dict[str, Any]]:
    """What the population's staff see in their clients: each sender's unsent, uncancelled
    task with its reminders, and the world's seed and behaviour settings (population.py)."""
    world = twin.world
    config = world.config
    with world.lock:
        tasks = [
            {
                "msgid": t.msgid,
                "userid": userid,
                "created_at": t.created_at,
                "reminders": list(t.reminders),
            }
            for t in world.mass_tasks.values()
            if not t.cancelled
            for userid in t.pending_senders()
        ]
        now = world.clock.now()
    return 200, {
        "now": now,
        "seed": config.seed,
        "confirm_probability": config.mass_confirm_probability,
        "confirm_mean_delay_seconds": config.mass_confirm_mean_delay_seconds,
        "reminded_mean_delay_seconds": config.mass_reminded_mean_delay_seconds,
        "tasks": tasks,
    }


ADMIN_ROUTES: dict[tuple[str, str], AdminHandler] = {
    ("POST", "mass/confirm"): confirm,
    ("GET", "mass/pending"): pending,
}
