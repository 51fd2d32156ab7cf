"""应用消息 in the twin (WECOM.md §10): `message/send` to staff, its invalid users, its
per-member limits (the excess dropped silently) and the app's daily quota."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.simulator.twin import RunningTwin, running_twin, twin_config

SEND = "message/send"
AGENT = twin_config().agent_id


@pytest.fixture
def twin() -> Iterator[RunningTwin]:
    with running_twin(twin_config()) as twin:
        twin.add_staff("zhangsan")
        twin.add_staff("lisi")
        yield twin


def text(touser: str, content: str = "请确认群发", **body: object) -> dict:
    return {
        "touser": touser,
        "msgtype": "text",
        "agentid": AGENT,
        "text": {"content": content},
    } | body


def notices(twin: RunningTwin, userid: str = "") -> dict:
    response = twin.admin.get("/twin/notices", params={"userid": userid} if userid else {})
    response.raise_for_status()
    return response.json()


def test_a_notice_reaches_the_members_named_and_names_the_invalid_ones(twin):
    answer = twin.api(SEND, text("zhangsan|Ghost"))
    assert answer["errcode"] == 0 and answer["invaliduser"] == "ghost" and answer["msgid"]
    [notice] = notices(twin, "zhangsan")["notices"]
    assert (notice["msgtype"], notice["content"], notice["msgid"]) == (
        "text",
        {"content": "请确认群发"},
        answer["msgid"],
    )
    assert notices(twin, "lisi")["notices"] == []


def test_at_all_reaches_every_active_member(twin):
    twin.admin.post("/twin/staff/resign", json={"userid": "lisi"}).raise_for_status()
    twin.add_staff("wangwu")
    assert twin.api(SEND, text("@all"))["invaliduser"] == ""
    assert {n["userid"] for n in notices(twin)["notices"]} == {"zhangsan", "wangwu"}


def test_nobody_valid_is_an_error(twin):
    assert twin.api(SEND, text("ghost"))["errcode"] == 81013
    assert notices(twin)["notices"] == []


def test_the_agentid_and_the_content_are_checked(twin):
    assert twin.api(SEND, text("zhangsan", agentid="999"))["errcode"] == 40056
    assert twin.api(SEND, text("zhangsan", content=""))["errcode"] == 44004
    assert twin.api(SEND, text("zhangsan", msgtype="fax"))["errcode"] == 40058
    card = {"title": "群发待确认", "description": "3 条群发等你确认", "url": "https://e.com/m"}
    body = {"touser": "zhangsan", "msgtype": "textcard", "agentid": AGENT, "textcard": card}
    assert twin.api(SEND, body)["errcode"] == 0
    markdown = {
        "touser": "zhangsan",
        "msgtype": "markdown",
        "agentid": AGENT,
        "markdown": {"content": "**" + "字" * 1000 + "**"},
    }
    assert twin.api(SEND, markdown)["errcode"] == 0
    kept = notices(twin, "zhangsan")["notices"][-1]["content"]["content"]
    assert len(kept.encode()) <= 2048  # WeCom truncates past 2048 bytes


def test_a_member_gets_30_a_minute_and_the_excess_is_dropped_silently(twin):
    codes = {twin.api(SEND, text("zhangsan", f"第{n}条"))["errcode"] for n in range(32)}
    assert codes == {0}
    seen = notices(twin, "zhangsan")
    assert (len(seen["notices"]), seen["dropped"]) == (30, 2)
    twin.advance(61)
    twin.api(SEND, text("zhangsan"))
    assert len(notices(twin, "zhangsan")["notices"]) == 31


def test_a_member_gets_at_most_1000_an_hour():
    config = twin_config(notices_per_member_per_minute=1000, notices_per_member_per_hour=3)
    with running_twin(config) as twin:
        twin.add_staff("zhangsan")
        for _ in range(4):
            assert twin.api(SEND, text("zhangsan"))["errcode"] == 0
        assert notices(twin, "zhangsan")["dropped"] == 1
        twin.advance(3601)
        twin.api(SEND, text("zhangsan"))
        assert len(notices(twin, "zhangsan")["notices"]) == 4


def test_the_app_is_blocked_for_the_day_past_licences_times_200():
    with running_twin(twin_config(licences=1, notice_person_times_per_licence=3)) as twin:
        twin.add_staff("zhangsan")
        twin.add_staff("lisi")
        assert twin.api(SEND, text("zhangsan|lisi"))["errcode"] == 0  # 2 person-times
        assert twin.api(SEND, text("zhangsan|lisi"))["errcode"] == 45009  # 4 > 3
        assert twin.api(SEND, text("zhangsan"))["errcode"] == 45009  # blocked for the day
        twin.advance(24 * 3600)
        assert twin.api(SEND, text("zhangsan"))["errcode"] == 0


def test_an_image_notice_needs_a_live_media_id(twin):
    media_id = twin.admin.post(
        "/cgi-bin/media/upload",
        params={"access_token": twin.token(), "type": "image"},
        files={"media": ("a.png", b"\x89PNG-image")},
    ).json()["media_id"]
    body = {
        "touser": "zhangsan",
        "msgtype": "image",
        "agentid": AGENT,
        "image": {"media_id": media_id},
    }
    assert twin.api(SEND, body)["errcode"] == 0
    twin.advance(3 * 24 * 3600 + 1)
    assert twin.api(SEND, body)["errcode"] == 40007


def test_the_state_page_shows_notices(twin):
    twin.api(SEND, text("zhangsan", "今晚8点直播"))
    assert "今晚8点直播" in twin.admin.get("/twin/").text
