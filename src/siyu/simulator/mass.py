"""企业群发 — mass messages to customers or customer groups in the twin (WECOM.md §5).

`add_msg_template` only creates a task per sending staff member; nothing is delivered until
that member confirms it in their client (`POST /twin/mass/confirm`). At that moment each
recipient either receives it (status 1, recorded as a `mass` ReceivedMessage with a timestamp),
is no longer a friend (2), or has already received this month's quota (3: the receive limit).
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
from siyu.simulator.world import INVALID_PARAMETER, ApiError, ReceivedMessage, World

MAX_SINGLE_RECIPIENTS = 10_000
MAX_GROUP_RECIPIENTS = 2_000
MAX_LIST_SPAN_SECONDS = 31 * 24 * 3600  # WECOM.md §5: a span of at most one month
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


def _single_sends(world: World, body: Body, sender: str) -> tuple[list[MassSend], list[str]]:
    targets = body.get("external_userid") or []
    if not isinstance(targets, list) or len(targets) > MAX_SINGLE_RECIPIENTS:
        raise ApiError(INVALID_PARAMETER, "external_userid holds at most 10000 ids")
    if not targets:
        if not sender:
            raise ApiError(INVALID_PARAMETER, "external_userid or sender missing")
        targets = [e for (u, e) in world.friendships if u == sender]
    sends, fail_list = [], []
    for external_userid in dict.fromkeys(targets):
        follows = sorted(
            (
                f
                for f in world.friendships.values()
                if f.external_userid == external_userid and (not sender or f.userid == sender)
            ),
            key=lambda f: f.createtime,
        )
        if follows:
            sends.append(MassSend(follows[0].userid, external_userid=external_userid))
        else:
            fail_list.append(external_userid)
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
    text, attachments = message_content(body)
    if chat_type == "single":
        sends, fail_list = _single_sends(world, body, sender)
    else:
        sends, fail_list = _group_sends(world, body, sender)
    if not sends:
        raise ApiError(INVALID_PARAMETER, "no valid recipient")
    msgid = world.new_id("msg", 24)
    world.mass_tasks[msgid] = MassTask(
        msgid, chat_type, int(world.clock.now()), text, attachments, sends, creator=sender
    )
    return {"fail_list": fail_list, "msgid": msgid}


def _task(world: World, body: Body) -> MassTask:
    task = world.mass_tasks.get(required(body.get("msgid"), "msgid"))
    if task is None:
        raise ApiError(INVALID_PARAMETER, "invalid msgid")
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
    task = _task(world, body)
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
    task = _task(world, body)
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
    _task(world, body).cancelled = True
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


def confirm(twin: Twin, body: Body) -> tuple[int, dict[str, Any]]:
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
                world.messages.append(
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
        counts = {str(code): sum(1 for s in sends if s.status == code) for code in (1, 2, 3)}
    return 200, {"msgid": task.msgid, "userid": userid, "statuses": counts}


ADMIN_ROUTES: dict[tuple[str, str], AdminHandler] = {("POST", "mass/confirm"): confirm}
