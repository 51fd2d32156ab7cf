"""Channel analytics by code group (活码分组): the report, its page and its export narrow every
figure to one group (or the codes in none), rank the groups, and the comparison chart compares
groups; another brand's groups are not offered."""

from __future__ import annotations

import datetime as dt
import io
import json
import re

from openpyxl import load_workbook

from siyu.channels.models import ChannelCode
from siyu.channels.services import analytics, groups
from siyu.core.models import AuditAction, AuditEntry
from siyu.customers.models import DeletedBy
from tests.channels.test_analytics import add, grant, make_code, spend
from tests.channels.test_reports_pages import TODAY, moment
from tests.conftest import seat


def grouped_channels(brand):
    ws = brand.workspace
    planner = seat(brand.members["planner"], ws)
    stores = groups.create_group(ws, planner, "门店")
    ads = groups.create_group(ws, planner, "投放")
    east, west = make_code(ws, "南京西路店"), make_code(ws, "淮海路店")
    feed, loose = make_code(ws, "抖音信息流", "online_ad"), make_code(ws, "散码")
    ChannelCode.objects.for_workspace(ws).filter(pk__in=[east.pk, west.pk]).update(group=stores)
    ChannelCode.objects.for_workspace(ws).filter(pk=feed.pk).update(group=ads)
    for code, days in ((east, (1, 2)), (west, (1,)), (feed, (1, 2, 3)), (loose, (2,))):
        for days_ago in days:
            add(code, moment(days_ago, 9))
    lost = add(feed, moment(3, 10), deleted=moment(1, 10), by=DeletedBy.CUSTOMER)
    grant(lost, feed, moment(3, 11))
    spend(feed, TODAY - dt.timedelta(days=6), TODAY, 70_000)
    return stores, ads


def test_the_report_ranks_groups_and_narrows_to_one(brand_a):
    stores, ads = grouped_channels(brand_a)
    reader = seat(brand_a.members["data_analyst"], brand_a.workspace)
    period = analytics.last_days(7)
    everything = analytics.channel_report(brand_a.workspace, reader, period)
    by_group = {r.group_id: (r.code_count, r.figures.adds, r.figures.net) for r in everything.groups}
    assert by_group == {stores.pk: (2, 3, 3), ads.pk: (1, 4, 3), None: (1, 1, 1)}
    only_ads = analytics.channel_report(brand_a.workspace, reader, period, group=ads.pk)
    assert [r.name for r in only_ads.codes] == ["抖音信息流"]
    assert (only_ads.totals.adds, only_ads.totals.deleted_by_customer, only_ads.totals.welfare_issued) == (4, 1, 1)
    assert only_ads.totals.cost_fen == 70_000
    only_stores = analytics.channel_report(brand_a.workspace, reader, period, group=stores.pk)
    assert only_stores.totals.cost_fen is None and only_stores.totals.welfare_issued == 0
    loose = analytics.channel_report(brand_a.workspace, reader, period, group=groups.NO_GROUP)
    assert [r.name for r in loose.codes] == ["散码"]
    compared = everything.comparison(by="groups")
    assert compared["by"] == "groups" and compared["codes"][0] == "投放" and len(compared["codes"]) == 3


def test_the_page_filters_by_group_and_compares_groups(brand_a, brand_b, login):
    stores, _ads = grouped_channels(brand_a)
    client = login(brand_a.members["data_analyst"])
    html = client.get(f"/channels/analytics/?preset=7&group={stores.pk}&compare=groups").content.decode()
    ranking = html.split('data-testid="code-ranking"', 1)[1].split("</tbody>", 1)[0]
    assert "南京西路店" in ranking and "抖音信息流" not in ranking
    assert f'<option value="{stores.pk}" selected>门店</option>' in html
    chart = json.loads(re.search(r'<script id="comparison-data" type="application/json">(.*?)</script>', html, re.S)[1])
    assert chart["by"] == "groups" and chart["codes"] == ["门店"]
    everything = client.get("/channels/analytics/?preset=7&compare=groups").content.decode()
    table = everything.split('data-testid="group-ranking"', 1)[1].split("</tbody>", 1)[0]
    assert "门店" in table and "投放" in table and 'data-group="none"' in table
    assert "门店" not in login(brand_b.admin).get("/channels/analytics/").content.decode()


def test_the_export_of_one_group_holds_its_codes_and_a_group_sheet(brand_a, login):
    _stores, ads = grouped_channels(brand_a)
    response = login(brand_a.members["data_analyst"]).get(f"/channels/analytics/export.xlsx?preset=7&group={ads.pk}")
    book = load_workbook(io.BytesIO(response.content))
    codes = list(book.worksheets[0].iter_rows(values_only=True))
    assert [r[0] for r in codes[1:]] == ["抖音信息流"] and codes[1][2] == "投放"
    assert [r[0] for r in list(book.worksheets[1].iter_rows(values_only=True))[1:]] == ["投放"]
    notes = {r[0]: r[1] for r in book.worksheets[-1].iter_rows(values_only=True)}
    assert notes["活码分组"] == "投放"
    entry = AuditEntry.objects.for_workspace(brand_a.workspace).get(action=AuditAction.EXPORT)
    assert entry.detail["group"] == str(ads.pk) and entry.detail["rows"] == 1
