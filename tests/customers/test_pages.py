"""The customers pages and API: what they show, who may see them, and never another brand's rows."""

from __future__ import annotations

from siyu.channels.models import WelcomeStatus
from siyu.channels.services.welcome import open_welcome, record_welcome
from siyu.core import services as core
from siyu.customers import services
from siyu.customers.models import Customer, FollowRelation
from tests.conftest import seat
from tests.customers.conftest import at


def a_customer(brand, external="wmALPHA", name="阿尔法客户") -> Customer:
    relation = services.record_add(brand.workspace, staff_userid="xiaowanzi01", external_userid=external,
                                   state="chstore", at=at(5))
    record_welcome(open_welcome(brand.workspace, relation), WelcomeStatus.NO_CODE, "no code")
    Customer.objects.for_workspace(brand.workspace).filter(pk=relation.customer_id).update(name=name)
    return relation.customer


def test_the_list_shows_nickname_account_state_and_welcome_status(brand_a, login):
    a_customer(brand_a)
    html = login(brand_a.members["customer_ops"]).get("/customers/").content.decode()
    assert "阿尔法客户" in html and "xiaowanzi01" in html and "chstore" in html
    assert "企微未给欢迎语 code" in html  # the console speaks Simplified Chinese by default


def test_the_profile_shows_follow_relations_and_the_timeline(brand_a, login):
    customer = a_customer(brand_a)
    services.record_add(brand_a.workspace, staff_userid="xiaowanzi02", external_userid="wmALPHA", state="chad",
                        at=at(1))
    html = login(brand_a.members["planner"]).get(f"/customers/{customer.pk}/").content.decode()
    assert 'data-testid="follows"' in html and "xiaowanzi02" in html and "chad" in html
    timeline = html.split('data-testid="timeline"')[1]
    assert timeline.count("list-group-item") == 2  # two adds


def test_a_role_without_customers_access_is_refused(brand_a, login):
    customer = a_customer(brand_a)
    client = login(brand_a.members["copywriter"])  # customers: no access
    assert client.get("/customers/").status_code == 403
    assert client.get(f"/customers/{customer.pk}/").status_code == 403
    assert client.get("/api/customers/").status_code == 403


def test_another_brands_customer_is_not_found_by_page_or_api(brand_a, brand_b, login):
    customer = a_customer(brand_a)
    a_customer(brand_b, external="wmBETA", name="贝塔客户")
    client = login(brand_b.admin)
    assert client.get(f"/customers/{customer.pk}/").status_code == 404
    assert "阿尔法客户" not in client.get("/customers/").content.decode()
    assert client.get(f"/api/customers/{customer.pk}").status_code == 404
    assert [c["name"] for c in client.get("/api/customers/").json()["items"]] == ["贝塔客户"]


def test_a_brand_b_token_reads_only_brand_b(brand_a, brand_b, client):
    customer = a_customer(brand_a)
    _, key = core.create_api_token(brand_b.workspace, seat(brand_b.admin, brand_b.workspace), "bi")
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/customers/", headers=headers).json() == {"items": [], "next_cursor": ""}
    assert client.get(f"/api/customers/{customer.pk}", headers=headers).status_code == 404


def test_the_api_pages_customers_with_their_follows_and_the_detail_has_the_timeline(brand_a, login):
    for i in range(services.PAGE_SIZE + 3):
        services.record_add(brand_a.workspace, staff_userid="xiaowanzi01", external_userid=f"wm{i:03}",
                            state="chstore", at=at(100 - i))
    client = login(brand_a.members["data_analyst"])
    first = client.get("/api/customers/").json()
    assert len(first["items"]) == services.PAGE_SIZE and first["next_cursor"]
    assert first["items"][0]["external_userid"] == f"wm{services.PAGE_SIZE + 2:03}"  # newest first
    assert first["items"][0]["follows"][0]["account_userid"] == "xiaowanzi01"
    second = client.get(f"/api/customers/?after={first['next_cursor']}").json()
    assert len(second["items"]) == 3 and second["next_cursor"] == ""
    one = Customer.objects.for_workspace(brand_a.workspace).get(external_userid="wm000")
    detail = client.get(f"/api/customers/{one.pk}").json()
    assert detail["follows"][0]["welcome_status"] == ""  # no welcome recorded for these adds
    assert [e["kind"] for e in detail["timeline"]] == ["customers.added"]
    assert detail["timeline"][0]["label"] == "添加了企微号"  # the label in the console language
    assert FollowRelation.objects.for_workspace(brand_a.workspace).count() == services.PAGE_SIZE + 3
