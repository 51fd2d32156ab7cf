"""The WeCom twin keeps WeCom's rules (WECOM.md §0-§3), checked over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs

import pytest

from siyu.wecom.crypto import CallbackCipher, parse_xml
from tests.simulator.twin import (
    AES_KEY,
    CORP_ID,
    SECRET,
    TOKEN,
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
    with running_twin(twin_config(callback_url=receiver.url)) as twin:
        twin.add_staff("zhangsan", capacity=5000)
        twin.add_staff("lisi")
        yield twin


def add_customer(twin: RunningTwin, **body: object) -> dict:
    response = twin.admin.post("/twin/customers/add", json={"name": "王小雨", **body})
    assert response.status_code == 201, response.text
    return response.json()


def decrypt(receiver_capture) -> dict[str, str]:
    query = {k: v[0] for k, v in parse_qs(receiver_capture.query).items()}
    cipher = CallbackCipher(TOKEN, AES_KEY, CORP_ID)
    inner = cipher.decrypt_event(
        query["msg_signature"], query["timestamp"], query["nonce"], receiver_capture.body
    )
    return parse_xml(inner, 64 * 1024)


# --- access tokens ---------------------------------------------------------------------------


def test_gettoken_issues_a_token_valid_for_7200_seconds(twin):
    data = twin.admin.get(
        "/cgi-bin/gettoken", params={"corpid": CORP_ID, "corpsecret": SECRET}
    ).json()
    assert data["errcode"] == 0 and data["expires_in"] == 7200
    assert twin.call("user/get", data["access_token"], userid="zhangsan")["errcode"] == 0


def test_wrong_secret_is_40001(twin):
    data = twin.admin.get(
        "/cgi-bin/gettoken", params={"corpid": CORP_ID, "corpsecret": "nope"}
    ).json()
    assert data["errcode"] == 40001 and "access_token" not in data


def test_missing_token_is_41001(twin):
    assert (
        twin.admin.get("/cgi-bin/user/get", params={"userid": "zhangsan"}).json()["errcode"]
        == 41001
    )


def test_unknown_token_is_40014(twin):
    assert twin.call("user/get", "made-up", userid="zhangsan")["errcode"] == 40014


def test_token_expires_on_the_twins_clock(twin):
    token = twin.token()
    twin.advance(7199)
    assert twin.call("user/get", token, userid="zhangsan")["errcode"] == 0
    twin.advance(2)
    assert twin.call("user/get", token, userid="zhangsan")["errcode"] == 42001
    assert twin.token() != token


def test_invalidated_token_is_40014_and_a_new_one_is_issued(twin):
    token = twin.token()
    assert twin.token() == token  # a repeated gettoken within validity returns the same token
    assert twin.admin.post("/twin/tokens/invalidate", json={}).json() == {"revoked": 1}
    assert twin.call("user/get", token, userid="zhangsan")["errcode"] == 40014
    fresh = twin.token()
    assert fresh != token
    assert twin.call("user/get", fresh, userid="zhangsan")["errcode"] == 0


def test_breaking_the_rate_limit_blocks_the_api_with_45009_for_a_minute():
    with running_twin(twin_config(rate_limit_per_minute=3)) as twin:
        twin.add_staff("zhangsan")
        token = twin.token()
        codes = [twin.call("user/get", token, userid="zhangsan")["errcode"] for _ in range(4)]
        assert codes == [0, 0, 0, 45009]
        # The limit is per API: another API still answers.
        assert twin.call("department/list", token)["errcode"] == 0
        twin.advance(30)
        assert twin.call("user/get", token, userid="zhangsan")["errcode"] == 45009
        twin.advance(31)
        assert twin.call("user/get", token, userid="zhangsan")["errcode"] == 0


def test_a_post_api_called_with_get_is_refused(twin):
    assert twin.call("externalcontact/add_contact_way", twin.token())["errcode"] == 43002


# --- staff -----------------------------------------------------------------------------------


def test_staff_apis_list_ids_details_and_departments(twin):
    token = twin.token()
    listed = twin.call("user/list_id", token, json={"limit": 1})
    assert listed["dept_user"] == [{"userid": "lisi", "department": 1}] and listed["next_cursor"]
    rest = twin.call("user/list_id", token, json={"cursor": listed["next_cursor"], "limit": 1})
    assert (
        rest["dept_user"] == [{"userid": "zhangsan", "department": 1}] and rest["next_cursor"] == ""
    )
    assert twin.call("user/get", token, userid="lisi")["department"] == [1]
    assert twin.call("user/get", token, userid="nobody")["errcode"] == 40003
    assert [d["id"] for d in twin.call("department/list", token)["department"]] == [1]


# --- contact ways ----------------------------------------------------------------------------


def test_a_state_longer_than_30_characters_is_refused(twin):
    token = twin.token()
    body = {"type": 1, "scene": 2, "user": ["zhangsan"], "state": "s" * 31}
    data = twin.call("externalcontact/add_contact_way", token, json=body)
    assert (data["errcode"], data["errmsg"]) == (40058, "invalid state")
    body["state"] = "s" * 30
    assert twin.call("externalcontact/add_contact_way", token, json=body)["errcode"] == 0


def test_a_single_member_contact_way_needs_exactly_one_user(twin):
    token = twin.token()
    body = {"type": 1, "scene": 2, "user": ["zhangsan", "lisi"]}
    assert twin.call("externalcontact/add_contact_way", token, json=body)["errcode"] == 40058
    body = {"type": 1, "scene": 2, "user": ["zhangsan"], "remark": "r" * 31}
    assert twin.call("externalcontact/add_contact_way", token, json=body)["errcode"] == 40058


def test_contact_way_lifecycle_and_update_replaces_the_users(twin):
    token = twin.token()
    made = twin.call(
        "externalcontact/add_contact_way",
        token,
        json={"type": 2, "scene": 2, "user": ["zhangsan"], "state": "store"},
    )
    assert made["qr_code"] == f"{twin.url}/twin/qr/{made['config_id']}.png"
    config_id = made["config_id"]
    mini = twin.call(
        "externalcontact/add_contact_way", token, json={"type": 2, "scene": 1, "user": ["lisi"]}
    )
    assert "qr_code" not in mini

    assert (
        twin.call(
            "externalcontact/update_contact_way",
            token,
            json={"config_id": config_id, "user": ["lisi"]},
        )["errcode"]
        == 0
    )
    way = twin.call("externalcontact/get_contact_way", token, json={"config_id": config_id})[
        "contact_way"
    ]
    assert way["user"] == ["lisi"] and way["state"] == "store"

    listed = twin.call("externalcontact/list_contact_way", token, json={"limit": 1})
    assert len(listed["contact_way"]) == 1 and listed["next_cursor"]
    assert (
        twin.call("externalcontact/del_contact_way", token, json={"config_id": config_id})[
            "errcode"
        ]
        == 0
    )
    assert (
        twin.call("externalcontact/get_contact_way", token, json={"config_id": config_id})[
            "errcode"
        ]
        == 40058
    )


def test_a_customer_added_by_contact_way_reaches_its_staff_with_its_state(twin):
    token = twin.token()
    config_id = twin.call(
        "externalcontact/add_contact_way",
        token,
        json={"type": 2, "scene": 2, "user": ["zhangsan", "lisi"], "state": "ads"},
    )["config_id"]
    first = add_customer(twin, config_id=config_id)
    second = add_customer(twin, config_id=config_id)
    assert {first["userid"], second["userid"]} == {"zhangsan", "lisi"}
    assert first["state"] == "ads"
    detail = twin.call("externalcontact/get", token, external_userid=first["external_userid"])
    assert detail["follow_user"][0]["state"] == "ads"


# --- welcome messages ------------------------------------------------------------------------


def test_a_welcome_code_works_once_and_the_customer_receives_the_message(twin):
    token = twin.token()
    added = add_customer(twin, staff_userid="zhangsan")
    body = {
        "welcome_code": added["welcome_code"],
        "text": {"content": "欢迎!"},
        "attachments": [{"msgtype": "link", "link": {"title": "t", "url": "https://example.com"}}],
    }
    assert twin.call("externalcontact/send_welcome_msg", token, json=body)["errcode"] == 0
    assert twin.call("externalcontact/send_welcome_msg", token, json=body)["errcode"] == 41051
    [message] = twin.state()["messages"]
    assert message["external_userid"] == added["external_userid"] and message["text"] == "欢迎!"
    assert message["received_at"] > 0


def test_a_welcome_code_expires_after_the_window(twin):
    added = add_customer(twin, staff_userid="zhangsan")
    twin.advance(21)
    body = {"welcome_code": added["welcome_code"], "text": {"content": "hi"}}
    assert (
        twin.call("externalcontact/send_welcome_msg", twin.token(), json=body)["errcode"] == 41051
    )
    assert twin.state()["messages"] == []


def test_welcome_text_and_attachments_have_limits(twin):
    token = twin.token()
    code = add_customer(twin, staff_userid="zhangsan")["welcome_code"]
    too_long = {"welcome_code": code, "text": {"content": "字" * 1334}}  # 4002 bytes in UTF-8
    assert twin.call("externalcontact/send_welcome_msg", token, json=too_long)["errcode"] == 45002
    media_id = twin.admin.post(
        "/cgi-bin/media/upload",
        params={"access_token": token, "type": "image"},
        files={"media": ("a.png", b"\x89PNG-image")},
    ).json()["media_id"]
    image = {"msgtype": "image", "image": {"media_id": media_id}}
    too_many = {"welcome_code": code, "attachments": [image] * 10}
    assert twin.call("externalcontact/send_welcome_msg", token, json=too_many)["errcode"] == 40058
    # A refused message does not spend the code.
    fine = {"welcome_code": code, "attachments": [image] * 9}
    assert twin.call("externalcontact/send_welcome_msg", token, json=fine)["errcode"] == 0


# --- customers -------------------------------------------------------------------------------


def test_a_full_staff_account_cannot_take_another_customer(twin):
    twin.add_staff("wangwu", capacity=2)
    add_customer(twin, staff_userid="wangwu")
    add_customer(twin, staff_userid="wangwu")
    response = twin.admin.post("/twin/customers/add", json={"name": "x", "staff_userid": "wangwu"})
    assert response.status_code == 409 and "capacity" in response.json()["error"]
    assert (
        len(twin.call("externalcontact/list", twin.token(), userid="wangwu")["external_userid"])
        == 2
    )


def test_batch_get_by_user_pages_with_a_cursor_up_to_100(twin):
    token = twin.token()
    for _ in range(3):
        add_customer(twin, staff_userid="zhangsan")
    page = twin.call(
        "externalcontact/batch/get_by_user", token, json={"userid_list": ["zhangsan"], "limit": 2}
    )
    assert len(page["external_contact_list"]) == 2 and page["next_cursor"]
    rest = twin.call(
        "externalcontact/batch/get_by_user",
        token,
        json={"userid_list": ["zhangsan"], "limit": 2, "cursor": page["next_cursor"]},
    )
    assert len(rest["external_contact_list"]) == 1 and rest["next_cursor"] == ""
    assert rest["external_contact_list"][0]["follow_info"]["userid"] == "zhangsan"
    too_big = twin.call(
        "externalcontact/batch/get_by_user", token, json={"userid_list": ["zhangsan"], "limit": 101}
    )
    assert too_big["errcode"] == 40058


def test_remark_limits_and_mobiles_overwrite(twin):
    token = twin.token()
    ext = add_customer(twin, staff_userid="zhangsan")["external_userid"]
    base = {"userid": "zhangsan", "external_userid": ext}
    assert (
        twin.call("externalcontact/remark", token, json=base | {"remark": "r" * 21})["errcode"]
        == 40058
    )
    assert (
        twin.call("externalcontact/remark", token, json=base | {"description": "d" * 151})[
            "errcode"
        ]
        == 40058
    )
    ok = base | {"remark": "r" * 20, "remark_mobiles": ["13800000000"]}
    assert twin.call("externalcontact/remark", token, json=ok)["errcode"] == 0
    assert (
        twin.call("externalcontact/remark", token, json=base | {"remark_mobiles": [""]})["errcode"]
        == 0
    )
    follow = twin.call("externalcontact/get", token, external_userid=ext)["follow_user"][0]
    assert follow["remark"] == "r" * 20 and follow["remark_mobiles"] == []
    stranger = {"userid": "lisi", "external_userid": ext, "remark": "x"}
    assert twin.call("externalcontact/remark", token, json=stranger)["errcode"] == 84061


# --- tags ------------------------------------------------------------------------------------


def test_corp_tags_add_edit_mark_and_delete(twin):
    token = twin.token()
    ext = add_customer(twin, staff_userid="zhangsan")["external_userid"]
    group = twin.call(
        "externalcontact/add_corp_tag",
        token,
        json={"group_name": "兴趣", "tag": [{"name": "护肤"}, {"name": "彩妆"}]},
    )["tag_group"]
    skin, makeup = (t["id"] for t in group["tag"])
    same_group = twin.call(
        "externalcontact/add_corp_tag",
        token,
        json={"group_name": "兴趣", "tag": [{"name": "香水"}]},
    )
    assert same_group["tag_group"]["group_id"] == group["group_id"]
    duplicate = twin.call(
        "externalcontact/add_corp_tag",
        token,
        json={"group_id": group["group_id"], "tag": [{"name": "护肤"}]},
    )
    assert duplicate["errcode"] == 40071

    assert (
        twin.call("externalcontact/edit_corp_tag", token, json={"id": skin, "name": "护肤品"})[
            "errcode"
        ]
        == 0
    )
    only = twin.call("externalcontact/get_corp_tag_list", token, json={"tag_id": [skin]})[
        "tag_group"
    ]
    assert [t["name"] for t in only[0]["tag"]] == ["护肤品"]

    mark = {"userid": "zhangsan", "external_userid": ext, "add_tag": [skin, makeup]}
    assert twin.call("externalcontact/mark_tag", token, json=mark)["errcode"] == 0
    assert (
        twin.call("externalcontact/mark_tag", token, json=mark | {"add_tag": ["etNOPE"]})["errcode"]
        == 40068
    )
    assert (
        twin.call("externalcontact/del_corp_tag", token, json={"tag_id": [makeup]})["errcode"] == 0
    )
    tags = twin.call("externalcontact/get", token, external_userid=ext)["follow_user"][0]["tags"]
    assert [(t["group_name"], t["tag_name"]) for t in tags] == [("兴趣", "护肤品")]


# --- callbacks -------------------------------------------------------------------------------


def test_a_customer_add_delivers_an_encrypted_add_external_contact_callback(twin, receiver):
    added = add_customer(twin, staff_userid="zhangsan", state="poster01")
    [delivery] = twin.wait_for_callbacks()
    assert delivery["status"] == "delivered" and [a["outcome"] for a in delivery["attempts"]] == [
        "ok"
    ]
    [captured] = receiver.received
    assert captured.path == "/wecom/callback/alpha/"
    envelope = parse_xml(captured.body, 64 * 1024)
    assert envelope["ToUserName"] == CORP_ID and envelope["AgentID"] == "1000002"
    fields = decrypt(captured)
    assert fields == {
        "ToUserName": CORP_ID,
        "FromUserName": "sys",
        "CreateTime": fields["CreateTime"],
        "MsgType": "event",
        "Event": "change_external_contact",
        "ChangeType": "add_external_contact",
        "UserID": "zhangsan",
        "ExternalUserID": added["external_userid"],
        "State": "poster01",
        "WelcomeCode": added["welcome_code"],
    }
    assert int(fields["CreateTime"]) > 1_700_000_000


def test_a_customer_deleting_staff_delivers_del_follow_user(twin, receiver):
    ext = add_customer(twin, staff_userid="lisi", welcome=False)["external_userid"]
    response = twin.admin.post(
        "/twin/customers/delete-staff", json={"external_userid": ext, "staff_userid": "lisi"}
    )
    assert response.status_code == 200
    twin.wait_for_callbacks()
    added, deleted = (decrypt(c) for c in receiver.received)
    assert "WelcomeCode" not in added
    assert (deleted["ChangeType"], deleted["UserID"], deleted["ExternalUserID"]) == (
        "del_follow_user",
        "lisi",
        ext,
    )
    assert twin.call("externalcontact/list", twin.token(), userid="lisi")["external_userid"] == []


def test_api_made_changes_deliver_no_callback(twin, receiver):
    token = twin.token()
    ext = add_customer(twin, staff_userid="zhangsan")["external_userid"]
    twin.wait_for_callbacks()
    tag = twin.call(
        "externalcontact/add_corp_tag", token, json={"group_name": "g", "tag": [{"name": "t"}]}
    )
    tag_id = tag["tag_group"]["tag"][0]["id"]
    way = twin.call(
        "externalcontact/add_contact_way", token, json={"type": 1, "scene": 2, "user": ["zhangsan"]}
    )
    for name, body in [
        (
            "externalcontact/mark_tag",
            {"userid": "zhangsan", "external_userid": ext, "add_tag": [tag_id]},
        ),
        ("externalcontact/update_contact_way", {"config_id": way["config_id"], "user": ["lisi"]}),
        ("externalcontact/remark", {"userid": "zhangsan", "external_userid": ext, "remark": "VIP"}),
    ]:
        assert twin.call(name, token, json=body)["errcode"] == 0
    assert len(twin.wait_for_callbacks()) == 1
    assert len(receiver.received) == 1


def test_a_slow_receiver_makes_the_twin_try_three_times_in_all():
    with (
        callback_receiver(delay=0.6) as slow,
        running_twin(twin_config(callback_url=slow.url, callback_timeout_seconds=0.2)) as twin,
    ):
        twin.add_staff("zhangsan")
        response = twin.admin.post(
            "/twin/customers/add", json={"name": "x", "staff_userid": "zhangsan"}
        )
        assert response.status_code == 201  # answered at once, before any delivery finished
        [delivery] = twin.wait_for_callbacks()
        assert delivery["status"] == "failed"
        assert [a["outcome"] for a in delivery["attempts"]] == ["timeout"] * 3
        assert len(slow.received) == 3
        # Every attempt carries the same event.
        assert len({decrypt(c)["CreateTime"] for c in slow.received}) == 1


def test_a_non_200_answer_is_retried_until_the_receiver_answers_200():
    with (
        callback_receiver(statuses=[500]) as flaky,
        running_twin(twin_config(callback_url=flaky.url)) as twin,
    ):
        twin.add_staff("zhangsan")
        add_customer(twin, staff_userid="zhangsan")
        [delivery] = twin.wait_for_callbacks()
        assert delivery["status"] == "delivered"
        assert [a["outcome"] for a in delivery["attempts"]] == ["http 500", "ok"]
