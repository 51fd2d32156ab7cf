"""The acquisition loop (获客闭环) in a real browser against the WeCom twin: a planner creates a
persona, syncs the staff accounts and binds one to the persona, makes a channel code with a
welcome message and an auto-tag; the twin's customer scans it and is welcomed by name inside
20 s and tagged; the channel's numbers count the add, then the churn when the customer deletes
the staff member."""

from __future__ import annotations

import time
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import expect

from siyu.accounts.models import StaffAccount
from siyu.channels.models import ChannelCode
from siyu.core.services import OPERATOR
from siyu.customers.models import DeletedBy, FollowRelation
from siyu.ip.models import Persona
from siyu.tags import services as tags
from siyu.wecom.models import InboundEvent
from tests.conftest import PASSWORD, work_until
from tests.simulator.twin import twin_calling_back

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

STAFF_USERID, STAFF_NAME = "xiaowanzi01", "小完子01"
PERSONA_NAME = "小完子"
CUSTOMER_NAME = "王小雨"
WELCOME_WITHIN_SECONDS = 20


@pytest.fixture
def twin(transactional_db: None, live_server: Any, brand_a: Any, settings: Any, tmp_path: Any) -> Any:
    """A twin whose callbacks reach the live server, with brand_a connected to it."""
    settings.MEDIA_ROOT = tmp_path / "media"  # avatars land in this test's own directory
    with twin_calling_back(brand_a.workspace, live_server.url) as running:
        yield running


def sign_in_in_english(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("form.card button[type=submit]").click()
    page.get_by_test_id("lang-en").click()
    expect(page.get_by_test_id("lang-zh-hans")).to_be_visible()


def ranking_cell(page: Any, code: ChannelCode, column: str) -> Any:
    """The analytics ranking's cell for `code` under the header named `column`."""
    table = page.get_by_test_id("code-ranking")
    headers = [h.strip() for h in table.locator("thead th").all_text_contents()]
    index = next(i for i, h in enumerate(headers) if h.rstrip(" ↑↓") == column)
    return table.locator(f"tbody tr[data-code='{code.pk}'] td").nth(index)


def test_a_planner_builds_a_channel_whose_scan_is_welcomed_tagged_and_counted_until_churn(
    twin: Any, live_server: Any, brand_a: Any, page: Any, tmp_path: Any
) -> None:
    workspace, base = brand_a.workspace, live_server.url
    twin.add_staff(STAFF_USERID, name=STAFF_NAME)
    created = twin.api("externalcontact/add_corp_tag",
                       json={"group_name": "渠道", "tag": [{"name": "门店扫码"}]})
    assert created["errcode"] == 0, created
    [tag] = created["tag_group"]["tag"]
    tags.sync_tags(workspace, OPERATOR)  # auto-tags are picked from the brand's synced tags

    sign_in_in_english(page, base, brand_a.members["planner"].username)

    # A persona with its six required dimensions, the avatar drawn here and uploaded.
    avatar = tmp_path / "avatar.png"
    Image.new("RGB", (128, 128), (240, 120, 160)).save(avatar)
    page.goto(f"{base}/ip/personas/new/")
    page.fill("#id_name", PERSONA_NAME)
    page.set_input_files("#id_avatar", str(avatar))
    page.select_option("#id_gender", "female")
    page.fill("#id_company_role", "品牌体验官")
    page.select_option("#id_generation", "95s")
    page.fill("#id_value_offered", "分享真实好用的美妆心得和专属福利")
    page.get_by_test_id("persona-form").locator("button[type=submit]").click()
    expect(page.get_by_test_id("persona-name")).to_have_text(PERSONA_NAME)
    persona = Persona.objects.for_workspace(workspace).get(name=PERSONA_NAME)

    # Sync the corp's members, then bind the account to the persona.
    page.goto(f"{base}/accounts/")
    page.get_by_test_id("sync").click()
    row = page.locator(f"[data-testid=account-row][data-userid='{STAFF_USERID}']")
    expect(row).to_contain_text(STAFF_NAME)
    row.get_by_role("link", name="Edit").click()
    page.select_option("#id_persona", str(persona.pk))
    page.get_by_test_id("account-form").locator("button[type=submit]").click()
    expect(row.locator("td").nth(1)).to_have_text(PERSONA_NAME)
    account = StaffAccount.objects.for_workspace(workspace).get(userid=STAFF_USERID)
    assert account.persona_id == persona.pk

    # A store code routed to that account, with a welcome and the corp tag as auto-tag.
    page.goto(f"{base}/channels/")
    page.get_by_test_id("new-code").click()
    page.fill("#id_name", "南京西路店")
    page.select_option("#id_touchpoint", "store")
    page.fill("#id_welcome_text", "{customer_nickname}，你好！我是{persona_name}，欢迎来到南京西路店")
    tag_picker = page.locator("[data-field=auto_tag_ids]")
    tag_picker.locator("[data-picker-search]").fill("门店")
    tag_picker.get_by_label("门店扫码").check()
    page.select_option("select[name=seats-0-account]", str(account.pk))
    page.get_by_test_id("save-code").click()
    expect(page.locator(".alert-success")).to_contain_text("南京西路店")
    code = ChannelCode.objects.for_workspace(workspace).get(name="南京西路店")
    assert code.config_id and code.auto_tag_ids == [tag["id"]]

    # The customer scans the code.
    scanned_at = time.monotonic()
    added = twin.admin.post("/twin/customers/add", json={"name": CUSTOMER_NAME, "config_id": code.config_id})
    assert added.status_code == 201, added.text
    customer = added.json()["external_userid"]
    assert (added.json()["userid"], added.json()["state"]) == (STAFF_USERID, code.state)

    def welcomed_and_tagged() -> dict[str, Any] | None:
        if not InboundEvent.objects.for_workspace(workspace).exists():
            return None
        state = twin.state()
        welcomes = [m for m in state["messages"] if m["kind"] == "welcome" and m["external_userid"] == customer]
        [friendship] = [f for f in state["friendships"] if f["external_userid"] == customer]
        return state if welcomes and tag["id"] in friendship["tag_ids"] else None

    state = work_until(welcomed_and_tagged)
    assert time.monotonic() - scanned_at < WELCOME_WITHIN_SECONDS
    [welcome] = [m for m in state["messages"] if m["kind"] == "welcome" and m["external_userid"] == customer]
    assert welcome["text"] == f"{CUSTOMER_NAME}，你好！我是{PERSONA_NAME}，欢迎来到南京西路店"
    assert welcome["userid"] == STAFF_USERID
    [welcome_code] = [c for c in state["welcome_codes"] if c["external_userid"] == customer]
    assert welcome_code["used"] and welcome["received_at"] - welcome_code["issued_at"] < WELCOME_WITHIN_SECONDS
    [friendship] = [f for f in state["friendships"] if f["external_userid"] == customer]
    assert friendship["tag_ids"] == [tag["id"]]

    # The channel's numbers count the add.
    page.goto(f"{base}/channels/")
    code_row = page.get_by_test_id("codes").locator(f"tr[data-code='{code.pk}']")
    expect(code_row.get_by_test_id("adds-total")).to_have_text("1")
    expect(code_row.get_by_test_id("adds-today")).to_have_text("1")
    page.goto(f"{base}/channels/analytics/")
    expect(ranking_cell(page, code, "Adds")).to_have_text("1")
    expect(ranking_cell(page, code, "Net adds")).to_have_text("1")

    # The customer deletes the staff member: churn by the customer, nothing net.
    twin.admin.post("/twin/customers/delete-staff",
                    json={"external_userid": customer, "staff_userid": STAFF_USERID}).raise_for_status()
    work_until(lambda: FollowRelation.objects.for_workspace(workspace)
               .filter(customer__external_userid=customer, deleted_by=DeletedBy.CUSTOMER).exists())
    page.goto(f"{base}/channels/analytics/")
    expect(ranking_cell(page, code, "Adds")).to_have_text("1")
    expect(ranking_cell(page, code, "Deleted by customer")).to_have_text("1")
    expect(ranking_cell(page, code, "Deleted by staff")).to_have_text("0")
    expect(ranking_cell(page, code, "Net adds")).to_have_text("0")
