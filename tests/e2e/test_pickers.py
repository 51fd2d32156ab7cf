"""Issue 12 item 1: a tag rule's channel codes are picked by name from a searchable list (not
typed as raw states), in a real browser under the console's Content-Security-Policy."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from siyu.channels.models import ChannelCode
from siyu.tags.models import Tag, TagGroup, TagRule
from tests.conftest import PASSWORD, make_brand
from tests.e2e.test_console_flow import sign_in

pytestmark = pytest.mark.e2e


def test_a_rule_picks_its_channel_codes_by_name_from_a_searchable_list(transactional_db, live_server, page):
    brand = make_brand("alpha")
    ws = brand.workspace
    group = TagGroup.objects.create(workspace=ws, name="来源")
    Tag.objects.create(workspace=ws, group=group, name="门店客", wecom_tag_id="etSTORE")
    for name, state in (("南京西路店", "chnanjing"), ("静安寺店", "chjingan"), ("抖音投放", "chdouyin")):
        ChannelCode.objects.create(workspace=ws, name=name, state=state, touchpoint="store")
    base = live_server.url
    sign_in(page, base, "alpha-ops_lead", PASSWORD)
    page.goto(f"{base}/customers/tags/rules/")

    picker = page.locator("[data-field=states] [data-picker]")
    picker.locator("[data-picker-search]").fill("店")
    expect(picker.get_by_label("抖音投放")).to_be_hidden()
    expect(picker.get_by_label("南京西路店")).to_be_visible()
    picker.locator("[data-picker-search]").fill("没有这个")
    expect(picker.locator("[data-picker-empty]")).to_be_visible()
    picker.locator("[data-picker-search]").press("Enter")  # searching never submits the form
    picker.locator("[data-picker-search]").fill("静安")
    picker.get_by_label("静安寺店").check()

    form = page.get_by_test_id("rule-form")
    form.locator("#id_name").fill("静安寺来的")
    form.locator("#id_kind").select_option("channel")
    form.locator("button.btn-primary").click()
    expect(page.locator("[data-testid=rules]")).to_contain_text("静安寺店")
    rule = TagRule.objects.for_workspace(ws).get()
    assert rule.params == {"states": ["chjingan"]}
