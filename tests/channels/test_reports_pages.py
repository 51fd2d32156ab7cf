"""The channel analytics page, its Excel export and the spend page: what they show, who may use
them, and that one brand never sees another's channels."""

from __future__ import annotations

import datetime as dt
import io
import json
import re

import pytest
from openpyxl import load_workbook

from siyu.channels.models import ChannelSpend
from siyu.channels.services import analytics
from siyu.core.exports import XLSX_CONTENT_TYPE
from siyu.core.models import AuditAction, AuditEntry
from siyu.customers.models import DeletedBy
from tests.channels.test_analytics import add, make_code, spend

TODAY = analytics.local_today()


def moment(days_ago: int, hour: int = 10) -> dt.datetime:
    day = TODAY - dt.timedelta(days=days_ago)
    return dt.datetime.combine(day, dt.time(hour), tzinfo=analytics.SHANGHAI)


def some_channels(workspace):
    ad = make_code(workspace, "抖音信息流", "online_ad")
    store = make_code(workspace, "南京西路店", "store")
    for days_ago in (1, 2, 3):
        add(ad, moment(days_ago, 9))
    add(store, moment(2, 9), deleted=moment(1, 9), by=DeletedBy.CUSTOMER)
    spend(ad, TODAY - dt.timedelta(days=6), TODAY, 70_000)
    return ad, store


def ranking_names(html: str, testid: str = "code-ranking") -> list[str]:
    table = html.split(f'data-testid="{testid}"', 1)[1].split("</tbody>", 1)[0]
    return re.findall(r'<tr data-code="\d+">\s*<td class="text-secondary">\d+</td>\s*<td>(?:<a [^>]*>)?([^<]+)', table)


# --- the page --------------------------------------------------------------------------------

def test_the_page_ranks_codes_by_net_adds_with_the_trend_data(brand_a, login):
    some_channels(brand_a.workspace)
    response = login(brand_a.members["data_analyst"]).get("/channels/analytics/")
    assert response.status_code == 200
    html = response.content.decode()
    assert ranking_names(html) == ["抖音信息流", "南京西路店"]
    chart = json.loads(re.search(r'<script id="trend-data" type="application/json">(.*?)</script>', html, re.S)[1])
    assert len(chart["days"]) == 7 and sum(chart["total"]["adds"]) == 4 and sum(chart["total"]["net"]) == 3
    assert "vendor/echarts/echarts.min.js" in html
    assert 'data-touchpoint="online_ad"' in html and 'data-touchpoint="store"' in html


def test_the_page_shows_cost_per_add_and_dashes_for_missing_figures(brand_a, login):
    some_channels(brand_a.workspace)
    html = login(brand_a.admin).get("/channels/analytics/").content.decode()
    row = html.split('data-code="', 2)[1]  # the first ranked code: the ad
    assert "700.00" in row and "233.33" in row  # 700 yuan spend, 3 adds
    assert "—" in row  # first purchases and revenue are left to the commerce module


def test_the_page_can_be_sorted_by_any_column(brand_a, login):
    some_channels(brand_a.workspace)
    client = login(brand_a.admin)
    html = client.get("/channels/analytics/?sort=deleted_by_customer&order=desc").content.decode()
    assert ranking_names(html) == ["南京西路店", "抖音信息流"]
    html = client.get("/channels/analytics/?sort=name&order=asc").content.decode()
    assert ranking_names(html) == sorted(["南京西路店", "抖音信息流"])


def test_a_custom_range_narrows_the_figures(brand_a, login):
    some_channels(brand_a.workspace)
    day = (TODAY - dt.timedelta(days=3)).isoformat()
    html = login(brand_a.admin).get(f"/channels/analytics/?preset=custom&start={day}&end={day}").content.decode()
    chart = json.loads(re.search(r'<script id="trend-data" type="application/json">(.*?)</script>', html, re.S)[1])
    assert chart["days"] == [day] and chart["total"]["adds"] == [1]


def test_a_bad_range_is_explained_and_the_last_7_days_shown(brand_a, login):
    html = login(brand_a.admin).get("/channels/analytics/?preset=custom&start=2025-03-09&end=2025-03-01").content.decode()
    assert 'data-testid="range-errors"' in html
    assert f"{(TODAY - dt.timedelta(days=6)).isoformat()} – {TODAY.isoformat()}" in html


def test_the_export_button_shows_only_to_roles_that_may_export(brand_a, login):
    assert 'data-testid="export"' in login(brand_a.members["data_analyst"]).get("/channels/analytics/").content.decode()
    assert 'data-testid="export"' not in login(brand_a.members["planner"]).get("/channels/analytics/").content.decode()


def test_the_merchandiser_may_not_see_the_page(brand_a, login):
    assert login(brand_a.members["merchandiser"]).get("/channels/analytics/").status_code == 403


def test_another_brands_codes_never_show(brand_a, brand_b, login):
    some_channels(brand_a.workspace)
    make_code(brand_b.workspace, "贝塔门店")
    html = login(brand_b.admin).get("/channels/analytics/").content.decode()
    assert "抖音信息流" not in html and "南京西路店" not in html and "贝塔门店" in html


# --- the export ------------------------------------------------------------------------------

def test_the_export_is_a_workbook_with_the_ranked_rows_and_an_audit_entry(brand_a, login):
    some_channels(brand_a.workspace)
    response = login(brand_a.members["data_analyst"]).get("/channels/analytics/export.xlsx?preset=7")
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX_CONTENT_TYPE and "attachment" in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.content))
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == ["抖音信息流", "南京西路店"]
    header = list(rows[0])
    ad = dict(zip(header, rows[1], strict=True))
    assert ad[header[header.index(str(analytics.COLUMN_BY_KEY["adds"].label))]] == 3
    assert ad[str(analytics.COLUMN_BY_KEY["cost"].label)] == 700.0
    assert ad[str(analytics.COLUMN_BY_KEY["revenue"].label)] == "—"
    assert len(book.worksheets) == 5  # codes, code groups, touchpoints, by day, notes
    entry = AuditEntry.objects.for_workspace(brand_a.workspace).get(action=AuditAction.EXPORT)
    assert entry.detail["rows"] == 2 and entry.actor == brand_a.members["data_analyst"]


def test_a_code_name_that_is_a_formula_is_exported_as_text(brand_a, login):
    # The probe: this name became a live formula in the workbook.
    make_code(brand_a.workspace, "=cmd|'/C calc'!A0", "store")
    response = login(brand_a.admin).get("/channels/analytics/export.xlsx?preset=7")
    book = load_workbook(io.BytesIO(response.content))
    cell = book.worksheets[0]["A2"]
    assert cell.value == "'=cmd|'/C calc'!A0" and cell.data_type == "s"
    assert not [c.coordinate for sheet in book.worksheets for row in sheet.iter_rows() for c in row
                if c.data_type == "f"]


def test_the_export_has_chinese_headers_in_chinese(brand_a, client):
    some_channels(brand_a.workspace)
    client.force_login(brand_a.members["data_analyst"])
    response = client.get("/channels/analytics/export.xlsx", HTTP_ACCEPT_LANGUAGE="zh-hans")
    header = next(load_workbook(io.BytesIO(response.content)).worksheets[0].iter_rows(values_only=True))
    assert header[0] == "渠道活码" and "净增" in header and "7日留存" in header


@pytest.mark.parametrize("role", ["planner", "copywriter", "customer_ops", "merchandiser"])
def test_roles_without_export_are_refused_and_nothing_is_logged(brand_a, login, role):
    some_channels(brand_a.workspace)
    response = login(brand_a.members[role]).get("/channels/analytics/export.xlsx")
    assert response.status_code == 403
    assert not AuditEntry.objects.for_workspace(brand_a.workspace).filter(action=AuditAction.EXPORT).exists()


def test_the_export_holds_only_the_own_brands_codes(brand_a, brand_b, login):
    some_channels(brand_a.workspace)
    make_code(brand_b.workspace, "贝塔门店")
    response = login(brand_b.admin).get("/channels/analytics/export.xlsx")
    rows = list(load_workbook(io.BytesIO(response.content)).worksheets[0].iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == ["贝塔门店"]


# --- spend -----------------------------------------------------------------------------------

def test_a_planner_records_spend_in_yuan_and_it_is_stored_in_fen(brand_a, login):
    code = make_code(brand_a.workspace, "抖音信息流", "online_ad")
    client = login(brand_a.members["planner"])
    response = client.post("/channels/analytics/spend/", {
        "code": code.pk, "start": "2025-03-01", "end": "2025-03-31", "amount_yuan": "1280.50", "note": "3月投放"})
    assert response.status_code == 302
    stored = ChannelSpend.objects.for_workspace(brand_a.workspace).get()
    assert (stored.code_id, stored.amount_fen, stored.note) == (code.pk, 128_050, "3月投放")
    assert "1280.50" in client.get("/channels/analytics/spend/").content.decode()


@pytest.mark.parametrize("amount, start, end", [
    ("0", "2025-03-01", "2025-03-31"),
    ("-5", "2025-03-01", "2025-03-31"),
    ("12.345", "2025-03-01", "2025-03-31"),
    ("twelve", "2025-03-01", "2025-03-31"),
    ("100", "2025-03-31", "2025-03-01"),
])
def test_bad_spend_is_refused_on_the_form_and_nothing_is_saved(brand_a, login, amount, start, end):
    code = make_code(brand_a.workspace, "抖音信息流", "online_ad")
    response = login(brand_a.members["planner"]).post("/channels/analytics/spend/", {
        "code": code.pk, "start": start, "end": end, "amount_yuan": amount})
    assert response.status_code == 200 and "invalid-feedback" in response.content.decode()
    assert not ChannelSpend.objects.for_workspace(brand_a.workspace).exists()


def test_a_spend_entry_can_be_deleted(brand_a, login):
    code = make_code(brand_a.workspace, "抖音信息流", "online_ad")
    entry = spend(code, dt.date(2025, 3, 1), dt.date(2025, 3, 2), 100)
    assert login(brand_a.admin).post("/channels/analytics/spend/", {"delete": entry.pk}).status_code == 302
    assert not ChannelSpend.objects.for_workspace(brand_a.workspace).exists()


def test_the_data_analyst_may_not_enter_spend(brand_a, login):
    code = make_code(brand_a.workspace, "抖音信息流", "online_ad")
    response = login(brand_a.members["data_analyst"]).post("/channels/analytics/spend/", {
        "code": code.pk, "start": "2025-03-01", "end": "2025-03-31", "amount_yuan": "10"})
    assert response.status_code == 403
    assert not ChannelSpend.objects.for_workspace(brand_a.workspace).exists()


def test_spend_cannot_be_put_on_or_taken_from_another_brands_code(brand_a, brand_b, login):
    theirs = make_code(brand_a.workspace, "抖音信息流", "online_ad")
    entry = spend(theirs, dt.date(2025, 3, 1), dt.date(2025, 3, 2), 100)
    client = login(brand_b.admin)
    response = client.post("/channels/analytics/spend/", {
        "code": theirs.pk, "start": "2025-03-01", "end": "2025-03-31", "amount_yuan": "10"})
    assert response.status_code == 200  # not one of this brand's codes: a form error
    assert client.post("/channels/analytics/spend/", {"delete": entry.pk}).status_code == 404
    assert list(ChannelSpend.objects.for_workspace(brand_a.workspace).values_list("amount_fen", flat=True)) == [100]
    assert not ChannelSpend.objects.for_workspace(brand_b.workspace).exists()
    assert "抖音信息流" not in client.get("/channels/analytics/spend/").content.decode()
