"""Static segments from an Excel or CSV upload with a row-level error report, and the Excel
export: chosen columns, phone masking by role, the audit entry with its row count."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation
from openpyxl import load_workbook

from siyu.core.models import AuditAction, AuditEntry
from siyu.segments import services
from siyu.segments.models import Segment, SegmentMember
from siyu.segments.services import SegmentInput
from siyu.segments.services.static import RowProblem, upload_static
from tests.segments.conftest import make_customer
from tests.support.spreadsheets import xlsx, xlsx_with_sheet


def test_an_excel_upload_matches_ids_and_phones_and_reports_every_other_row(shop):
    a = make_customer(shop, "wmAAA", phone="13800000001")
    b = make_customer(shop, "wmBBB", phone="8613900000002")
    data = xlsx([["手机号"], [13800000001], ["wmBBB"], ["139-0000-0002"], ["wmNOPE"], ["138000"], [None],
                 ["13800000001"], ["bad id!"]])
    result = upload_static(shop.workspace, shop.seat("customer_ops"), file_name="list.xlsx", data=data, name="名单")
    assert set(SegmentMember.unscoped.filter(segment=result.segment).values_list("customer_id", flat=True)) == {
        a.pk, b.pk}
    assert result.segment.member_count == 2 and result.added == 2
    assert [(e.row, e.value, e.problem) for e in result.errors] == [
        (5, "wmNOPE", RowProblem.NOT_FOUND),
        (6, "138000", RowProblem.MALFORMED_PHONE),
        (8, "13800000001", RowProblem.DUPLICATE),
        (9, "bad id!", RowProblem.MALFORMED_ID),
    ]
    # Row 4 is wmBBB's phone with dashes: it matches b again (one member), not an error.
    assert (result.rows, result.matched_rows) == (7, 3)


def test_a_gbk_csv_is_read_and_a_bad_file_is_refused(shop):
    make_customer(shop, "wmAAA", phone="13800000001")
    result = upload_static(shop.workspace, shop.seat("admin"), file_name="名单.csv",
                           data="手机号\n13800000001\n".encode("gb18030"), name="名单")
    assert result.segment.member_count == 1 and not result.errors
    with pytest.raises(ValidationError):
        upload_static(shop.workspace, shop.seat("admin"), file_name="x.xlsx", data=b"not a workbook", name="坏")
    with pytest.raises(PermissionDenied):
        upload_static(shop.workspace, shop.seat("planner"), file_name="x.csv", data=b"wmAAA", name="无权")


def test_a_list_past_the_row_limit_is_refused_without_reading_the_rest(shop):
    # Rows 2 to 999,999 are missing from the sheet; they are blank rows, and blank rows count.
    far = xlsx_with_sheet(b'<row r="1"><c r="A1" t="inlineStr"><is><t>wmA</t></is></c></row>'
                          b'<row r="1000000"><c r="A1000000" t="inlineStr"><is><t>wmB</t></is></c></row>')
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        upload_static(shop.workspace, shop.seat("admin"), file_name="far.xlsx", data=far, name="远")
    assert "more than 200,000 rows" in refused.value.message_dict["file"][0]
    assert not Segment.objects.for_workspace(shop.workspace).exists()


def _export(shop, role: str, columns: list[str]) -> list[tuple]:
    segment = services.create_segment(shop.workspace, shop.seat("admin"), SegmentInput(
        name="全部", rule={"match": "and", "rules": []}))
    content, rows = services.export_segment(shop.workspace, shop.seat(role), segment, columns)
    sheet = load_workbook(io.BytesIO(content)).active
    found = list(sheet.iter_rows(values_only=True))
    assert len(found) == rows + 1
    return found


def test_the_export_has_the_chosen_columns_with_tags_accounts_and_custom_fields(shop):
    make_customer(shop, "wmAAA", name="小红", phone="13800000001", tags=[shop.tags[0].pk],
                  follows=[(0, "chstore", True), (1, "chad", False)], fields={"skin": "干"})
    rows = _export(shop, "admin", ["nickname", "phone", "tags", "accounts", "channel", "field.skin"])
    assert rows[1] == ("小红", "13800000001", "干皮", "小完子0", "chstore", "干")


@pytest.mark.parametrize("name", ['=HYPERLINK("http://evil.example","x")', "@SUM(1+1)", "+1+1", "-2+3", "\t=1"])
def test_text_a_spreadsheet_would_run_is_exported_as_text(shop, name):
    make_customer(shop, "wmAAA", name=name)
    segment = services.create_segment(shop.workspace, shop.seat("admin"), SegmentInput(name="=全部"))
    content, _rows = services.export_segment(shop.workspace, shop.seat("admin"), segment, ["nickname"])
    cell = load_workbook(io.BytesIO(content)).active["A2"]
    assert cell.value == "'" + name and cell.data_type == "s"


def test_the_customer_list_export_writes_formulas_as_text(shop):
    customer = make_customer(shop, "wmAAA", name="=cmd|'/C calc'!A0")
    content, _rows = services.export_customers(shop.workspace, shop.seat("admin"), [customer.pk], ["nickname"])
    cell = load_workbook(io.BytesIO(content)).active["A2"]
    assert cell.value == "'=cmd|'/C calc'!A0" and cell.data_type == "s"


def test_phones_are_masked_for_a_role_that_may_not_see_them(shop):
    make_customer(shop, "wmAAA", phone="13800000001")
    assert _export(shop, "data_analyst", ["phone"])[1] == ("138****0001",)


def test_every_export_is_audit_logged_with_its_row_count(shop):
    for i in range(3):
        make_customer(shop, f"wm{i}")
    _export(shop, "ops_lead", ["external_userid"])
    entry = AuditEntry.objects.for_workspace(shop.workspace).get(action=AuditAction.EXPORT)
    assert entry.detail["rows"] == 3 and entry.detail["columns"] == ["external_userid"]


def test_roles_without_export_and_unknown_columns_are_refused(shop):
    segment = services.create_segment(shop.workspace, shop.seat("admin"), SegmentInput(name="全部"))
    with pytest.raises(PermissionDenied):
        services.export_segment(shop.workspace, shop.seat("customer_ops"), segment, ["nickname"])
    with pytest.raises(ValidationError):
        services.export_segment(shop.workspace, shop.seat("admin"), segment, ["password"])


def test_the_customer_list_export_takes_ids_and_ignores_other_brands(shop, brand_b):
    mine = make_customer(shop, "wmMine")
    from siyu.customers.models import Customer

    theirs = Customer.objects.create(workspace=brand_b.workspace, external_userid="wmTheirs")
    content, rows = services.export_customers(shop.workspace, shop.seat("admin"), [mine.pk, theirs.pk],
                                              ["external_userid"])
    assert rows == 1
    assert list(load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))[1] == ("wmMine",)


def test_a_large_segment_is_exported_in_batches(shop, monkeypatch):
    from siyu.segments.services import export

    monkeypatch.setattr(export, "BATCH_SIZE", 7)
    for i in range(30):
        make_customer(shop, f"wm{i:02}")
    rows = _export(shop, "admin", ["external_userid"])
    assert [r[0] for r in rows[1:]] == [f"wm{i:02}" for i in range(30)]
