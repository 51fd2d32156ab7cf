"""Issue 12 item 1: wherever a follow's channel `state` is shown (the list, its filter, the profile,
the churn list and notice, the transfer picker), ops read the channel code's name, linked to the
code's page; a state no code has is shown raw and marked unknown. One lookup per page."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from siyu.channels.models import ChannelCode, Touchpoint
from siyu.core.models import Notification
from siyu.customers import services
from siyu.customers.channel_codes import channel_refs
from siyu.customers.churn.subscribers import alert_churn
from siyu.customers.events import FollowEnded
from siyu.customers.models import Customer, DeletedBy
from tests.customers.conftest import at


def a_code(ws, name: str, state: str) -> ChannelCode:
    return ChannelCode.objects.for_workspace(ws).create(workspace=ws, name=name, state=state,
                                                        touchpoint=Touchpoint.STORE)


def follow(ws, external: str, state: str, staff: str = "xiaowanzi01"):
    relation = services.record_add(ws, staff_userid=staff, external_userid=external, state=state, at=at(5))
    Customer.objects.for_workspace(ws).filter(pk=relation.customer_id).update(name=f"客户{external}")
    return relation


def test_the_lookup_names_known_states_and_marks_the_others_in_one_query(brand_a):
    ws = brand_a.workspace
    code = a_code(ws, "门店海报", "chstore")
    with CaptureQueriesContext(connection) as queries:
        refs = channel_refs(ws, ["chstore", "chnobody", "", "chstore"])
    assert len(queries) == 1
    assert refs["chstore"].name == "门店海报" and refs["chstore"].url == f"/channels/codes/{code.pk}/"
    assert not refs["chnobody"].known and refs["chnobody"].label == "chnobody"
    assert "" not in refs


def test_the_profile_shows_the_code_name_linked_to_the_code(brand_a, login):
    ws = brand_a.workspace
    code = a_code(ws, "门店海报", "chstore")
    relation = follow(ws, "wmONE", "chstore")
    follow(ws, "wmONE", "chgone", staff="xiaowanzi02")
    html = login(brand_a.members["planner"]).get(f"/customers/{relation.customer_id}/").content.decode()
    cells = html.split('data-testid="follows"')[1]
    assert f'<a href="/channels/codes/{code.pk}/" title="chstore" data-channel="chstore">门店海报</a>' in cells
    assert "渠道 STATE" not in html
    # the state no code has: raw, marked
    assert "<code>chgone</code>" in cells and "未知活码" in cells
    # the adds on the timeline name the code too
    timeline = html.split('data-testid="timeline"')[1]
    assert ">门店海报</a>" in timeline and "· chstore" not in timeline


def test_the_profile_looks_codes_up_once_whatever_the_number_of_follows(brand_a, login):
    ws = brand_a.workspace
    for i in range(2):
        a_code(ws, f"活码{i}", f"chc{i}")
    relation = follow(ws, "wmMANY", "chc0")
    client = login(brand_a.members["planner"])
    with CaptureQueriesContext(connection) as one:
        client.get(f"/customers/{relation.customer_id}/")
    follow(ws, "wmMANY", "chc1", staff="xiaowanzi02")
    for i in range(3, 8):
        follow(ws, "wmMANY", f"chx{i}", staff=f"staff{i}")
    with CaptureQueriesContext(connection) as many:
        html = client.get(f"/customers/{relation.customer_id}/").content.decode()
    assert "活码1" in html
    channel_queries = [q for q in many.captured_queries if "channels_channelcode" in q["sql"]]
    assert len(channel_queries) == 1
    assert len([q for q in one.captured_queries if "channels_channelcode" in q["sql"]]) == 1


def test_the_list_shows_code_names_and_filters_by_a_code_picked_by_name(brand_a, login):
    ws = brand_a.workspace
    code = a_code(ws, "门店海报", "chstore")
    a_code(ws, "朋友圈广告", "chad")
    follow(ws, "wmA", "chstore")
    follow(ws, "wmB", "chad")
    client = login(brand_a.members["customer_ops"])
    html = client.get("/customers/").content.decode()
    assert f'href="/channels/codes/{code.pk}/"' in html and ">门店海报</a>" in html
    assert '<option value="chstore" >门店海报</option>' in html  # the filter offers codes by name
    rows = client.get("/customers/?state=chstore").content.decode().split('data-testid="customers"')[1]
    assert "客户wmA" in rows and "客户wmB" not in rows
    # a state no code has is kept in the filter, marked
    assert "chold（未知活码）" in client.get("/customers/?state=chold").content.decode()


def test_the_churn_list_and_its_notice_name_the_code(brand_a, login):
    ws = brand_a.workspace
    code = a_code(ws, "门店海报", "chstore")
    relation = follow(ws, "wmLOST", "chstore")
    lost = services.record_loss(ws, staff_userid="xiaowanzi01", external_userid="wmLOST",
                                by=DeletedBy.CUSTOMER, at=at(1))
    assert lost is not None
    alert_churn(ws, FollowEnded(relation_id=relation.pk, customer_id=relation.customer_id,
                                account_id=relation.account_id, deleted_by=DeletedBy.CUSTOMER, state="chstore",
                                at=at(1)), None)  # type: ignore[arg-type]
    html = login(brand_a.admin).get("/customers/churn/").content.decode()
    table = html.split('data-testid="churn"')[1]
    assert f'href="/channels/codes/{code.pk}/"' in table and "门店海报" in table
    notice = Notification.objects.for_workspace(ws).filter(kind="customers.churn").first()
    assert notice is not None and notice.params["state"] == "门店海报"


def test_the_transfer_picker_names_the_code(brand_a, login):
    ws = brand_a.workspace
    a_code(ws, "门店海报", "chstore")
    relation = follow(ws, "wmT", "chstore")
    html = login(brand_a.admin).get(f"/customers/transfers/?handover={relation.account_id}").content.decode()
    table = html.split('data-testid="handover-customers"')[1]
    assert "门店海报" in table and ">chstore<" not in table
