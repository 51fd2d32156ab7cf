"""The client's `media/upload` and `message/send` (应用消息, WECOM.md §10), typed end to end
against the twin over HTTP."""

from __future__ import annotations

import pytest

from siyu.wecom.client import (
    Attachment,
    MassMessageSpec,
    NoticeCard,
    StaffNoticeSent,
    StaffNoticeSpec,
    WeComError,
)
from tests.wecom.client_support import add_customer

pytestmark = pytest.mark.usefixtures("local_cache")


@pytest.fixture
def client(api_client):
    """In these modules `client` is the WeCom API client, not Django's test client."""
    return api_client


def notices(api_twin, userid: str) -> list[dict]:
    return api_twin.admin.get("/twin/notices", params={"userid": userid}).json()["notices"]


def test_a_text_notice_reaches_the_member_and_names_the_unknown_ones(client, api_twin):
    sent = client.send_notice(StaffNoticeSpec(touser=["zhangsan", "ghost"], content="请确认群发"))
    assert isinstance(sent, StaffNoticeSent) and sent.msgid
    assert sent.invalid_users == ["ghost"]
    [notice] = notices(api_twin, "zhangsan")
    assert notice["content"] == {"content": "请确认群发"} and notice["msgid"] == sent.msgid


def test_a_textcard_notice_and_everyone(client, api_twin):
    card = NoticeCard(title="群发待确认", description="3 条群发等你确认", url="https://e.com/m")
    client.send_notice(StaffNoticeSpec(touser=["@all"], msgtype="textcard", textcard=card))
    for userid in ("zhangsan", "lisi"):
        [notice] = notices(api_twin, userid)
        assert notice["msgtype"] == "textcard" and notice["content"]["title"] == "群发待确认"


def test_a_notice_to_nobody_valid_is_refused(client):
    with pytest.raises(WeComError) as refused:
        client.send_notice(StaffNoticeSpec(touser=["ghost"], content="x"))
    assert refused.value.errcode == 81013


def test_uploaded_media_serves_mass_messages_until_it_expires(client, api_twin):
    ext = add_customer(api_twin, "wmA")
    media = client.upload_media("image", "poster.png", b"\x89PNG poster")
    assert media.type == "image" and media.media_id and int(media.created_at) > 0
    spec = MassMessageSpec(
        external_userid=[ext], sender="zhangsan", attachments=[Attachment.of_image(media.media_id)]
    )
    assert client.add_mass_message(spec).msgid
    client.send_notice(
        StaffNoticeSpec(touser=["zhangsan"], msgtype="image", media_id=media.media_id)
    )
    assert notices(api_twin, "zhangsan")[0]["content"] == {"media_id": media.media_id}
    api_twin.advance(3 * 24 * 3600 + 1)
    with pytest.raises(WeComError) as expired:
        client.add_mass_message(spec)
    assert expired.value.errcode == 40007
