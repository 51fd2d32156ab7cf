"""The twin keeps WeCom's customer-group rules (WECOM.md §4) and sends group callbacks as WeCom
does; checked over real HTTP, callbacks decrypted and read by the platform's own parser."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from siyu.wecom.parsing import read_callback, to_domain_event
from tests.simulator.test_twin_rules import decrypt
from tests.simulator.twin import (
    CallbackReceiver,
    RunningTwin,
    callback_receiver,
    decrypt_xml,
    running_twin,
)
from tests.simulator.twin import twin_config as make_config


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    with callback_receiver() as receiver:
        yield receiver


def start(receiver: CallbackReceiver, **config: object):
    return running_twin(make_config(callback_url=receiver.url, **config))


@pytest.fixture
def twin(receiver: CallbackReceiver) -> Iterator[RunningTwin]:
    with start(receiver) as twin:
        twin.add_staff("zhangsan")
        twin.add_staff("lisi")
        yield twin


def customers(twin: RunningTwin, count: int, prefix: str = "wm") -> list[str]:
    ids = []
    for n in range(count):
        ext = f"{prefix}{n:04d}"
        twin.admin.post(
            "/twin/customers/add",
            json={"external_userid": ext, "name": f"客户{n}", "staff_userid": "zhangsan"},
        ).raise_for_status()
        ids.append(ext)
    return ids


def make_group(twin: RunningTwin, members: list[str] = (), name: str = "会员群") -> str:
    response = twin.admin.post(
        "/twin/groups", json={"owner": "zhangsan", "name": name, "members": list(members)}
    )
    assert response.status_code == 201, response.text
    return response.json()["chat_id"]


def join(twin: RunningTwin, **body: object):
    return twin.admin.post("/twin/groups/join", json=body)


def chat_events(twin: RunningTwin, receiver: CallbackReceiver) -> list[dict]:
    twin.wait_for_callbacks()
    fields = [decrypt(c) for c in receiver.received]
    return [f for f in fields if f["Event"] == "change_external_chat"]


def test_groupchat_get_lists_members_with_type_join_scene_invitor_and_name(twin):
    [ext] = customers(twin, 1)
    chat_id = make_group(twin, ["lisi"])
    assert join(
        twin, chat_id=chat_id, external_userid=ext, scene="invite", invitor="lisi"
    ).is_success
    token = twin.token()
    group = twin.call("externalcontact/groupchat/get", token, {"chat_id": chat_id, "need_name": 1})
    assert group["errcode"] == 0
    chat = group["group_chat"]
    assert (chat["owner"], chat["name"], len(chat["member_version"])) == ("zhangsan", "会员群", 32)
    members = {m["userid"]: m for m in chat["member_list"]}
    assert [members[u]["type"] for u in ("zhangsan", "lisi", ext)] == [1, 1, 2]
    assert members[ext]["join_scene"] == 1 and members[ext]["invitor"] == {"userid": "lisi"}
    assert members[ext]["name"] == "客户0"
    plain = twin.call("externalcontact/groupchat/get", token, {"chat_id": chat_id})
    assert "name" not in plain["group_chat"]["member_list"][0]


def test_groupchat_list_filters_by_owner_and_pages_with_limit_1_to_1000(twin):
    make_group(twin, name="A")
    make_group(twin, name="B")
    twin.admin.post("/twin/groups", json={"owner": "lisi", "name": "C"}).raise_for_status()
    token = twin.token()
    first = twin.call("externalcontact/groupchat/list", token, {"limit": 1})
    assert len(first["group_chat_list"]) == 1 and first["next_cursor"]
    mine = twin.call(
        "externalcontact/groupchat/list",
        token,
        {"limit": 1000, "owner_filter": {"userid_list": ["lisi"]}},
    )
    assert len(mine["group_chat_list"]) == 1 and mine["group_chat_list"][0]["status"] == 0
    assert twin.call("externalcontact/groupchat/list", token, {"limit": 1001})["errcode"] == 40058
    assert twin.call("externalcontact/groupchat/list", token, {})["errcode"] == 40058


def test_a_group_of_200_members_cannot_be_joined_by_qr_but_by_invitation(twin):
    exts = customers(twin, 200)
    chat_id = make_group(twin, exts[:199])  # the owner makes 200
    response = join(twin, chat_id=chat_id, external_userid=exts[199], scene="qr")
    assert response.status_code == 409 and "invitations only" in response.json()["error"]
    invited = join(twin, chat_id=chat_id, external_userid=exts[199], scene="invite")
    assert invited.status_code == 200 and invited.json()["member_count"] == 201


def test_a_group_holds_at_most_500_members(receiver):
    with start(receiver, group_max_members=5, group_qr_join_max_members=3) as twin:
        twin.add_staff("zhangsan")
        exts = customers(twin, 5)
        chat_id = make_group(twin, exts[:4])
        response = join(twin, chat_id=chat_id, external_userid=exts[4], scene="invite")
        assert response.status_code == 409 and "full (5)" in response.json()["error"]


def test_a_join_way_creates_a_numbered_group_when_its_groups_are_closed_to_qr(receiver):
    with start(receiver, group_qr_join_max_members=3) as twin:
        twin.add_staff("zhangsan")
        exts = customers(twin, 4)
        chat_id = make_group(twin, exts[:2], name="粉丝群")  # 3 members: closed to QR
        token = twin.token()
        made = twin.call(
            "externalcontact/groupchat/add_join_way",
            token,
            {
                "scene": 2,
                "chat_id_list": [chat_id],
                "room_base_name": "粉丝群",
                "room_base_id": 7,
                "state": "poster",
            },
        )
        assert made["errcode"] == 0
        joined = join(twin, config_id=made["config_id"], external_userid=exts[2]).json()
        assert joined["chat_id"] != chat_id and joined["state"] == "poster"
        way = twin.call(
            "externalcontact/groupchat/get_join_way", token, {"config_id": made["config_id"]}
        )
        assert way["join_way"]["chat_id_list"] == [chat_id, joined["chat_id"]]
        assert way["join_way"]["room_base_id"] == 8 and way["join_way"]["qr_code"]
        group = twin.call("externalcontact/groupchat/get", token, {"chat_id": joined["chat_id"]})
        assert group["group_chat"]["name"] == "粉丝群7"
        member = group["group_chat"]["member_list"][-1]
        assert (member["userid"], member["join_scene"], member["state"]) == (exts[2], 3, "poster")
        kinds = [c["kind"] for c in twin.wait_for_callbacks()]
        assert kinds[-2:] == ["change_external_chat/create", "change_external_chat/update"]


def test_a_join_way_without_auto_create_refuses_qr_joins_once_full(receiver):
    with start(receiver, group_qr_join_max_members=2) as twin:
        twin.add_staff("zhangsan")
        exts = customers(twin, 2)
        chat_id = make_group(twin, exts[:1])
        token = twin.token()
        made = twin.call(
            "externalcontact/groupchat/add_join_way",
            token,
            {"scene": 2, "chat_id_list": [chat_id], "auto_create_room": 0},
        )
        response = join(twin, config_id=made["config_id"], external_userid=exts[1])
        assert response.status_code == 409


def test_join_way_limits_and_update_and_delete(twin):
    token = twin.token()
    chats = [make_group(twin, name=f"g{n}") for n in range(6)]
    add = "externalcontact/groupchat/add_join_way"
    assert twin.call(add, token, {"scene": 2, "chat_id_list": chats})["errcode"] == 40058
    assert twin.call(add, token, {"scene": 3, "chat_id_list": chats[:1]})["errcode"] == 40058
    too_long = {"scene": 2, "chat_id_list": chats[:1], "state": "s" * 31}
    assert twin.call(add, token, too_long)["errcode"] == 40058
    long_name = {"scene": 2, "chat_id_list": chats[:1], "room_base_name": "n" * 41}
    assert twin.call(add, token, long_name)["errcode"] == 40058
    config_id = twin.call(add, token, {"scene": 1, "chat_id_list": chats[:1]})["config_id"]
    way = twin.call("externalcontact/groupchat/get_join_way", token, {"config_id": config_id})
    assert way["join_way"]["auto_create_room"] == 1 and "qr_code" not in way["join_way"]
    update = {"config_id": config_id, "chat_id_list": chats[1:3], "remark": "门店"}
    assert twin.call("externalcontact/groupchat/update_join_way", token, update)["errcode"] == 0
    way = twin.call("externalcontact/groupchat/get_join_way", token, {"config_id": config_id})
    assert (way["join_way"]["chat_id_list"], way["join_way"]["remark"]) == (chats[1:3], "门店")
    gone = {"config_id": config_id}
    assert twin.call("externalcontact/groupchat/del_join_way", token, gone)["errcode"] == 0
    assert twin.call("externalcontact/groupchat/get_join_way", token, gone)["errcode"] == 40058


def test_group_callbacks_are_built_as_wecom_builds_them(twin, receiver):
    [ext] = customers(twin, 1)
    chat_id = make_group(twin)
    join(twin, chat_id=chat_id, external_userid=ext, scene="qr").raise_for_status()
    twin.admin.post(
        "/twin/groups/leave", json={"chat_id": chat_id, "external_userid": ext, "scene": "removed"}
    ).raise_for_status()
    twin.admin.post("/twin/groups/dismiss", json={"chat_id": chat_id}).raise_for_status()
    created, added, removed, dismissed = chat_events(twin, receiver)
    assert (created["ChatId"], created["ChangeType"], created["FromUserName"]) == (
        chat_id,
        "create",
        "sys",
    )
    assert "UpdateDetail" not in created
    assert (added["UpdateDetail"], added["JoinScene"], added["MemChangeCnt"]) == (
        "add_member",
        "3",
        "1",
    )
    assert added["CurMemVer"] != added["LastMemVer"]
    assert (removed["UpdateDetail"], removed["QuitScene"]) == ("del_member", "1")
    assert removed["LastMemVer"] == added["CurMemVer"]
    assert dismissed["ChangeType"] == "dismiss"
    # The platform's own parser reads the member out of <MemChangeList><Item>.
    event = to_domain_event(read_callback(decrypt_xml(receiver.received[2])))
    assert (event.join_scene, event.member_changes, event.member_change_count) == (3, [ext], 1)


def test_an_invited_join_has_join_scene_0_and_leaving_has_quit_scene_0(twin, receiver):
    [ext] = customers(twin, 1)
    chat_id = make_group(twin)
    join(twin, chat_id=chat_id, external_userid=ext, scene="invite").raise_for_status()
    twin.admin.post(
        "/twin/groups/leave", json={"chat_id": chat_id, "external_userid": ext}
    ).raise_for_status()
    _, added, left = chat_events(twin, receiver)
    assert (added["JoinScene"], left["QuitScene"]) == ("0", "0")


def test_api_made_group_changes_fire_no_callback(twin, receiver):
    chat_id = make_group(twin)
    token = twin.token()
    twin.call(
        "externalcontact/groupchat/add_join_way", token, {"scene": 2, "chat_id_list": [chat_id]}
    )
    twin.call(
        "externalcontact/groupchat/onjob_transfer",
        token,
        {"chat_id_list": [chat_id], "new_owner": "lisi"},
    )
    assert [c["kind"] for c in twin.wait_for_callbacks()] == ["change_external_chat/create"]
    group = twin.call("externalcontact/groupchat/get", token, {"chat_id": chat_id})
    assert group["group_chat"]["owner"] == "lisi"


def test_a_dismissed_group_is_gone_from_the_api(twin):
    chat_id = make_group(twin)
    twin.admin.post("/twin/groups/dismiss", json={"chat_id": chat_id}).raise_for_status()
    token = twin.token()
    assert (
        twin.call("externalcontact/groupchat/get", token, {"chat_id": chat_id})["errcode"] == 40050
    )
    listed = twin.call("externalcontact/groupchat/list", token, {"limit": 100})
    assert listed["group_chat_list"] == []


def test_renaming_a_group_changing_its_notice_and_owner_in_the_client_fire_one_update_each(twin, receiver):
    chat_id = make_group(twin)
    twin.admin.post("/twin/groups/edit", json={
        "chat_id": chat_id, "name": "小完子VIP群", "notice": "每晚8点福利", "owner": "lisi",
    }).raise_for_status()
    twin.admin.post("/twin/groups/edit", json={"chat_id": chat_id, "name": "小完子VIP群"}).raise_for_status()
    _, *updates = chat_events(twin, receiver)
    assert [u["UpdateDetail"] for u in updates] == ["change_name", "change_notice", "change_owner"]
    token = twin.token()
    group = twin.call("externalcontact/groupchat/get", token, {"chat_id": chat_id})["group_chat"]
    assert (group["name"], group["notice"], group["owner"]) == ("小完子VIP群", "每晚8点福利", "lisi")
    events = [to_domain_event(read_callback(decrypt_xml(c))) for c in receiver.received[1:]]
    assert [e.update_detail for e in events] == ["change_name", "change_notice", "change_owner"]
