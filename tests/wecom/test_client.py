"""The WeCom API client against the WeCom twin over real HTTP: tokens, retries, limits, the call
log and typed answers."""

from __future__ import annotations

import pytest

from siyu.wecom.client import (
    Attachment,
    ClientOptions,
    ContactWay,
    ContactWayCreated,
    ContactWaySpec,
    ContactWayUpdate,
    CustomerDetail,
    NewTag,
    WeComClient,
    WeComError,
    WeComUnavailable,
)
from siyu.wecom.models import ApiCall
from tests.conftest import free_port
from tests.simulator.twin import (
    SECRET,
    running_twin,
    twin_config,
)
from tests.wecom.client_support import BACKOFF, calls, connect

# --- tokens ----------------------------------------------------------------------------------

pytestmark = pytest.mark.usefixtures("local_cache")


@pytest.fixture
def client(api_client):
    """In these modules `client` is the WeCom API client, not Django's test client."""
    return api_client


def test_the_token_is_fetched_once_and_reused(client, api_twin):
    client.get_staff("zhangsan")
    client.get_staff("lisi")
    with WeComClient(client.connection) as second:  # another client shares the cached token
        second.list_departments()
    assert api_twin.state()["gettoken_calls"] == 1
    assert calls(client) == [("gettoken", 0, 1), ("user/get", 0, 1), ("user/get", 0, 1)] + [
        ("department/list", 0, 1)
    ]


def test_a_token_within_the_refresh_margin_is_not_reused(db, sleeps):
    with running_twin(twin_config(token_ttl_seconds=60)) as api_twin:
        api_twin.add_staff("zhangsan")
        with WeComClient(connect(api_twin.api_base)) as client:
            client.get_staff("zhangsan")
            client.get_staff("zhangsan")
        assert api_twin.state()["gettoken_calls"] == 2


def test_an_invalidated_token_is_replaced_and_the_call_retried_once(client, api_twin):
    client.get_staff("zhangsan")
    api_twin.admin.post("/twin/tokens/invalidate", json={}).raise_for_status()
    assert client.get_staff("zhangsan").userid == "zhangsan"
    assert calls(client)[2:] == [("user/get", 40014, 1), ("gettoken", 0, 1), ("user/get", 0, 2)]
    assert api_twin.state()["gettoken_calls"] == 2


def test_an_expired_token_is_replaced_and_the_call_retried_once(client, api_twin):
    client.get_staff("zhangsan")
    api_twin.advance(7201)
    client.get_staff("zhangsan")
    assert calls(client)[2:] == [("user/get", 42001, 1), ("gettoken", 0, 1), ("user/get", 0, 2)]


def test_a_wrong_secret_raises_40001_without_retrying(db, api_twin):
    with (
        WeComClient(connect(api_twin.api_base, secret="wrong")) as client,
        pytest.raises(WeComError) as raised,
    ):
        client.get_staff("zhangsan")
    assert (raised.value.errcode, raised.value.endpoint) == (40001, "gettoken")
    assert api_twin.state()["gettoken_calls"] == 1
    assert calls(client) == [("gettoken", 40001, 1)]


# --- limits ----------------------------------------------------------------------------------


def test_a_frequency_limit_backs_off_retries_once_then_raises(db, sleeps):
    with running_twin(twin_config(rate_limit_per_minute=2)) as api_twin:
        api_twin.add_staff("zhangsan")
        options = ClientOptions(limit_backoff_seconds=BACKOFF, sleep=sleeps)
        with WeComClient(connect(api_twin.api_base), options=options) as client:
            client.get_staff("zhangsan")
            client.get_staff("zhangsan")
            with pytest.raises(WeComError) as raised:
                client.get_staff("zhangsan")
    assert raised.value.errcode == 45009
    assert sleeps == [BACKOFF]
    assert calls(client)[-2:] == [("user/get", 45009, 1), ("user/get", 45009, 2)]


def test_the_client_paces_itself_below_the_per_api_limit(db, api_twin, sleeps):
    options = ClientOptions(calls_per_minute=2, sleep=sleeps)
    with WeComClient(connect(api_twin.api_base), options=options) as client:
        for _ in range(3):
            client.get_staff("lisi")
    # A 2-a-minute bucket holds two calls; the third waits about 30 s for a refill.
    assert len(sleeps) == 1 and 29 < sleeps[0] <= 30


def test_an_unreachable_server_raises_unavailable_and_is_recorded(db):
    with (
        WeComClient(connect(f"http://127.0.0.1:{free_port()}/cgi-bin/")) as client,
        pytest.raises(WeComUnavailable),
    ):
        client.get_staff("zhangsan")
    [row] = ApiCall.objects.for_workspace(client.connection.workspace)
    assert (row.endpoint, row.http_status, row.errcode) == ("gettoken", None, -1)
    assert SECRET not in row.errmsg


def test_every_call_is_recorded_with_its_outcome(client):
    with pytest.raises(WeComError):
        client.get_staff("nobody")
    row = ApiCall.objects.for_workspace(client.connection.workspace).get(endpoint="user/get")
    assert (row.http_status, row.errcode, row.attempt) == (200, 40003, 1)
    assert row.errmsg and row.duration_ms >= 0


# --- typed endpoints -------------------------------------------------------------------------


def test_staff_ids_details_and_departments(client):
    page = client.list_staff_ids(limit=1)
    assert [u.userid for u in page.dept_user] == ["lisi"] and page.next_cursor
    assert client.get_staff("zhangsan").department == [1]
    assert [d.id for d in client.list_departments()] == [1]


def test_contact_ways_are_typed_end_to_end(client):
    made = client.add_contact_way(
        ContactWaySpec(type=2, scene=2, user=["zhangsan"], state="store01", remark="门店")
    )
    assert isinstance(made, ContactWayCreated) and made.qr_code
    client.update_contact_way(ContactWayUpdate(config_id=made.config_id, user=["lisi"]))
    way = client.get_contact_way(made.config_id)
    assert isinstance(way, ContactWay)
    assert (way.user, way.state, way.remark, way.scene) == (["lisi"], "store01", "门店", 2)
    assert [r.config_id for r in client.list_contact_ways().contact_way] == [made.config_id]
    client.delete_contact_way(made.config_id)
    with pytest.raises(WeComError) as raised:
        client.add_contact_way(ContactWaySpec(type=1, scene=2, user=["zhangsan"], state="x" * 31))
    assert (raised.value.errcode, raised.value.errmsg) == (40058, "invalid state")


def test_a_welcome_message_is_sent_once(client, api_twin):
    code = api_twin.admin.post(
        "/twin/customers/add", json={"name": "王小雨", "staff_userid": "zhangsan"}
    ).json()["welcome_code"]
    link = Attachment.of_link("新客礼", "https://example.com/gift")
    client.send_welcome_message(code, "欢迎!", [link])
    [message] = api_twin.state()["messages"]
    assert message["text"] == "欢迎!" and message["attachments"] == [link.wire()]
    with pytest.raises(WeComError) as raised:
        client.send_welcome_message(code, "again")
    assert raised.value.errcode == 41051


def test_customers_remarks_and_tags_are_typed(client, api_twin):
    ext = api_twin.admin.post(
        "/twin/customers/add", json={"name": "李晓", "staff_userid": "zhangsan", "state": "ads"}
    ).json()["external_userid"]
    assert client.list_customer_ids("zhangsan") == [ext]
    client.remark_customer("zhangsan", ext, remark="VIP", remark_mobiles=["13800000000"])
    group = client.add_corp_tags([NewTag(name="护肤"), NewTag(name="彩妆")], group_name="兴趣")
    skin = group.tag[0].id
    client.mark_tags("zhangsan", ext, add=[skin])
    client.edit_corp_tag(skin, name="护肤品")

    detail = client.get_customer(ext)
    assert isinstance(detail, CustomerDetail) and detail.external_contact.name == "李晓"
    follow = detail.follow_user[0]
    assert (follow.state, follow.remark, follow.remark_mobiles) == ("ads", "VIP", ["13800000000"])
    assert [t.tag_name for t in follow.tags] == ["护肤品"]

    page = client.customers_of_staff(["zhangsan"])
    assert page.external_contact_list[0].follow_info.tag_id == [skin]
    assert [g.group_name for g in client.get_corp_tags(group_ids=[group.group_id])] == ["兴趣"]
    client.delete_corp_tags(group_ids=[group.group_id])
    assert client.get_corp_tags() == []
