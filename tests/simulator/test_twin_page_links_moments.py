"""The twin's inspection page (`GET /twin/`), acquisition links (WECOM.md §7) and moments (§6)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.simulator.test_twin_rules import decrypt
from tests.simulator.twin import CallbackReceiver, RunningTwin, callback_receiver, running_twin
from tests.simulator.twin import twin_config as make_config


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    with callback_receiver() as receiver:
        yield receiver


@pytest.fixture
def twin(receiver: CallbackReceiver) -> Iterator[RunningTwin]:
    with running_twin(make_config(callback_url=receiver.url)) as twin:
        twin.add_staff("zhangsan", capacity=300)
        twin.add_staff("lisi")
        yield twin


def add(twin: RunningTwin, **body: object) -> dict:
    response = twin.admin.post("/twin/customers/add", json={"name": "王小雨", **body})
    assert response.status_code == 201, response.text
    return response.json()


# --- the page --------------------------------------------------------------------------------


def test_the_page_shows_staff_capacity_groups_messages_and_callbacks(twin):
    ext = add(twin, staff_userid="zhangsan", city="上海")["external_userid"]
    twin.admin.post("/twin/groups", json={"owner": "zhangsan", "name": "会员群", "members": [ext]})
    response = twin.admin.get("/twin/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "<script" not in html
    assert "1 / 300" in html  # zhangsan's friends / capacity
    assert "city=上海" in html and "会员群" in html
    assert "change_external_contact/add_external_contact" in html
    assert "change_external_chat/create" in html
    assert twin.state()["groups"][0]["member_count"] == 2  # the JSON state still answers


def test_the_page_escapes_what_people_typed(twin):
    add(twin, staff_userid="zhangsan", name="<script>alert(1)</script>")
    html = twin.admin.get("/twin/").text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- acquisition links -----------------------------------------------------------------------


def test_an_acquisition_links_customer_channel_comes_back_as_the_state(twin, receiver):
    made = twin.api(
        "externalcontact/customer_acquisition/create_link",
        {"link_name": "直播间", "range": {"user_list": ["lisi"]}, "skip_verify": True},
    )
    assert made["errcode"] == 0 and made["link"]["url"].startswith("https://")
    added = add(twin, link_id=made["link"]["link_id"], customer_channel="douyin_live_0612")
    assert (added["userid"], added["state"]) == ("lisi", "douyin_live_0612")
    twin.wait_for_callbacks()
    assert decrypt(receiver.received[-1])["State"] == "douyin_live_0612"
    too_long = twin.admin.post(
        "/twin/customers/add",
        json={"name": "x", "link_id": made["link"]["link_id"], "customer_channel": "渠" * 22},
    )
    assert too_long.status_code == 400  # 66 bytes: WECOM.md §7 allows 64


def test_an_acquisition_link_needs_a_range(twin):
    assert (
        twin.api(
            "externalcontact/customer_acquisition/create_link", {"link_name": "x", "range": {}}
        )["errcode"]
        == 40058
    )


# --- moments ---------------------------------------------------------------------------------


def upload(twin: RunningTwin, media_type: str = "image") -> str:
    data = twin.admin.post(
        "/cgi-bin/media/upload_attachment",
        params={"access_token": twin.token(), "media_type": media_type, "attachment_type": "1"},
        files={"media": ("a.jpg", b"\xff\xd8jpeg")},
    ).json()
    assert data["errcode"] == 0, data
    return data["media_id"]


def test_a_moment_is_seen_by_customers_once_published_and_collects_likes(twin):
    ext = add(twin, staff_userid="zhangsan")["external_userid"]
    image = {"msgtype": "image", "image": {"media_id": upload(twin)}}
    job = twin.api(
        "externalcontact/add_moment_task",
        {
            "text": {"content": "新品"},
            "attachments": [image],
            "visible_range": {"sender_list": {"user_list": ["zhangsan"]}},
        },
    )
    result = twin.api("externalcontact/get_moment_task_result", jobid=job["jobid"])
    assert result["status"] == 3
    moment_id = result["result"]["moment_id"]
    ask = {"moment_id": moment_id, "userid": "zhangsan"}
    assert twin.api("externalcontact/get_moment_send_result", ask)["customer_list"] == []
    tasks = twin.api("externalcontact/get_moment_task", {"moment_id": moment_id})
    assert tasks["task_list"] == [{"userid": "zhangsan", "publish_status": 0}]
    twin.admin.post("/twin/moments/publish", json=ask).raise_for_status()
    sent = twin.api("externalcontact/get_moment_send_result", ask)["customer_list"]
    assert sent == [{"external_userid": ext}]
    twin.admin.post(
        "/twin/moments/interact", json=ask | {"external_userid": ext, "kind": "like"}
    ).raise_for_status()
    comments = twin.api("externalcontact/get_moment_comments", ask)
    assert [c["external_userid"] for c in comments["like_list"]] == [ext]
    assert comments["comment_list"] == []


def test_moment_attachments_are_9_images_or_1_video_or_1_link_never_mixed(twin):
    images = [{"msgtype": "image", "image": {"media_id": upload(twin)}} for _ in range(10)]
    link = {"msgtype": "link", "link": {"title": "t", "url": "https://e.com"}}
    task = "externalcontact/add_moment_task"
    assert twin.api(task, {"attachments": images[:9]})["errcode"] == 0
    assert twin.api(task, {"attachments": images})["errcode"] == 40058
    assert twin.api(task, {"attachments": [images[0], link]})["errcode"] == 40058
    assert twin.api(task, {"attachments": [link, link]})["errcode"] == 40058
    assert twin.api(task, {"text": {"content": "字" * 2001}})["errcode"] == 40058


def test_uploaded_media_expires_after_3_days(twin):
    image = {"msgtype": "image", "image": {"media_id": upload(twin)}}
    twin.advance(3 * 24 * 3600 + 1)
    assert twin.api("externalcontact/add_moment_task", {"attachments": [image]})["errcode"] == 40007


def test_the_moment_list_spans_at_most_30_days_and_20_a_page(twin):
    twin.api("externalcontact/add_moment_task", {"text": {"content": "hi"}})
    now = int(twin.state()["now"])
    listing = "externalcontact/get_moment_list"
    listed = twin.api(listing, {"start_time": now - 60, "end_time": now + 60})
    assert [m["text"]["content"] for m in listed["moment_list"]] == ["hi"]
    assert twin.api(listing, {"start_time": now - 31 * 86400, "end_time": now})["errcode"] == 40058
    over = {"start_time": now - 60, "end_time": now, "limit": 21}
    assert twin.api(listing, over)["errcode"] == 40058


def test_close_temp_chat_needs_a_friendship(twin):
    ext = add(twin, staff_userid="zhangsan")["external_userid"]
    body = {"userid": "zhangsan", "external_userid": ext}
    assert twin.api("externalcontact/close_temp_chat", body)["errcode"] == 0
    body["userid"] = "lisi"
    assert twin.api("externalcontact/close_temp_chat", body)["errcode"] == 84061
