"""The twin as group live codes (群活码) meet it: new WeChat users scan a join way's QR (join
scene 3, the way's state on the member, callbacks as WeCom sends them), WeCom opens numbered
groups and the join way keeps at most 5; QR joins stop at the QR cap and a group is full at its
size; group welcome templates (group_welcome_template/add|edit|get|del) behave as WeCom's."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.simulator.twin import (
    CallbackReceiver,
    RunningTwin,
    callback_receiver,
    running_twin,
    twin_config,
)


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    with callback_receiver() as receiver:
        yield receiver


@pytest.fixture
def twin(receiver: CallbackReceiver) -> Iterator[RunningTwin]:
    config = twin_config(callback_url=receiver.url, group_qr_join_max_members=3, group_max_members=4)
    with running_twin(config) as twin:
        twin.add_staff("zhangsan")
        yield twin


def _way(twin: RunningTwin, **extra: object) -> str:
    chat_id = twin.admin.post("/twin/groups", json={"owner": "zhangsan", "name": "粉丝群1"}).json()["chat_id"]
    made = twin.api("externalcontact/groupchat/add_join_way", {
        "scene": 2, "chat_id_list": [chat_id], "room_base_name": "粉丝群", "room_base_id": 2, "state": "gcposter",
        **extra})
    assert made["errcode"] == 0
    return made["config_id"]


def test_new_wechat_users_scan_a_join_way_into_numbered_groups(twin):
    config_id = _way(twin)
    answer = twin.admin.post("/twin/groups/scan", json={"config_id": config_id, "count": 8}).json()
    assert answer["refused"] == "" and len(answer["joined"]) == 8
    chats = list(dict.fromkeys(j["chat_id"] for j in answer["joined"]))
    names = [twin.api("externalcontact/groupchat/get", {"chat_id": c})["group_chat"]["name"] for c in chats]
    assert names == ["粉丝群1", "粉丝群2", "粉丝群3", "粉丝群4"]  # 2 scans each: owner + 2 = the QR cap of 3
    assert [j["created"] for j in answer["joined"]] == [False, False, True, False, True, False, True, False]
    group = twin.api("externalcontact/groupchat/get", {"chat_id": chats[1]})["group_chat"]
    assert all(m["join_scene"] == 3 and m["state"] == "gcposter" for m in group["member_list"][1:])
    kinds = [c["kind"] for c in twin.wait_for_callbacks()]
    assert kinds.count("change_external_chat/update") == 8 and kinds.count("change_external_chat/create") == 4


def test_the_join_way_keeps_at_most_five_groups(twin):
    config_id = _way(twin)
    twin.admin.post("/twin/groups/scan", json={"config_id": config_id, "count": 14}).raise_for_status()
    way = twin.api("externalcontact/groupchat/get_join_way", {"config_id": config_id})["join_way"]
    assert len(way["chat_id_list"]) == 5 and way["room_base_id"] == 8


def test_without_auto_create_the_scan_is_refused_once_every_group_is_closed(twin):
    config_id = _way(twin, auto_create_room=0)
    answer = twin.admin.post("/twin/groups/scan", json={"config_id": config_id, "count": 5}).json()
    assert len(answer["joined"]) == 2 and "closed to QR joins" in answer["refused"]


def test_a_group_closed_to_qr_still_takes_invitations_until_full(twin):
    config_id = _way(twin, auto_create_room=0)
    joined = twin.admin.post("/twin/groups/scan", json={"config_id": config_id, "count": 2}).json()["joined"]
    chat_id = joined[0]["chat_id"]
    twin.admin.post("/twin/customers/add", json={"external_userid": "wmA", "name": "A", "staff_userid": "zhangsan"})
    twin.admin.post("/twin/customers/add", json={"external_userid": "wmB", "name": "B", "staff_userid": "zhangsan"})
    invite = {"chat_id": chat_id, "scene": "invite"}
    assert twin.admin.post("/twin/groups/join", json=invite | {"external_userid": "wmA"}).status_code == 200
    full = twin.admin.post("/twin/groups/join", json=invite | {"external_userid": "wmB"})
    assert full.status_code == 409 and "full (4)" in full.json()["error"]


def test_the_join_way_qr_is_the_twins_own_image_address(twin):
    config_id = _way(twin)
    way = twin.api("externalcontact/groupchat/get_join_way", {"config_id": config_id})["join_way"]
    assert way["qr_code"] == f"{twin.url}/twin/qr/{config_id}.png"


def test_group_welcome_templates_as_wecom_keeps_them(twin):
    media = twin.admin.post("/cgi-bin/media/upload", params={"access_token": twin.token(), "type": "image"},
                            files={"media": ("c.png", b"\x89PNG fake")}).json()
    made = twin.api("externalcontact/group_welcome_template/add", {
        "text": {"content": "欢迎"}, "miniprogram": {"title": "领券", "pic_media_id": media["media_id"],
                                                   "appid": "wx123", "page": "pages/i"}})
    assert made["errcode"] == 0 and made["template_id"]
    held = twin.api("externalcontact/group_welcome_template/get", {"template_id": made["template_id"]})
    assert held["text"] == {"content": "欢迎"} and held["miniprogram"]["appid"] == "wx123"
    bad_media = {"title": "t", "pic_media_id": "nope", "appid": "wx", "page": "p"}
    edited = twin.api("externalcontact/group_welcome_template/edit",
                      {"template_id": made["template_id"], "miniprogram": bad_media})
    assert edited["errcode"] == 40007
    long_text = twin.api("externalcontact/group_welcome_template/add", {"text": {"content": "欢" * 1400}})
    assert long_text["errcode"] == 40058
    assert twin.api("externalcontact/group_welcome_template/del", {"template_id": made["template_id"]})["errcode"] == 0
    gone = twin.api("externalcontact/group_welcome_template/get", {"template_id": made["template_id"]})
    assert gone["errcode"] == 40058
