"""The twin keeps WeCom's transfer rules (WECOM.md §8, events §3): 24 h on the twin's clock,
refusals, the takeover's capacity, at most twice in 90 days, resigned staff."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.simulator.test_twin_rules import decrypt
from tests.simulator.twin import CallbackReceiver, RunningTwin, callback_receiver, running_twin
from tests.simulator.twin import twin_config as make_config

DAY = 24 * 3600
TRANSFER = "externalcontact/transfer_customer"
RESULT = "externalcontact/transfer_result"


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    with callback_receiver() as receiver:
        yield receiver


@pytest.fixture
def twin(receiver: CallbackReceiver) -> Iterator[RunningTwin]:
    with running_twin(make_config(callback_url=receiver.url)) as twin:
        for userid in ("zhangsan", "lisi", "wangwu"):
            twin.add_staff(userid)
        yield twin


def add(twin: RunningTwin, ext: str, staff: str = "zhangsan") -> str:
    twin.admin.post(
        "/twin/customers/add", json={"external_userid": ext, "name": ext, "staff_userid": staff}
    ).raise_for_status()
    return ext


def move(twin: RunningTwin, ext: list[str], frm: str = "zhangsan", to: str = "lisi"):
    body = {"handover_userid": frm, "takeover_userid": to, "external_userid": ext}
    data = twin.api(TRANSFER, body)
    assert data["errcode"] == 0, data
    return {row["external_userid"]: row["errcode"] for row in data["customer"]}


def status(twin: RunningTwin, frm: str = "zhangsan", to: str = "lisi") -> dict:
    data = twin.api(RESULT, {"handover_userid": frm, "takeover_userid": to})
    return {row["external_userid"]: row["status"] for row in data["customer"]}


def contact_events(twin: RunningTwin, receiver: CallbackReceiver) -> list[dict]:
    twin.wait_for_callbacks()
    return [
        f
        for f in (decrypt(c) for c in receiver.received)
        if f["ChangeType"] not in ("add_external_contact",)
    ]


def test_a_transfer_takes_effect_after_24_hours_and_tells_the_handover(twin, receiver):
    a = add(twin, "wmA")
    assert move(twin, [a]) == {a: 0}
    twin.advance(DAY - 60)
    assert status(twin) == {a: 2}
    assert twin.api("externalcontact/list", userid="lisi")["external_userid"] == []
    twin.advance(61)
    assert status(twin) == {a: 1}
    assert twin.api("externalcontact/list", userid="lisi")["external_userid"] == [a]
    assert twin.api("externalcontact/list", userid="zhangsan")["external_userid"] == []
    [deleted] = contact_events(twin, receiver)
    assert (deleted["ChangeType"], deleted["UserID"], deleted["Source"]) == (
        "del_external_contact",
        "zhangsan",
        "DELETE_BY_TRANSFER",
    )


def test_a_refused_transfer_sends_transfer_fail_and_keeps_the_customer(twin, receiver):
    a = add(twin, "wmA")
    move(twin, [a])
    twin.admin.post("/twin/transfers/refuse", json={"external_userid": a}).raise_for_status()
    twin.advance(DAY + 1)
    assert status(twin) == {a: 3}
    assert twin.api("externalcontact/list", userid="zhangsan")["external_userid"] == [a]
    [failed] = contact_events(twin, receiver)
    assert (failed["ChangeType"], failed["FailReason"], failed["UserID"]) == (
        "transfer_fail",
        "customer_refused",
        "lisi",
    )


def test_a_takeover_at_capacity_gets_status_4_and_customer_limit_exceed(twin, receiver):
    twin.add_staff("lisi", capacity=1)
    add(twin, "wmFull", staff="lisi")
    a = add(twin, "wmA")
    move(twin, [a])
    twin.advance(DAY + 1)
    assert status(twin) == {a: 4}
    [failed] = contact_events(twin, receiver)
    assert failed["FailReason"] == "customer_limit_exceed"


def test_a_customer_is_transferred_at_most_twice_in_90_days(twin):
    a = add(twin, "wmA")
    assert move(twin, [a]) == {a: 0}
    twin.advance(DAY + 1)
    assert move(twin, [a], frm="lisi", to="wangwu") == {a: 0}
    twin.advance(DAY + 1)
    assert move(twin, [a], frm="wangwu", to="zhangsan") == {a: 40128}
    twin.advance(89 * DAY)
    assert move(twin, [a], frm="wangwu", to="zhangsan") == {a: 0}


def test_transfer_inputs_are_checked(twin):
    a = add(twin, "wmA")
    assert move(twin, ["wmStranger"]) == {"wmStranger": 84061}
    too_many = {
        "handover_userid": "zhangsan",
        "takeover_userid": "lisi",
        "external_userid": [f"wm{n}" for n in range(101)],
    }
    assert twin.api(TRANSFER, too_many)["errcode"] == 40058
    same = {"handover_userid": "zhangsan", "takeover_userid": "zhangsan", "external_userid": [a]}
    assert twin.api(TRANSFER, same)["errcode"] == 40058


def test_resigned_staffs_customers_are_unassigned_until_transferred(twin, receiver):
    a, b = add(twin, "wmA"), add(twin, "wmB")
    group = twin.admin.post("/twin/groups", json={"owner": "zhangsan"}).json()["chat_id"]
    # On-job transfer is for staff still at work; resigned transfer for those who left.
    body = {"handover_userid": "zhangsan", "takeover_userid": "lisi", "external_userid": [a]}
    assert twin.api("externalcontact/resigned/transfer_customer", body)["errcode"] == 40058
    assert twin.admin.post("/twin/staff/resign", json={"userid": "zhangsan"}).json() == {
        "userid": "zhangsan",
        "customers": 2,
        "groups": 1,
    }
    unassigned = twin.api("externalcontact/get_unassigned_list", {})
    assert {r["external_userid"] for r in unassigned["info"]} == {a, b}
    assert unassigned["is_last"] is True and unassigned["info"][0]["dimission_time"] > 0
    assert twin.api(TRANSFER, body)["errcode"] == 40058
    done = twin.api("externalcontact/resigned/transfer_customer", body)
    assert done["customer"] == [{"external_userid": a, "errcode": 0}]
    left = twin.api("externalcontact/get_unassigned_list", {})
    assert [r["external_userid"] for r in left["info"]] == [b]
    twin.advance(DAY + 1)
    result = twin.api("externalcontact/resigned/transfer_result", body)
    assert result["customer"][0]["status"] == 1 and result["customer"][0]["takeover_time"] > 0

    listed = twin.api("externalcontact/groupchat/list", {"limit": 10, "status_filter": 1})
    assert [g["chat_id"] for g in listed["group_chat_list"]] == [group]
    give = {"chat_id_list": [group], "new_owner": "wangwu"}
    onjob = twin.api("externalcontact/groupchat/onjob_transfer", give)
    assert onjob["failed_chat_list"][0]["chat_id"] == group
    assert twin.api("externalcontact/groupchat/transfer", give)["failed_chat_list"] == []
    chat = twin.api("externalcontact/groupchat/get", {"chat_id": group})["group_chat"]
    assert chat["owner"] == "wangwu"


def test_the_takeover_add_event_is_configurable(receiver):
    with running_twin(
        make_config(callback_url=receiver.url, transfer_sends_add_event=True)
    ) as twin:
        twin.add_staff("zhangsan")
        twin.add_staff("lisi")
        move(twin, [add(twin, "wmA")])
        twin.advance(DAY + 1)
        kinds = [c["kind"] for c in twin.wait_for_callbacks()]
    assert kinds[-2:] == [
        "change_external_contact/del_external_contact",
        "change_external_contact/add_external_contact",
    ]
