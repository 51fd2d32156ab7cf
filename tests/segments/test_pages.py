"""The segments pages: list, builder with live count, detail with members and export, upload;
who may use them, and never another brand's rows."""

from __future__ import annotations

import io
import json

from openpyxl import load_workbook

from siyu.core.models import AuditAction, AuditEntry
from siyu.segments import services
from siyu.segments.models import Segment, SegmentKind
from siyu.segments.services import SegmentInput
from tests.segments.conftest import make_customer
from tests.support.spreadsheets import xlsx_with_sheet

PHONE_RULE = {"match": "and", "rules": [{"field": "has_phone", "op": "is", "value": True}]}


def a_segment(shop, name="有手机号") -> Segment:
    return services.create_segment(shop.workspace, shop.seat("admin"), SegmentInput(name=name, rule=PHONE_RULE))


def test_the_list_shows_name_kind_members_and_the_rule(shop, login):
    make_customer(shop, "wmA", phone="13800000001", name="小红")
    a_segment(shop)
    html = login(shop.brand.members["planner"]).get("/customers/segments/").content.decode()
    assert "有手机号" in html and 'data-testid="member-count">1<' in html
    assert 'data-testid="customer-tabs"' in html and "人群" in html  # zh-Hans by default


def test_the_builder_counts_a_rule_and_explains_a_bad_one(shop, login):
    make_customer(shop, "wmA", phone="13800000001")
    make_customer(shop, "wmB")
    client = login(shop.brand.members["customer_ops"])
    assert 'id="live-count"' in client.get("/customers/segments/new/").content.decode()
    found = client.post("/customers/segments/count/", {"rule": json.dumps(PHONE_RULE)}).content.decode()
    assert 'data-testid="live-count">1<' in found
    bad = {"match": "and", "rules": [{"field": "score", "op": "gte", "value": "lots"}]}
    found = client.post("/customers/segments/count/", {"rule": json.dumps(bad)}, HTTP_ACCEPT_LANGUAGE="en",
                        ).content.decode()
    assert 'data-testid="count-errors"' in found


def test_saving_from_the_builder_stores_the_segment_with_its_members(shop, login):
    make_customer(shop, "wmA", phone="13800000001")
    client = login(shop.brand.members["customer_ops"])
    response = client.post("/customers/segments/new/", {"name": "手机客户", "rule": json.dumps(PHONE_RULE)})
    segment = Segment.objects.for_workspace(shop.workspace).get()
    assert response.status_code == 302 and segment.member_count == 1
    response = client.post("/customers/segments/new/", {"name": "坏规则", "rule": json.dumps(
        {"match": "and", "rules": [{"field": "nope", "op": "eq", "value": 1}]})})
    assert response.status_code == 200 and 'data-testid="rule-errors"' in response.content.decode()


def test_the_detail_page_lists_members_and_pages_with_a_cursor(shop, login):
    for i in range(55):
        make_customer(shop, f"wm{i:02}", phone="13800000001")
    segment = a_segment(shop)
    client = login(shop.brand.members["planner"])
    html = client.get(f"/customers/segments/{segment.pk}/").content.decode()
    assert html.count("/customers/") > 50 and 'data-testid="next-page"' in html
    assert 'data-testid="export-form"' not in html  # planners may view, not export
    after = html.split('?after=')[1].split('"')[0]
    html = client.get(f"/customers/segments/{segment.pk}/?after={after}").content.decode()
    assert 'data-testid="next-page"' not in html


def test_exporting_from_the_page_downloads_the_chosen_columns(shop, login):
    make_customer(shop, "wmA", phone="13800000001", name="小红")
    segment = a_segment(shop)
    client = login(shop.brand.members["data_analyst"])
    response = client.post(f"/customers/segments/{segment.pk}/export/", {"columns": ["nickname", "phone"]})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert [list(r) for r in sheet.iter_rows(min_row=2, values_only=True)] == [["小红", "138****0001"]]
    assert AuditEntry.objects.for_workspace(shop.workspace).get(action=AuditAction.EXPORT).detail["rows"] == 1


def test_recompute_and_delete_from_the_page(shop, login):
    segment = a_segment(shop)
    make_customer(shop, "wmA", phone="13800000001")
    client = login(shop.brand.members["ops_lead"])
    client.post(f"/customers/segments/{segment.pk}/recompute/")
    segment.refresh_from_db()
    assert segment.member_count == 1
    client.post(f"/customers/segments/{segment.pk}/delete/")
    assert not Segment.objects.for_workspace(shop.workspace).exists()


def test_the_upload_page_reports_rows_it_could_not_add(shop, login):
    make_customer(shop, "wmA", phone="13800000001")
    client = login(shop.brand.members["customer_ops"])
    data = io.BytesIO(b"phone\n13800000001\n12345\n13800000001\n13900000000\n")
    data.name = "list.csv"
    html = client.post("/customers/segments/upload/", {"name": "名单", "file": data}).content.decode()
    assert 'data-testid="row-errors"' in html
    assert html.count("<tr data-problem=") == 3
    assert Segment.objects.for_workspace(shop.workspace).get(kind=SegmentKind.STATIC).member_count == 1


def _upload(client, name: str, data: bytes):
    file = io.BytesIO(data)
    file.name = name
    return client.post("/customers/segments/upload/", {"name": "名单", "file": file})


def test_the_upload_page_lists_twenty_bad_rows_and_counts_the_rest(shop, login):
    # The probe: 199k bad rows came back as 24 MB of HTML.
    data = "".join(f"bad id {i}!\n" for i in range(5000)).encode()
    response = _upload(login(shop.brand.members["customer_ops"]), "list.csv", data)
    html = response.content.decode()
    assert len(response.content) < 100_000
    assert html.count("<tr data-problem=") == 20
    assert "4980" in html.split('data-testid="more-errors"')[1].split("</p>")[0]


def test_the_upload_page_does_not_echo_a_huge_cell(shop, login):
    client = login(shop.brand.members["customer_ops"])
    # The probe: a 7 KB workbook with a 5 MB shared string came back as 5 MB of HTML.
    bomb = xlsx_with_sheet(b'<row><c t="s"><v>0</v></c></row>', ["Z" * (5 * 2**20)])
    response = _upload(client, "list.xlsx", bomb)
    assert len(response.content) < 100_000 and 'data-error-for="file"' in response.content.decode()
    assert not Segment.objects.for_workspace(shop.workspace).exists()
    response = _upload(client, "list.csv", b"z" * 100_000 + b"\n")
    assert response.status_code == 200 and len(response.content) < 100_000
    assert "z" * 200 + "…" in response.content.decode()


def test_roles_without_edit_cannot_build_upload_or_recompute(shop, login):
    segment = a_segment(shop)
    planner = login(shop.brand.members["planner"])
    assert planner.get("/customers/segments/new/").status_code == 403
    assert planner.get("/customers/segments/upload/").status_code == 403
    assert planner.post(f"/customers/segments/{segment.pk}/recompute/").status_code == 403
    assert planner.post(f"/customers/segments/{segment.pk}/export/", {"columns": ["nickname"]}).status_code == 403
    copywriter = login(shop.brand.members["copywriter"])
    assert copywriter.get("/customers/segments/").status_code == 403
    assert copywriter.post("/customers/segments/count/", {"rule": json.dumps(PHONE_RULE)}).status_code == 403


def test_another_brand_sees_none_of_the_segments_pages(shop, brand_b, login):
    segment = a_segment(shop)
    other = login(brand_b.admin)
    assert "有手机号" not in other.get("/customers/segments/").content.decode()
    for path in (f"/customers/segments/{segment.pk}/", f"/customers/segments/{segment.pk}/edit/"):
        assert other.get(path).status_code == 404
    for path in ("export", "recompute", "delete"):
        assert other.post(f"/customers/segments/{segment.pk}/{path}/", {"columns": ["nickname"]}).status_code == 404
    assert Segment.objects.for_workspace(shop.workspace).filter(pk=segment.pk).exists()


def test_a_rule_whose_custom_field_was_deleted_is_explained_on_recompute(shop, login):
    rule = {"match": "and", "rules": [{"field": "field.spend", "op": "gte", "value": 5}]}
    segment = services.create_segment(shop.workspace, shop.seat("admin"), SegmentInput(name="消费", rule=rule))
    shop.fields["spend"].delete()
    client = login(shop.brand.members["admin"])
    response = client.post(f"/customers/segments/{segment.pk}/recompute/", follow=True)
    assert response.status_code == 200 and "field.spend" in response.content.decode()
    assert client.get(f"/customers/segments/{segment.pk}/").status_code == 200
