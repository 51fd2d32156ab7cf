"""A brand admin's first session in a real browser: sign in, switch language, read the home
chart, create a brand, invite a member with a role; the member signs up and is refused what
the role may not do."""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD, make_brand

pytestmark = pytest.mark.e2e


def sign_in(page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.locator("form.card button[type=submit]").click()


def test_admin_builds_a_team_and_a_member_is_refused_by_role(transactional_db, live_server, page, browser):
    make_brand("alpha")
    base = live_server.url

    # Chinese by default, even though the browser asks for English.
    sign_in(page, base, "alpha-admin", "wrong-password")
    expect(page.get_by_text("用户名或密码错误")).to_be_visible()
    sign_in(page, base, "alpha-admin", PASSWORD)
    expect(page.get_by_role("heading", name=re.compile("概览"))).to_be_visible()

    # The home page shows today's ops numbers; a brand with no customers yet gets the chart's
    # empty state, not a blank canvas (tests/e2e/test_charts.py draws it with data).
    expect(page.get_by_test_id("fig-adds")).to_have_text("0")
    expect(page.get_by_test_id("trend-chart-empty")).to_be_visible()
    expect(page.locator("#trend-chart canvas")).to_have_count(0)
    # The event bus's counts and chart are on the Tasks page (empty: no event yet).
    page.goto(f"{base}/tasks/")
    expect(page.get_by_test_id("events-chart-empty")).to_be_visible()
    page.goto(f"{base}/")

    # Switch to English; the choice is remembered across pages.
    page.get_by_test_id("lang-en").click()
    expect(page.get_by_role("heading", name=re.compile("Overview"))).to_be_visible()
    page.goto(f"{base}/team/")
    expect(page.get_by_role("heading", name="Team & roles")).to_be_visible()

    # Create a second brand; its creator becomes its admin and lands in it.
    page.get_by_role("link", name="New brand").click()
    page.locator("form.card button[type=submit]").click()  # empty: the form explains
    expect(page.locator(".invalid-feedback").first).to_be_visible()
    page.fill("#id_name", "Xiaowanzi Store Two")
    page.fill("#id_slug", "store-two")
    page.locator("form.card button[type=submit]").click()
    expect(page.locator("#workspace-switch option:checked")).to_have_text("Xiaowanzi Store Two")

    # Choosing another brand switches at once (console.js binds it: no inline handlers under the CSP).
    page.select_option("#workspace-switch", label="Brand alpha")
    expect(page.get_by_role("heading", name=re.compile("Brand alpha"))).to_be_visible()
    page.select_option("#workspace-switch", label="Xiaowanzi Store Two")
    expect(page.get_by_role("heading", name=re.compile("Xiaowanzi Store Two"))).to_be_visible()

    # Invite a copywriter to the new brand.
    page.goto(f"{base}/team/")
    page.select_option("#id_role", "copywriter")
    page.fill("#id_note", "Xiao Li")
    page.get_by_role("button", name="Create invitation link").click()
    link = page.get_by_test_id("invite-link").input_value()
    assert "/join/" in link

    # The invitee, in another browser, joins with that link.
    other = browser.new_context(locale="zh-CN")
    member = other.new_page()
    member.goto(link)
    member.fill("#id_username", "xiaoli")
    member.fill("#id_password", "s3cure-pass-99")
    member.fill("#id_password2", "s3cure-pass-99")
    member.locator("form.card button[type=submit]").click()
    expect(member.get_by_test_id("whoami")).to_contain_text("文案编辑")

    # The copywriter has no team or audit pages, and is refused when going there directly.
    expect(member.get_by_role("link", name="团队与权限")).to_have_count(0)
    member.goto(f"{base}/team/")
    expect(member.get_by_test_id("denied")).to_be_visible()
    member.goto(f"{base}/audit/")
    expect(member.get_by_test_id("denied")).to_be_visible()
    other.close()

    # The admin sees the new member, and the audit log has the story.
    page.goto(f"{base}/team/")
    expect(page.get_by_test_id("members")).to_contain_text("xiaoli")
    row = page.get_by_test_id("members").locator("tr", has_text="xiaoli")

    # Removing asks first; declining keeps the member.
    questions: list[str] = []

    def answer(dialog, accept: bool) -> None:
        questions.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda dialog: answer(dialog, False))
    row.get_by_role("button", name="Remove").click()
    expect(page.get_by_test_id("members")).to_contain_text("xiaoli")
    assert "Remove xiaoli from this brand?" in questions[-1]

    # A role is saved by its button; granting Administrator asks first.
    row.locator("select[name=role]").select_option("admin")
    page.once("dialog", lambda dialog: answer(dialog, True))
    row.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Role changed.")).to_be_visible()
    assert "Make xiaoli an administrator?" in questions[-1]
    expect(page.get_by_test_id("members").locator("tr", has_text="xiaoli").locator("select[name=role]")).to_have_value("admin")
    page.goto(f"{base}/audit/")
    expect(page.get_by_test_id("audit")).to_contain_text("Member joined")
    expect(page.get_by_test_id("audit")).to_contain_text("Brand created")
