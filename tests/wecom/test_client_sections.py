"""The client's methods for WECOM.md §3-§8 beyond the core — groups and join ways, mass
messages, moments, acquisition links, transfers — typed end to end against the twin over HTTP."""

from __future__ import annotations

import pytest

from siyu.wecom.client import (
    Attachment,
    GroupChat,
    JoinWay,
    JoinWaySpec,
    JoinWayUpdate,
    MassMessageSpec,
    MomentSpec,
    WeComError,
)
from tests.wecom.client_support import add_customer

DAY = 24 * 3600

pytestmark = pytest.mark.usefixtures("local_cache")


@pytest.fixture
def client(api_client):
    """In these modules `client` is the WeCom API client, not Django's test client."""
    return api_client


def test_groups_and_join_ways_are_typed(client, api_twin):
    ext = add_customer(api_twin, "wmA")
    chat_id = api_twin.admin.post(
        "/twin/groups", json={"owner": "zhangsan", "name": "会员群", "members": [ext]}
    ).json()["chat_id"]
    page = client.list_groups(owners=["zhangsan"])
    assert [g.chat_id for g in page.group_chat_list] == [chat_id]
    group = client.get_group(chat_id, need_name=True)
    assert isinstance(group, GroupChat)
    assert [(m.userid, m.type, m.name) for m in group.member_list] == [
        ("zhangsan", 1, "zhangsan"),
        (ext, 2, ext),
    ]
    assert group.member_list[1].invitor and group.member_list[1].invitor.userid == "zhangsan"

    config_id = client.add_join_way(
        JoinWaySpec(scene=2, chat_id_list=[chat_id], room_base_name="会员群", state="poster")
    )
    way = client.get_join_way(config_id)
    assert isinstance(way, JoinWay) and way.qr_code and way.auto_create_room == 1
    client.update_join_way(JoinWayUpdate(config_id=config_id, remark="门店"))
    assert client.get_join_way(config_id).remark == "门店"
    client.delete_join_way(config_id)
    with pytest.raises(WeComError) as raised:
        client.add_join_way(JoinWaySpec(scene=2, chat_id_list=[chat_id], state="s" * 31))
    assert raised.value.errcode == 40058

    failed = client.transfer_groups([chat_id, "wrNope"], "lisi")
    assert [f.chat_id for f in failed] == ["wrNope"]
    assert client.get_group(chat_id).owner == "lisi"


def test_a_mass_message_is_typed_from_creation_to_result(client, api_twin):
    ext = add_customer(api_twin, "wmA")
    made = client.add_mass_message(
        MassMessageSpec(
            external_userid=[ext, "wmNobody"],
            sender="zhangsan",
            text="上新啦",
            attachments=[Attachment.of_link("新品", "https://example.com/new")],
        )
    )
    assert made.fail_list == ["wmNobody"]
    with pytest.raises(WeComError) as too_soon:  # WECOM.md §10: not ready straight away
        client.get_mass_message_tasks(made.msgid)
    assert too_soon.value.errcode == 41063
    api_twin.advance(2)
    assert [t.status for t in client.get_mass_message_tasks(made.msgid).task_list] == [0]
    client.remind_mass_message(made.msgid)
    api_twin.admin.post(
        "/twin/mass/confirm", json={"msgid": made.msgid, "userid": "zhangsan"}
    ).raise_for_status()
    [row] = client.get_mass_message_results(made.msgid, "zhangsan").send_list
    assert (row.external_userid, row.status) == (ext, 1) and row.send_time > 0
    now = int(api_twin.state()["now"])
    [listed] = client.list_mass_messages(now - 60, now + 60).group_msg_list
    assert listed.msgid == made.msgid and listed.text and listed.text.content == "上新啦"
    with pytest.raises(WeComError):  # every sender has sent: nothing left to cancel
        client.cancel_mass_message(made.msgid)
    pending = client.add_mass_message(MassMessageSpec(external_userid=[ext], text="再上新"))
    client.cancel_mass_message(pending.msgid)


def test_moments_are_typed_from_upload_to_comments(client, api_twin):
    ext = add_customer(api_twin, "wmA")
    media = client.upload_attachment("image", "poster.jpg", b"\xff\xd8jpeg")
    jobid = client.add_moment_task(
        MomentSpec(
            text="新品",
            attachments=[Attachment.of_image(media.media_id)],
            visible_range={"sender_list": {"user_list": ["zhangsan"]}},
        )
    )
    result = client.get_moment_task_result(jobid)
    assert result.status == 3 and result.result
    moment_id = result.result.moment_id
    ask = {"moment_id": moment_id, "userid": "zhangsan"}
    api_twin.admin.post("/twin/moments/publish", json=ask).raise_for_status()
    api_twin.admin.post(
        "/twin/moments/interact", json=ask | {"external_userid": ext, "kind": "comment"}
    ).raise_for_status()
    assert [t.publish_status for t in client.get_moment_tasks(moment_id).task_list] == [1]
    customers = client.get_moment_customers(moment_id, "zhangsan").customer_list
    assert [c.external_userid for c in customers] == [ext]
    sent = client.get_moment_send_result(moment_id, "zhangsan").customer_list
    assert [c.external_userid for c in sent] == [ext]
    comments = client.get_moment_comments(moment_id, "zhangsan")
    assert [c.external_userid for c in comments.comment_list] == [ext]
    now = int(api_twin.state()["now"])
    [moment] = client.list_moments(now - 60, now + 60).moment_list
    assert moment.moment_id == moment_id and moment.image == [{"media_id": media.media_id}]


def test_an_acquisition_link_is_typed(client, api_twin):
    link = client.create_acquisition_link("直播间", users=["lisi"])
    assert link.link_id and link.url
    added = api_twin.admin.post(
        "/twin/customers/add",
        json={"name": "x", "link_id": link.link_id, "customer_channel": "live01"},
    ).json()
    assert added["state"] == "live01"


def test_transfers_are_typed_on_job_and_resigned(client, api_twin):
    a, b = add_customer(api_twin, "wmA"), add_customer(api_twin, "wmB")
    outcomes = client.transfer_customers("zhangsan", "lisi", [a, "wmStranger"])
    assert [(o.external_userid, o.errcode) for o in outcomes] == [(a, 0), ("wmStranger", 84061)]
    assert [s.status for s in client.transfer_result("zhangsan", "lisi").customer] == [2]
    api_twin.advance(DAY + 1)
    [done] = client.transfer_result("zhangsan", "lisi").customer
    assert (done.status, done.takeover_time > 0) == (1, True)

    api_twin.admin.post("/twin/staff/resign", json={"userid": "zhangsan"}).raise_for_status()
    assert [u.external_userid for u in client.list_unassigned().info] == [b]
    client.transfer_customers("zhangsan", "lisi", [b], resigned=True)
    assert client.list_unassigned().info == []
    [waiting] = client.transfer_result("zhangsan", "lisi", resigned=True).customer
    assert waiting.status == 2


def test_close_temp_chat_is_a_method(client, api_twin):
    ext = add_customer(api_twin, "wmA")
    client.close_temp_chat("zhangsan", ext)
    with pytest.raises(WeComError) as raised:
        client.close_temp_chat("lisi", ext)
    assert raised.value.errcode == 84061
