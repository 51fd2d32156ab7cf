"""The twin keeps WeCom's mass-message rules (WECOM.md §5): nothing goes out until the sender
confirms; each customer's monthly receive limit; the results and reminder limits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest

from tests.simulator.twin import RunningTwin, running_twin, twin_config

SEND = "externalcontact/add_msg_template"


@pytest.fixture
def twin() -> Iterator[RunningTwin]:
    with running_twin(twin_config()) as twin:
        twin.add_staff("zhangsan")
        twin.add_staff("lisi")
        yield twin


def add(twin: RunningTwin, ext: str, staff: str = "zhangsan") -> str:
    twin.admin.post(
        "/twin/customers/add", json={"external_userid": ext, "name": ext, "staff_userid": staff}
    ).raise_for_status()
    return ext


def confirm(twin: RunningTwin, msgid: str, userid: str = "zhangsan"):
    return twin.admin.post("/twin/mass/confirm", json={"msgid": msgid, "userid": userid})


def send(twin: RunningTwin, externals: list[str], text: str = "上新啦") -> dict:
    data = twin.api(SEND, {"external_userid": externals, "text": {"content": text}})
    assert data["errcode"] == 0, data
    return data


def ready(twin: RunningTwin) -> None:
    """WeCom answers 41063 for a task queried straight after creation (WECOM.md §10)."""
    twin.advance(twin_config().mass_query_ready_seconds)


def results(twin: RunningTwin, msgid: str, userid: str = "zhangsan") -> dict:
    ready(twin)
    data = twin.api("externalcontact/get_groupmsg_send_result", {"msgid": msgid, "userid": userid})
    assert data["errcode"] == 0, data
    return {row["external_userid"]: row["status"] for row in data["send_list"]}


def tasks(twin: RunningTwin, msgid: str) -> dict:
    ready(twin)
    data = twin.api("externalcontact/get_groupmsg_task", {"msgid": msgid})
    assert data["errcode"] == 0, data
    return {t["userid"]: t["status"] for t in data["task_list"]}


def test_nothing_is_received_until_the_sender_confirms(twin):
    a, b = add(twin, "wmA"), add(twin, "wmB", staff="lisi")
    made = send(twin, [a, b, "wmNobody"])
    assert made["fail_list"] == ["wmNobody"]
    assert results(twin, made["msgid"]) == {a: 0}
    assert twin.state()["messages"] == []
    assert tasks(twin, made["msgid"]) == {"zhangsan": 0, "lisi": 0}

    assert confirm(twin, made["msgid"]).json()["statuses"] == {"0": 0, "1": 1, "2": 0, "3": 0}
    [received] = twin.state()["messages"]
    assert (received["kind"], received["external_userid"], received["msgid"]) == (
        "mass",
        a,
        made["msgid"],
    )
    assert received["received_at"] > 0
    assert results(twin, made["msgid"]) == {a: 1}
    assert tasks(twin, made["msgid"]) == {"zhangsan": 2, "lisi": 0}
    assert confirm(twin, made["msgid"]).status_code == 409


def test_a_customer_over_the_monthly_receive_limit_gets_status_3():
    with running_twin(twin_config(mass_receive_limit_per_month=4)) as twin:
        twin.add_staff("zhangsan")
        a = add(twin, "wmA")
        statuses = []
        for n in range(5):
            msgid = send(twin, [a], f"第{n}条")["msgid"]
            confirm(twin, msgid).raise_for_status()
            statuses.append(results(twin, msgid)[a])
        assert statuses == [1, 1, 1, 1, 3]
        assert len(twin.state()["messages"]) == 4


def test_the_default_limit_is_as_many_as_the_month_has_days(twin):
    a = add(twin, "wmA")
    now = dt.datetime.fromtimestamp(twin.state()["now"], ZoneInfo("Asia/Shanghai"))
    # Move to the 1st of next month, 01:00 Shanghai, so all sends fall in one month.
    first = (now.replace(day=28) + dt.timedelta(days=4)).replace(day=1, hour=1, minute=0)
    twin.advance(first.timestamp() - now.timestamp())
    month_days = ((first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - first).days
    statuses = []
    for _ in range(month_days + 1):
        msgid = send(twin, [a])["msgid"]
        confirm(twin, msgid).raise_for_status()
        statuses.append(results(twin, msgid)[a])
    assert statuses.count(1) == month_days and statuses[-1] == 3


def test_a_customer_who_left_before_the_confirmation_gets_status_2(twin):
    a = add(twin, "wmA")
    msgid = send(twin, [a])["msgid"]
    twin.admin.post(
        "/twin/customers/delete-staff", json={"staff_userid": "zhangsan", "external_userid": a}
    ).raise_for_status()
    confirm(twin, msgid).raise_for_status()
    assert results(twin, msgid) == {a: 2}


def test_message_limits_text_4000_bytes_attachments_9_recipients_10000(twin):
    a = add(twin, "wmA")
    assert (
        twin.api(SEND, {"external_userid": [a], "text": {"content": "字" * 1334}})["errcode"]
        == 45002
    )
    link = {"msgtype": "link", "link": {"title": "t", "url": "https://e.com"}}
    body = {"external_userid": [a], "attachments": [link] * 10}
    assert twin.api(SEND, body)["errcode"] == 40058
    many = {"external_userid": [f"wm{n}" for n in range(10_001)], "text": {"content": "x"}}
    assert twin.api(SEND, many)["errcode"] == 40058
    assert (
        twin.api(SEND, {"chat_type": "group", "text": {"content": "x"}})["errcode"] == 40058
    )  # group messages need a sender


def test_group_mass_messages_go_to_the_senders_groups(twin):
    mine = twin.admin.post("/twin/groups", json={"owner": "zhangsan"}).json()["chat_id"]
    theirs = twin.admin.post("/twin/groups", json={"owner": "lisi"}).json()["chat_id"]
    made = twin.api(
        SEND,
        {
            "chat_type": "group",
            "sender": "zhangsan",
            "chat_id_list": [mine, theirs],
            "text": {"content": "群公告"},
        },
    )
    assert made["fail_list"] == [theirs]
    confirm(twin, made["msgid"]).raise_for_status()
    [received] = twin.state()["messages"]
    assert (received["chat_id"], received["kind"]) == (mine, "mass")


def test_reminders_are_limited_to_3_in_24_hours(twin):
    msgid = send(twin, [add(twin, "wmA")])["msgid"]
    remind = "externalcontact/remind_groupmsg_send"
    codes = [twin.api(remind, {"msgid": msgid})["errcode"] for _ in range(4)]
    assert codes == [0, 0, 0, 45009]
    twin.advance(24 * 3600 + 1)
    assert twin.api(remind, {"msgid": msgid})["errcode"] == 0


def test_a_cancelled_mass_message_cannot_be_sent(twin):
    msgid = send(twin, [add(twin, "wmA")])["msgid"]
    assert twin.api("externalcontact/cancel_groupmsg_send", {"msgid": msgid})["errcode"] == 0
    assert confirm(twin, msgid).status_code == 409
    assert twin.state()["messages"] == []


def test_the_list_spans_at_most_a_month(twin):
    msgid = send(twin, [add(twin, "wmA")])["msgid"]
    now = int(twin.state()["now"])
    listed = twin.api(
        "externalcontact/get_groupmsg_list_v2",
        {"chat_type": "single", "start_time": now - 3600, "end_time": now + 3600},
    )
    assert [m["msgid"] for m in listed["group_msg_list"]] == [msgid]
    assert listed["group_msg_list"][0]["text"] == {"content": "上新啦"}
    too_long = {"start_time": now - 32 * 86400, "end_time": now}
    assert twin.api("externalcontact/get_groupmsg_list_v2", too_long)["errcode"] == 40058
