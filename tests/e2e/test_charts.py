"""In Chromium: the analytics and accounts charts are drawn by ECharts from the page's data, an
empty chart shows its empty state, and a chart whose library cannot load says so instead of
spinning for ever."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from siyu.accounts.models import StaffAccount
from siyu.channels.models import ChannelCode
from siyu.customers.models import Customer, FollowRelation
from tests.conftest import PASSWORD, make_brand
from tests.e2e.test_console_flow import sign_in

pytestmark = pytest.mark.e2e


def seed(ws) -> None:
    store = ChannelCode.objects.create(workspace=ws, name="门店", touchpoint="store", state="chstore0001")
    for i, userid in enumerate(["xw01", "xw02"]):
        account = StaffAccount.objects.create(workspace=ws, userid=userid, name=f"小完子0{i + 1}",
                                              friend_count=60 + i * 30, friend_limit=100)
        for j in range(i + 2):
            customer = Customer.objects.create(workspace=ws, external_userid=f"wm{userid}{j}")
            FollowRelation.objects.create(workspace=ws, customer=customer, account=account, state=store.state,
                                          added_at=timezone.now() - dt.timedelta(hours=j + 1))


def test_the_analytics_and_accounts_charts_are_drawn(transactional_db, live_server, page):
    brand = make_brand("alpha")
    seed(brand.workspace)
    base = live_server.url
    sign_in(page, base, "alpha-admin", PASSWORD)
    page.goto(f"{base}/channels/analytics/")
    for box in ("trend-chart", "comparison-chart", "staff-chart"):
        chart = page.get_by_test_id(box)
        expect(chart).to_have_attribute("data-chart-state", "ready")
        expect(chart.locator("canvas")).to_have_count(1)
    page.goto(f"{base}/accounts/")
    expect(page.get_by_test_id("fill-chart")).to_have_attribute("data-chart-state", "ready")
    expect(page.get_by_test_id("fill-chart").locator("canvas")).to_have_count(1)


def test_charts_without_data_show_their_empty_state(transactional_db, live_server, page):
    make_brand("alpha")
    base = live_server.url
    sign_in(page, base, "alpha-admin", PASSWORD)
    page.goto(f"{base}/channels/analytics/")
    for box in ("trend-chart", "comparison-chart", "staff-chart"):
        expect(page.get_by_test_id(f"{box}-empty")).to_be_visible()
    page.goto(f"{base}/")
    expect(page.get_by_test_id("trend-chart-empty")).to_be_visible()


def test_a_chart_whose_library_cannot_load_says_so(transactional_db, live_server, page):
    brand = make_brand("alpha")
    seed(brand.workspace)
    base = live_server.url
    sign_in(page, base, "alpha-admin", PASSWORD)
    page.route("**/echarts.min.js", lambda route: route.abort())
    page.goto(f"{base}/channels/analytics/")
    chart = page.get_by_test_id("comparison-chart")
    expect(chart).to_have_attribute("data-chart-state", "failed")
    expect(chart).to_contain_text("图表未能显示")  # the console speaks Chinese by default
