"""In Chromium: customer ops search the list, check customers, tag them in bulk, open a
profile and save a custom field value."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from siyu.customers import services
from siyu.customers.models import Customer, CustomField
from siyu.tags.models import CustomerTag, Tag, TagGroup
from tests.conftest import PASSWORD, make_brand
from tests.e2e.test_console_flow import sign_in

pytestmark = pytest.mark.e2e


def test_search_check_and_tag_in_bulk_then_edit_a_profile(transactional_db, live_server, page):
    brand = make_brand("alpha")
    ws = brand.workspace
    group = TagGroup.objects.create(workspace=ws, name="意向")
    Tag.objects.create(workspace=ws, group=group, name="高意向")
    CustomField.objects.create(workspace=ws, key="skin", label="肤质", kind="choice", choices=["干皮", "油皮"])
    for i in range(4):
        relation = services.record_add(ws, staff_userid="xiaowanzi01", external_userid=f"wmB{i}", state="chstore",
                                       at=timezone.now() - dt.timedelta(hours=4 - i))
        Customer.objects.for_workspace(ws).filter(pk=relation.customer_id).update(
            name=f"{'王' if i < 2 else '李'}客户{i}", phone=f"1380000000{i}")
    base = live_server.url
    sign_in(page, base, "alpha-customer_ops", PASSWORD)
    page.goto(f"{base}/customers/")
    expect(page.get_by_test_id("customer-row")).to_have_count(4)
    page.fill("#id_q", "王客户")
    page.locator("[data-testid=filters] button[type=submit]").click()
    expect(page.get_by_test_id("customer-row")).to_have_count(2)
    page.locator("input[data-check-all=customers]").check()
    expect(page.locator("input[name=customers]:checked")).to_have_count(2)
    page.select_option("select[name=action]", "tag")
    tags = page.get_by_test_id("bulk-tags")
    tags.locator("[data-picker-search]").fill("高意")  # the bulk bar's tags are searchable
    tags.get_by_label("意向 / 高意向").check()
    page.get_by_test_id("bulk-submit").click()
    expect(page.locator("[data-testid=customers] .badge", has_text="高意向")).to_have_count(2)
    assert CustomerTag.objects.for_workspace(ws).count() == 2

    page.get_by_role("link", name="王客户1").click()
    expect(page.get_by_test_id("customer-name")).to_have_text("王客户1")
    page.select_option("select[name=field_skin]", "油皮")
    page.locator("[data-testid=profile-form] button[type=submit]").click()
    expect(page.locator("[data-field-value=skin]")).to_have_text("油皮")
    expect(page.get_by_test_id("timeline")).to_contain_text("油皮")
    page.goto(f"{base}/customers/sync/")
    expect(page.get_by_test_id("sync-start")).to_be_visible()
    page.goto(f"{base}/customers/fields/")
    expect(page.get_by_test_id("field-row")).to_have_count(1)
