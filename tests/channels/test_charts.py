"""Charts where people would rather look than read: the channel comparison and the staff
ranking on the analytics page, capacity fill over time on the accounts page, and the trends
of 概览 and the Tasks page. Each has an empty state (nothing yet) and a loading state (the box
reads "loading" until ECharts draws), and the data it draws comes from the services."""

from __future__ import annotations

import datetime as dt
import json
import re
from itertools import count
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from siyu.accounts import services as accounts
from siyu.accounts.models import AccountDay, StaffAccount
from siyu.channels.models import ChannelCode
from siyu.channels.services import analytics
from siyu.channels.services.analytics import DateRange
from siyu.core.days import local_day
from siyu.customers.models import Customer, DeletedBy, FollowRelation
from tests.conftest import seat

SHANGHAI = analytics.SHANGHAI
NOW = dt.datetime(2025, 3, 20, 12, 0, tzinfo=SHANGHAI)
MARCH = DateRange(dt.date(2025, 3, 1), dt.date(2025, 3, 20))
_serial = count(1)


def at(day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2025, 3, day, hour, tzinfo=SHANGHAI)


def make_code(workspace: Any, name: str) -> ChannelCode:
    return ChannelCode.objects.create(workspace=workspace, name=name, touchpoint="store",
                                      state=f"cc{next(_serial):08d}")


def account(workspace: Any, userid: str, name: str = "", friends: int = 0, limit: int = 100) -> StaffAccount:
    return StaffAccount.objects.create(workspace=workspace, userid=userid, name=name or userid,
                                       friend_count=friends, friend_limit=limit)


def add(code: ChannelCode, staff: StaffAccount, added: dt.datetime, deleted: dt.datetime | None = None,
        by: str = "") -> FollowRelation:
    customer = Customer.objects.create(workspace=code.workspace, external_userid=f"wm{next(_serial):010d}")
    return FollowRelation.objects.create(workspace=code.workspace, customer=customer, account=staff,
                                         added_at=added, state=code.state, deleted_at=deleted,
                                         deleted_by=by if deleted else "")


def analyst(brand: Any) -> Any:
    return seat(brand.members["data_analyst"], brand.workspace)


def script_data(html: str, element_id: str) -> Any:
    found = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html, re.S)
    assert found, element_id
    return json.loads(found.group(1))


def chart_box(html: str, testid: str) -> str:
    start = html.index(f'data-testid="{testid}"')
    return html[html.rindex("<div", 0, start):html.index("</div></div>", start)]


# --- the channel comparison ------------------------------------------------------------------

def test_the_comparison_sets_adds_net_and_churn_of_each_code_side_by_side(brand_a):
    ws = brand_a.workspace
    xiao = account(ws, "xw01")
    store, ad = make_code(ws, "门店"), make_code(ws, "广告")
    make_code(ws, "没动静")
    for day in (2, 3, 4):
        add(store, xiao, at(day))
    add(store, xiao, at(5), deleted=at(6), by=DeletedBy.CUSTOMER)
    add(ad, xiao, at(5), deleted=at(6), by=DeletedBy.STAFF)
    add(ad, xiao, at(7), deleted=at(8), by=DeletedBy.TRANSFER)  # a transfer is not churn
    data = analytics.channel_report(ws, analyst(brand_a), MARCH, now=NOW).comparison()
    assert data["codes"] == ["门店", "广告"]  # the quiet code is left out
    assert (data["adds"], data["net"], data["churn"]) == ([4, 2], [3, 1], [1, 1])
    assert data["others"] == 0 and not data["empty"]


def test_the_comparison_shows_the_top_codes_and_counts_the_rest(brand_a):
    ws = brand_a.workspace
    xiao = account(ws, "xw01")
    for i in range(4):
        code = make_code(ws, f"码{i}")
        for _ in range(i + 1):
            add(code, xiao, at(3))
    data = analytics.channel_report(ws, analyst(brand_a), MARCH, now=NOW).comparison(top=2)
    assert data["codes"] == ["码3", "码2"] and data["others"] == 2


def test_a_range_with_no_movement_has_an_empty_comparison(brand_a):
    make_code(brand_a.workspace, "门店")
    assert analytics.channel_report(brand_a.workspace, analyst(brand_a), MARCH, now=NOW).comparison()["empty"]


# --- the staff ranking -----------------------------------------------------------------------

def test_staff_accounts_are_ranked_by_adds_through_codes_with_their_net(brand_a):
    ws = brand_a.workspace
    one, two, three = account(ws, "xw01", "小完子01"), account(ws, "xw02", "小完子02"), account(ws, "xw03")
    store = make_code(ws, "门店")
    for _ in range(3):
        add(store, two, at(4))
    add(store, two, at(4), deleted=at(5), by=DeletedBy.CUSTOMER)
    add(store, one, at(4))
    add(store, three, at(4), deleted=at(9), by=DeletedBy.TRANSFER)
    Customer.objects.create(workspace=ws, external_userid="wmNOCODE")  # no code: not acquisition
    rows = analytics.staff_ranking(ws, analyst(brand_a), MARCH)
    assert [(r.name, r.adds, r.net) for r in rows] == [("小完子02", 4, 3), ("xw03", 1, 1), ("小完子01", 1, 1)]
    chart = analytics.staff_chart(rows)
    assert chart["accounts"][-1] == "小完子02"  # the best at the top of the horizontal bars
    assert analytics.staff_chart([])["empty"]


def test_the_staff_ranking_takes_three_queries_whatever_the_accounts(brand_a):
    ws = brand_a.workspace
    store = make_code(ws, "门店")
    for i in range(12):
        add(store, account(ws, f"xw{i:02}"), at(3), deleted=at(4) if i % 3 == 0 else None, by=DeletedBy.STAFF)
    member = analyst(brand_a)
    with CaptureQueriesContext(connection) as queries:
        rows = analytics.staff_ranking(ws, member, MARCH, limit=5)
    assert len(queries) == 3 and len(rows) == 5


def test_the_staff_ranking_is_refused_to_roles_without_the_channels_module(brand_a):
    import pytest
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        analytics.staff_ranking(brand_a.workspace, seat(brand_a.members["merchandiser"], brand_a.workspace), MARCH)


# --- the analytics page ----------------------------------------------------------------------

def test_the_analytics_page_draws_the_three_charts_from_their_data(brand_a, login):
    ws = brand_a.workspace
    xiao = account(ws, "xw01", "小完子01")
    store = make_code(ws, "门店")
    add(store, xiao, timezone.now() - dt.timedelta(hours=1))
    html = login(brand_a.members["data_analyst"]).get("/channels/analytics/").content.decode()
    for box in ("trend-chart", "comparison-chart", "staff-chart"):
        assert 'data-chart-state="loading"' in chart_box(html, box) and "图表加载中" in chart_box(html, box)
    assert script_data(html, "comparison-data")["codes"] == ["门店"]
    assert script_data(html, "staff-data")["accounts"] == ["小完子01"]
    assert "console/charts.js" in html and "echarts.min.js" in html
    assert "渠道对比" in html and "员工账号拉新排行" in html


def test_the_analytics_page_shows_empty_states_and_no_chart_data_before_any_add(brand_a, login):
    make_code(brand_a.workspace, "门店")
    html = login(brand_a.members["data_analyst"]).get("/channels/analytics/").content.decode()
    for box in ("trend-chart", "comparison-chart", "staff-chart"):
        assert f'data-testid="{box}-empty"' in html and f'data-testid="{box}"' not in html
    assert 'id="comparison-data"' not in html and 'id="staff-data"' not in html
    assert "这段时间内没有渠道码带来或流失客户" in html


def test_the_analytics_page_stays_within_its_query_budget_with_many_codes_and_accounts(brand_a, login):
    ws = brand_a.workspace
    now = timezone.now() - dt.timedelta(hours=1)
    client = login(brand_a.members["data_analyst"])

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/channels/analytics/").status_code == 200
        return len(captured)

    code = make_code(ws, "门店0")
    add(code, account(ws, "xw00"), now)
    few = queries()
    for i in range(1, 15):
        code = make_code(ws, f"门店{i}")
        add(code, account(ws, f"xw{i:02}"), now)
    assert queries() == few


# --- capacity fill over time -----------------------------------------------------------------

def test_fill_is_walked_back_from_todays_count_by_each_days_adds_and_losses(brand_a):
    ws = brand_a.workspace
    now = timezone.now()
    today = local_day(now)
    xiao = account(ws, "xw01", friends=50, limit=100)
    AccountDay.objects.create(workspace=ws, account=xiao, day=today, adds=10, losses=2)
    AccountDay.objects.create(workspace=ws, account=xiao, day=today - dt.timedelta(days=1), adds=5, losses=0)
    history = accounts.fill_history(ws, seat(brand_a.admin, ws), days=4, now=now)
    assert history.days == [today - dt.timedelta(days=i) for i in (3, 2, 1, 0)]
    [line] = history.lines
    assert line.friends == [37, 37, 42, 50] and line.percents == [37.0, 37.0, 42.0, 50.0]


def test_fill_draws_the_fullest_active_accounts_against_the_limit_wecom_enforces(brand_a):
    ws = brand_a.workspace
    account(ws, "quiet", friends=10, limit=100)
    busy = account(ws, "busy", friends=90, limit=100)
    StaffAccount.unscoped.filter(pk=busy.pk).update(wecom_full_friends=90)  # WeCom refused it at 90
    account(ws, "half", friends=50, limit=100)
    gone = account(ws, "gone", friends=99, limit=100)
    StaffAccount.unscoped.filter(pk=gone.pk).update(active=False)
    history = accounts.fill_history(ws, seat(brand_a.admin, ws), days=3, limit=2)
    assert [line.account.userid for line in history.lines] == ["busy", "half"]
    assert history.lines[0].percents[-1] == 100.0 and history.accounts_total == 3


def test_the_accounts_page_draws_the_fill_chart_or_says_there_is_no_account(brand_a, login):
    client = login(brand_a.admin)
    empty = client.get("/accounts/").content.decode()
    assert 'data-testid="fill-chart-empty"' in empty and "echarts.min.js" not in empty
    account(brand_a.workspace, "xw01", "小完子01", friends=80, limit=100)
    html = client.get("/accounts/").content.decode()
    assert 'data-chart-state="loading"' in chart_box(html, "fill-chart")
    data = script_data(html, "fill-data")
    assert data["lines"][0]["name"] == "小完子01" and data["lines"][0]["percents"][-1] == 80.0
    assert len(data["days"]) == accounts.FILL_DAYS and "容量走势" in html


# --- the trends of 概览 and the Tasks page ----------------------------------------------------

def test_the_overview_trend_has_an_empty_state_and_a_loading_state(brand_a, login):
    from siyu.customers import services as customers

    client = login(brand_a.admin)
    empty = client.get("/").content.decode()
    assert 'data-testid="trend-chart-empty"' in empty and 'id="trend-data"' not in empty
    customers.record_add(brand_a.workspace, staff_userid="xw01", external_userid="wmNEW", state="",
                         at=timezone.now() - dt.timedelta(minutes=5))
    html = client.get("/").content.decode()
    assert 'data-chart-state="loading"' in chart_box(html, "trend-chart") and 'id="trend-data"' in html


def test_the_tasks_chart_says_when_no_event_came_in_the_last_day(brand_a, login):
    html = login(brand_a.admin).get("/tasks/").content.decode()
    assert 'data-testid="events-chart-empty"' in html and "最近 24 小时没有事件" in html
