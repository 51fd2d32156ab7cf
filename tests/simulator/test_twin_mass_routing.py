"""The twin's 群发 beyond the basics (WECOM.md §5, §10): tag filters, allow_select, the "no
sender: the member who last chatted" routing, 41063 right after creation, cancel rules, and
media ids that expire."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.simulator.twin import RunningTwin, running_twin, twin_config

SEND = "externalcontact/add_msg_template"
READY = twin_config().mass_query_ready_seconds


@pytest.fixture
def twin() -> Iterator[RunningTwin]:
    with running_twin(twin_config()) as twin:
        twin.add_staff("zhangsan")
        twin.add_staff("lisi")
        yield twin


def add(twin: RunningTwin, ext: str, staff: str = "zhangsan", **body: object) -> str:
    twin.admin.post(
        "/twin/customers/add",
        json={"external_userid": ext, "name": ext, "staff_userid": staff, **body},
    ).raise_for_status()
    return ext


def tag_ids(twin: RunningTwin, group: str, *names: str) -> list[str]:
    made = twin.api(
        "externalcontact/add_corp_tag", {"group_name": group, "tag": [{"name": n} for n in names]}
    )
    return [t["id"] for t in made["tag_group"]["tag"]]


def mark(twin: RunningTwin, ext: str, *tags: str, staff: str = "zhangsan") -> None:
    body = {"userid": staff, "external_userid": ext, "add_tag": list(tags)}
    assert twin.api("externalcontact/mark_tag", body)["errcode"] == 0


def send(twin: RunningTwin, **body: object) -> dict:
    data = twin.api(SEND, {"text": {"content": "上新啦"}, **body})
    assert data["errcode"] == 0, data
    return data


def recipients(twin: RunningTwin, msgid: str) -> dict[str, str]:
    """external_userid -> the member the twin gave it to."""
    [task] = [t for t in twin.state()["mass_tasks"] if t["msgid"] == msgid]
    return {s["external_userid"]: s["userid"] for s in task["sends"]}


def results(twin: RunningTwin, msgid: str, userid: str = "zhangsan") -> dict[str, int]:
    twin.advance(READY)
    data = twin.api("externalcontact/get_groupmsg_send_result", {"msgid": msgid, "userid": userid})
    assert data["errcode"] == 0, data
    return {row["external_userid"]: row["status"] for row in data["send_list"]}


def confirm(twin: RunningTwin, msgid: str, userid: str = "zhangsan", **body: object):
    return twin.admin.post("/twin/mass/confirm", json={"msgid": msgid, "userid": userid, **body})


# --- tag_filter -------------------------------------------------------------------------------


def test_tag_filter_is_or_within_a_group_and_across_groups(twin):
    vip, new = tag_ids(twin, "等级", "VIP", "新客")
    [shanghai] = tag_ids(twin, "城市", "上海")
    a, b, c, d = (add(twin, ext) for ext in ("wmA", "wmB", "wmC", "wmD"))
    mark(twin, a, vip, shanghai)  # both groups
    mark(twin, b, new, shanghai)  # the other tag of the first group: OR within it
    mark(twin, c, vip)  # the first group only: AND across groups leaves it out
    # d carries no tag
    tag_filter = {"group_list": [{"tag_list": [vip, new]}, {"tag_list": [shanghai]}]}
    made = send(twin, sender="zhangsan", tag_filter=tag_filter)
    assert set(recipients(twin, made["msgid"])) == {a, b}
    assert made["fail_list"] == []
    assert c and d


def test_tag_filter_narrows_an_explicit_list_and_uses_the_senders_tags(twin):
    [vip] = tag_ids(twin, "等级", "VIP")
    a, b = add(twin, "wmA"), add(twin, "wmB")
    add(twin, b, staff="lisi")
    mark(twin, a, vip)
    mark(twin, b, vip, staff="lisi")  # tagged by lisi only
    tag_filter = {"group_list": [{"tag_list": [vip]}]}
    made = send(twin, sender="zhangsan", external_userid=[a, b, "wmNobody"], tag_filter=tag_filter)
    assert recipients(twin, made["msgid"]) == {a: "zhangsan"}
    assert made["fail_list"] == ["wmNobody"]


def test_an_unknown_tag_in_the_filter_is_refused(twin):
    add(twin, "wmA")
    body = {"sender": "zhangsan", "tag_filter": {"group_list": [{"tag_list": ["etNope"]}]}}
    assert twin.api(SEND, {"text": {"content": "x"}, **body})["errcode"] == 40068


# --- no sender: the member who last chatted ---------------------------------------------------


def test_without_a_sender_a_customer_goes_to_the_member_added_last(twin):
    a = add(twin, "wmA")
    twin.advance(5)
    add(twin, a, staff="lisi")
    made = send(twin, external_userid=[a])
    assert recipients(twin, made["msgid"]) == {a: "lisi"}


def test_without_a_sender_a_customer_goes_to_the_member_who_last_chatted(twin):
    a = add(twin, "wmA")
    twin.advance(5)
    add(twin, a, staff="lisi")
    twin.advance(5)
    chat = {"staff_userid": "zhangsan", "external_userid": a, "text": "在吗"}
    twin.admin.post("/twin/customers/chat", json=chat).raise_for_status()
    made = send(twin, external_userid=[a])
    assert recipients(twin, made["msgid"]) == {a: "zhangsan"}


def test_a_welcome_or_a_delivered_mass_message_counts_as_the_last_chat(twin):
    a = add(twin, "wmA")
    twin.advance(5)
    code = twin.admin.post(
        "/twin/customers/add", json={"external_userid": a, "name": a, "staff_userid": "lisi"}
    ).json()["welcome_code"]
    twin.advance(1)
    chat = {"staff_userid": "zhangsan", "external_userid": a}
    twin.admin.post("/twin/customers/chat", json=chat).raise_for_status()
    assert recipients(twin, send(twin, external_userid=[a])["msgid"]) == {a: "zhangsan"}
    twin.advance(1)
    welcome = {"welcome_code": code, "text": {"content": "欢迎"}}
    assert twin.api("externalcontact/send_welcome_msg", welcome)["errcode"] == 0
    assert recipients(twin, send(twin, external_userid=[a])["msgid"]) == {a: "lisi"}
    twin.advance(1)
    mass = send(twin, sender="zhangsan", external_userid=[a])
    confirm(twin, mass["msgid"]).raise_for_status()
    assert recipients(twin, send(twin, external_userid=[a])["msgid"]) == {a: "zhangsan"}


def test_a_chat_needs_a_friendship(twin):
    response = twin.admin.post(
        "/twin/customers/chat", json={"staff_userid": "zhangsan", "external_userid": "wmNobody"}
    )
    assert response.status_code == 404


# --- 41063 ------------------------------------------------------------------------------------


def test_a_task_queried_straight_after_creation_is_not_ready(twin):
    a = add(twin, "wmA")
    msgid = send(twin, sender="zhangsan", external_userid=[a])["msgid"]
    task = twin.api("externalcontact/get_groupmsg_task", {"msgid": msgid})
    result = twin.api(
        "externalcontact/get_groupmsg_send_result", {"msgid": msgid, "userid": "zhangsan"}
    )
    assert (task["errcode"], result["errcode"]) == (41063, 41063)
    twin.advance(READY)
    assert twin.api("externalcontact/get_groupmsg_task", {"msgid": msgid})["errcode"] == 0


def test_the_not_ready_window_is_configurable():
    with running_twin(twin_config(mass_query_ready_seconds=0)) as twin:
        twin.add_staff("zhangsan")
        msgid = send(twin, sender="zhangsan", external_userid=[add(twin, "wmA")])["msgid"]
        assert twin.api("externalcontact/get_groupmsg_task", {"msgid": msgid})["errcode"] == 0


# --- allow_select -----------------------------------------------------------------------------


def test_with_allow_select_the_member_sends_to_the_recipients_they_keep(twin):
    a, b, c = add(twin, "wmA"), add(twin, "wmB"), add(twin, "wmC")
    made = send(twin, sender="zhangsan", external_userid=[a, b, c], allow_select=True)
    [task] = twin.state()["mass_tasks"]
    assert task["allow_select"] is True
    answer = confirm(twin, made["msgid"], external_userid=[a, c])
    assert answer.json()["statuses"] == {"0": 1, "1": 2, "2": 0, "3": 0}
    assert results(twin, made["msgid"]) == {a: 1, b: 0, c: 1}
    assert {m["external_userid"] for m in twin.state()["messages"]} == {a, c}


def test_without_allow_select_the_member_cannot_choose(twin):
    a, b = add(twin, "wmA"), add(twin, "wmB")
    made = send(twin, sender="zhangsan", external_userid=[a, b])
    assert confirm(twin, made["msgid"], external_userid=[a]).status_code == 409
    assert confirm(twin, made["msgid"]).status_code == 200


def test_a_member_can_only_keep_their_own_recipients(twin):
    a = add(twin, "wmA")
    made = send(twin, sender="zhangsan", external_userid=[a], allow_select=True)
    assert confirm(twin, made["msgid"], external_userid=[a, "wmOther"]).status_code == 400


def test_allow_select_applies_to_customer_mass_messages_only(twin):
    chat_id = twin.admin.post("/twin/groups", json={"owner": "zhangsan"}).json()["chat_id"]
    send(twin, chat_type="group", sender="zhangsan", chat_id_list=[chat_id], allow_select=True)
    [task] = twin.state()["mass_tasks"]
    assert task["allow_select"] is False


# --- cancel -----------------------------------------------------------------------------------


def test_cancelling_stops_the_senders_who_have_not_sent(twin):
    a, b = add(twin, "wmA"), add(twin, "wmB", staff="lisi")
    msgid = send(twin, external_userid=[a, b])["msgid"]
    confirm(twin, msgid).raise_for_status()
    assert twin.api("externalcontact/cancel_groupmsg_send", {"msgid": msgid})["errcode"] == 0
    assert confirm(twin, msgid, userid="lisi").status_code == 409
    assert results(twin, msgid, "lisi") == {b: 0}
    assert results(twin, msgid) == {a: 1}


def test_a_fully_sent_mass_message_cannot_be_cancelled(twin):
    msgid = send(twin, sender="zhangsan", external_userid=[add(twin, "wmA")])["msgid"]
    confirm(twin, msgid).raise_for_status()
    answer = twin.api("externalcontact/cancel_groupmsg_send", {"msgid": msgid})
    assert answer["errcode"] == twin_config().mass_cancel_sent_errcode != 0


# --- media ids --------------------------------------------------------------------------------


def upload(twin: RunningTwin, kind: str = "image", content: bytes = b"\x89PNG-image") -> dict:
    return twin.admin.post(
        "/cgi-bin/media/upload",
        params={"access_token": twin.token(), "type": kind},
        files={"media": ("a.bin", content)},
    ).json()


def test_media_upload_answers_a_media_id_of_its_type(twin):
    uploaded = upload(twin, "file", b"%PDF-1.7 a catalogue")
    assert uploaded["errcode"] == 0 and uploaded["type"] == "file"
    assert uploaded["media_id"] and int(uploaded["created_at"]) > 0
    assert upload(twin, "gif")["errcode"] == 40004
    assert upload(twin, "image", b"tiny")["errcode"] == 40006  # every file is over 5 bytes


def test_an_expired_media_id_is_refused_with_40007(twin):
    a = add(twin, "wmA")
    media_id = upload(twin)["media_id"]
    image = {"msgtype": "image", "image": {"media_id": media_id}}
    body = {"sender": "zhangsan", "external_userid": [a], "attachments": [image]}
    assert twin.api(SEND, body)["errcode"] == 0
    twin.advance(twin_config().media_ttl_seconds + 1)
    assert twin.api(SEND, body)["errcode"] == 40007
    unknown = {**body, "attachments": [{"msgtype": "file", "file": {"media_id": "nope"}}]}
    assert twin.api(SEND, unknown)["errcode"] == 40007


def test_a_picture_by_url_needs_no_media_id(twin):
    a = add(twin, "wmA")
    image = {"msgtype": "image", "image": {"pic_url": "https://example.com/p.png"}}
    send(twin, sender="zhangsan", external_userid=[a], attachments=[image])


# --- the state page ---------------------------------------------------------------------------


def test_the_page_lists_mass_messages_with_their_progress(twin):
    a, b = add(twin, "wmA"), add(twin, "wmB")
    msgid = send(twin, sender="zhangsan", external_userid=[a, b], allow_select=True)["msgid"]
    confirm(twin, msgid, external_userid=[a]).raise_for_status()
    html = twin.admin.get("/twin/").text
    assert msgid in html and "pending 1, sent 1" in html and "allow_select" in html
