"""The customer list: search, filters, sorts, keyset pages (no count), bulk actions, roles and
tenants — on the page and the API."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from siyu.core.permissions import Role
from siyu.customers import services
from siyu.customers.models import Customer, FollowRelation, LifecycleStage
from siyu.customers.services import CustomerFilters
from siyu.tags.models import CustomerTag, Tag, TagGroup
from tests.conftest import seat


def make(ws, n: int, **over) -> list[Customer]:
    """n customers, first added a day apart (newest last), each followed by xiaowanzi01 or 02."""
    out = []
    for i in range(n):
        when = timezone.now() - dt.timedelta(days=n - i)
        relation = services.record_add(ws, staff_userid="xiaowanzi01" if i % 2 == 0 else "xiaowanzi02",
                                       external_userid=f"wmL{i:03}", state="chstore" if i % 3 else "chad", at=when)
        Customer.objects.for_workspace(ws).filter(pk=relation.customer_id).update(
            name=f"客户{i:03}", score=float((i * 37) % 100), phone=f"1380000{i:04}",
            stage=LifecycleStage.ENGAGED if i % 4 == 0 else LifecycleStage.NEW, **over)
        out.append(relation.customer)
    return out


def ids(page) -> list[str]:
    return [c.external_userid for c in page.customers]


def all_pages(ws, member, filters, size=7) -> list[str]:
    seen, after = [], ""
    while True:
        page = services.search_customers(ws, member, filters, after=after, size=size)
        seen += ids(page)
        if not page.next_cursor:
            return seen
        after = page.next_cursor


def test_keyset_pages_cover_every_customer_once_in_each_sort(brand_a):
    ws = brand_a.workspace
    make(ws, 30)
    ops = seat(brand_a.members["customer_ops"], ws)
    newest = all_pages(ws, ops, CustomerFilters(sort="newest"))
    assert newest == [f"wmL{i:03}" for i in reversed(range(30))]
    assert all_pages(ws, ops, CustomerFilters(sort="added")) == list(reversed(newest))
    by_score = all_pages(ws, ops, CustomerFilters(sort="score"), size=4)
    scores = {c.external_userid: c.score for c in Customer.objects.for_workspace(ws)}
    assert sorted(by_score) == sorted(newest)
    assert [scores[e] for e in by_score] == sorted(scores.values(), reverse=True)
    # Ties on the sort value still page exactly (the id breaks them).
    Customer.objects.for_workspace(ws).update(score=50)
    assert sorted(all_pages(ws, ops, CustomerFilters(sort="score"), size=4)) == sorted(newest)
    # A cursor we did not make is the first page, not an error.
    assert ids(services.search_customers(ws, ops, CustomerFilters(), after="garbage!", size=3)) == newest[:3]


def test_search_by_nickname_remark_external_id_and_phone_for_roles_that_see_phones(brand_a):
    ws = brand_a.workspace
    make(ws, 12)
    FollowRelation.objects.for_workspace(ws).filter(customer__external_userid="wmL005").update(remark="王阿姨")
    ops = seat(brand_a.members["customer_ops"], ws)
    analyst = seat(brand_a.members["data_analyst"], ws)
    assert ids(services.search_customers(ws, ops, CustomerFilters(q="客户007"))) == ["wmL007"]
    assert ids(services.search_customers(ws, ops, CustomerFilters(q="阿姨"))) == ["wmL005"]
    assert ids(services.search_customers(ws, ops, CustomerFilters(q="wmL003"))) == ["wmL003"]
    assert ids(services.search_customers(ws, ops, CustomerFilters(q="13800000011"))) == ["wmL011"]
    # A role that sees phones masked cannot find customers by phone digits.
    assert ids(services.search_customers(ws, analyst, CustomerFilters(q="13800000011"))) == []


def test_filters_by_stage_tag_account_state_and_added_dates(brand_a):
    ws = brand_a.workspace
    customers = make(ws, 12)
    ops = seat(brand_a.members["customer_ops"], ws)
    group = TagGroup.objects.create(workspace=ws, name="意向")
    tag = Tag.objects.create(workspace=ws, group=group, name="高意向")
    for c in customers[:3]:
        CustomerTag.objects.create(workspace=ws, customer=c, tag=tag)

    def find(**kw) -> set[str]:
        return set(ids(services.search_customers(ws, ops, CustomerFilters(**kw), size=100)))

    assert find(stage="engaged") == {"wmL000", "wmL004", "wmL008"}
    assert find(tag_id=tag.pk) == {"wmL000", "wmL001", "wmL002"}
    account = FollowRelation.objects.for_workspace(ws).get(customer__external_userid="wmL001").account_id
    assert find(account_id=account) == {f"wmL{i:03}" for i in range(1, 12, 2)}
    assert find(state="chad") == {"wmL000", "wmL003", "wmL006", "wmL009"}
    today = timezone.localdate()
    assert find(added_from=today - dt.timedelta(days=3)) == {"wmL009", "wmL010", "wmL011"}
    assert find(added_to=today - dt.timedelta(days=11)) == {"wmL000", "wmL001"}
    assert find(stage="engaged", tag_id=tag.pk, state="chad") == {"wmL000"}


def test_a_page_runs_a_fixed_number_of_queries_and_no_count(brand_a):
    ws = brand_a.workspace
    make(ws, 20)
    ops = seat(brand_a.members["customer_ops"], ws)
    with CaptureQueriesContext(connection) as small:
        services.search_customers(ws, ops, CustomerFilters(q="客户", stage="new"), size=5)
    make_more = Customer.objects.for_workspace(ws).count()
    assert make_more == 20
    with CaptureQueriesContext(connection) as big:
        services.search_customers(ws, ops, CustomerFilters(q="客户", stage="new"), size=15)
    assert len(small) == len(big) <= 8  # the search lookups, customers, their follows, welcomes, tags
    assert not any("COUNT(" in q["sql"].upper() for q in big.captured_queries)


def test_the_list_page_searches_filters_and_pages(brand_a, login):
    ws = brand_a.workspace
    make(ws, services.PAGE_SIZE + 5)
    client = login(brand_a.members["customer_ops"])
    first = client.get("/customers/").content.decode()
    assert first.count('data-testid="customer-row"') == services.PAGE_SIZE
    assert 'data-testid="next-page"' in first and "客户054" in first and "客户004" not in first
    next_url = first.split('data-testid="next-page"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    second = client.get("/customers/" + next_url).content.decode()
    assert second.count('data-testid="customer-row"') == 5 and "客户004" in second
    assert 'data-testid="next-page"' not in second and 'data-testid="first-page"' in second
    found = client.get("/customers/", {"q": "客户007", "sort": "score"}).content.decode()
    assert found.count('data-testid="customer-row"') == 1
    filtered = client.get("/customers/", {"stage": "engaged", "state": "chad"}).content.decode()
    assert filtered.count('data-testid="customer-row"') == len([i for i in range(55) if i % 4 == 0 and i % 3 == 0])
    bad = client.get("/customers/", {"added_from": "not-a-date"})
    assert bad.status_code == 200


def test_bulk_tag_and_untag_from_the_list(brand_a, brand_b, login):
    ws = brand_a.workspace
    customers = make(ws, 4)
    other = make(brand_b.workspace, 1)[0]
    group = TagGroup.objects.create(workspace=ws, name="意向")
    tag = Tag.objects.create(workspace=ws, group=group, name="高意向")
    client = login(brand_a.members["customer_ops"])
    chosen = [str(customers[0].pk), str(customers[1].pk), str(other.pk)]  # another brand's id is ignored
    response = client.post("/customers/bulk/", {"action": "tag", "customers": chosen, "tags": [str(tag.pk)]})
    assert response.status_code == 302
    assert set(CustomerTag.objects.for_workspace(ws).values_list("customer_id", flat=True)) == {
        customers[0].pk, customers[1].pk}
    assert not CustomerTag.objects.for_workspace(brand_b.workspace).exists()
    client.post("/customers/bulk/", {"action": "untag", "customers": [str(customers[0].pk)], "tags": [str(tag.pk)]})
    assert list(CustomerTag.objects.for_workspace(ws).values_list("customer_id", flat=True)) == [customers[1].pk]
    # Without a tag chosen, nothing happens and the page says why.
    client.post("/customers/bulk/", {"action": "tag", "customers": [str(customers[2].pk)]})
    assert CustomerTag.objects.for_workspace(ws).count() == 1


def test_list_roles_and_tenants(brand_a, brand_b, login):
    make(brand_a.workspace, 2)
    viewer = login(brand_a.members[Role.PLANNER])
    page = viewer.get("/customers/").content.decode()
    assert page.count('data-testid="customer-row"') == 2
    # A planner may start a 群发 from the list (edit on messaging), but not tag or export.
    assert 'value="mass_message"' in page and 'value="tag"' not in page and 'value="export"' not in page
    assert viewer.post("/customers/bulk/", {"action": "tag", "customers": ["1"], "tags": ["1"]}).status_code == 403
    assert viewer.post("/customers/bulk/", {"action": "export", "customers": ["1"]}).status_code == 403
    analyst = login(brand_a.members[Role.DATA_ANALYST])  # signs the same client in as the analyst
    assert 'value="mass_message"' not in analyst.get("/customers/").content.decode()
    assert analyst.post("/customers/bulk/", {"action": "mass_message", "customers": ["1"]}).status_code == 403
    assert login(brand_a.members[Role.COPYWRITER]).get("/customers/").status_code == 403
    assert login(brand_a.members[Role.COPYWRITER]).post("/customers/bulk/", {"action": "tag"}).status_code == 403
    other = login(brand_b.admin)
    assert 'data-testid="customer-row"' not in other.get("/customers/").content.decode()
    assert other.get("/customers/", {"q": "wmL000"}).content.decode().count('data-testid="customer-row"') == 0
    assert other.get("/api/customers/", {"q": "wmL000"}).json()["items"] == []


def test_the_api_lists_with_the_same_filters_and_cursor(brand_a, login):
    make(brand_a.workspace, 9)
    client = login(brand_a.members["data_analyst"])
    first = client.get("/api/customers/", {"size": 4, "sort": "added"}).json()
    assert [c["external_userid"] for c in first["items"]] == ["wmL000", "wmL001", "wmL002", "wmL003"]
    second = client.get("/api/customers/", {"size": 4, "sort": "added", "after": first["next_cursor"]}).json()
    assert [c["external_userid"] for c in second["items"]] == ["wmL004", "wmL005", "wmL006", "wmL007"]
    engaged = client.get("/api/customers/", {"stage": "engaged"}).json()["items"]
    assert {c["external_userid"] for c in engaged} == {"wmL000", "wmL004", "wmL008"}
    assert all(c["phone"].startswith("138****") for c in engaged)


def test_bulk_export_downloads_the_checked_customers_with_phones_masked_by_role(brand_a, brand_b, login):
    import io

    from openpyxl import load_workbook

    from siyu.core.models import AuditEntry

    customers = make(brand_a.workspace, 3)
    other = make(brand_b.workspace, 1)[0]
    client = login(brand_a.members["data_analyst"])  # may export, sees phones masked
    response = client.post("/customers/bulk/", {"action": "export",
                                                "customers": [str(customers[0].pk), str(customers[2].pk),
                                                              str(other.pk)]})
    assert response.status_code == 200 and response["X-Row-Count"] == "2"
    sheet = load_workbook(io.BytesIO(response.content)).active
    text = " ".join(str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None)
    assert "wmL000" in text and "wmL002" in text and "wmL001" not in text
    assert "13800000000" not in text
    assert AuditEntry.objects.for_workspace(brand_a.workspace).filter(action="export").count() == 1
    assert login(brand_a.members["customer_ops"]).post(
        "/customers/bulk/", {"action": "export", "customers": [str(customers[0].pk)]}).status_code == 403


def test_the_list_names_the_channel_code_of_each_follow(brand_a, login):
    from siyu.channels.models import ChannelCode

    ws = brand_a.workspace
    make(ws, 3)  # states chad (the first) and chstore
    ChannelCode.objects.create(workspace=ws, name="静安寺门店", touchpoint="store", state="chstore")
    html = login(brand_a.admin).get("/customers/").content.decode()
    assert html.count(">静安寺门店</a>") == 2  # linked to the code's page
    assert "<code>chad</code>" in html and "未知活码" in html  # no code for this state: the state, marked
