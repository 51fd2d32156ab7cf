"""The activity pages in Chromium at 1440 px and 390 px: no horizontal scrollbar, no English word
left in the Chinese console, no browser console error (the checks of the console's main pages);
and a plan made from a template in the browser, started and ticked."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from siyu.accounts.models import StaffAccount
from siyu.activities import services
from siyu.activities.models import Activity, ActivityStatus, RunItem
from siyu.community.models import CustomerGroup, GroupDaily, GroupMember, GroupType
from siyu.core.services import OPERATOR
from tests.conftest import PASSWORD, make_brand
from tests.e2e.test_console_flow import sign_in
from tests.e2e.test_pages_in_the_browser import ALLOWED_WORDS, VISIBLE_WORDS

pytestmark = pytest.mark.e2e


def _brand():
    brand = make_brand("alpha")
    ws = brand.workspace
    staff = StaffAccount.objects.create(workspace=ws, userid="xiaowanzi01", name="小完子01")
    now = timezone.now()
    group = CustomerGroup.objects.create(workspace=ws, chat_id="wr0001", name="护肤知识学习群", type=GroupType.KNOWLEDGE,
                                         member_count=3, created_at=now - dt.timedelta(days=20))
    GroupMember.objects.create(workspace=ws, group=group, userid="wm0001", kind="customer",
                               join_time=now - dt.timedelta(hours=2))
    GroupDaily.objects.create(workspace=ws, group=group, day=timezone.localdate(), members=3, joins=1, messages=12)
    activity = services.create_activity(ws, OPERATOR, services.ActivityInput(
        name="周三晚干货分享会", type="knowledge", starts_at=now - dt.timedelta(hours=3),
        ends_at=now + dt.timedelta(hours=3), group_types=[GroupType.KNOWLEDGE], targets={"joins": 5, "messages": 100},
        roles=[services.RoleInput("主持", staff.pk)], run_sheet=[services.ItemInput("0", "主持开场", staff.pk)]))
    services.move(ws, OPERATOR, activity.pk, ActivityStatus.RUNNING)
    return ws, activity, group


def test_the_activity_pages_fit_and_read_in_chinese(transactional_db, live_server, browser):
    _ws, activity, group = _brand()
    base = live_server.url
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
    sign_in(page, base, "alpha-admin", PASSWORD)
    page.wait_for_url(f"{base}/")
    problems: list[str] = []
    pages = ["/community/activities/", "/community/activities/new/?template=checkin-21",
             f"/community/activities/{activity.pk}/", "/community/activities/calendar/",
             f"/community/activities/calendar/?group={group.pk}&kind=activity"]
    try:
        for width in (1440, 390):
            page.set_viewport_size({"width": width, "height": 900})
            for path in pages:
                errors.clear()
                response = page.goto(f"{base}{path}", wait_until="load")
                where = f"{width}px {path}"
                if response is None or response.status >= 400:
                    problems.append(f"{where}: HTTP {response.status if response else '—'}")
                    continue
                wide = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
                if wide[0] > wide[1]:
                    problems.append(f"{where}: horizontal scrollbar ({wide[0]} > {wide[1]} px)")
                english = sorted({w for w in page.evaluate(VISIBLE_WORDS) if w.lower() not in ALLOWED_WORDS})
                if english:
                    problems.append(f"{where}: English words {english[:8]}")
                problems.extend(f"{where}: {e}" for e in errors)
    finally:
        context.close()
    assert not problems, "\n".join(problems)


def test_a_plan_from_a_template_is_saved_started_and_ticked_in_the_browser(transactional_db, live_server, browser):
    ws, _activity, group = _brand()
    base = live_server.url
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        sign_in(page, base, "alpha-admin", PASSWORD)
        page.wait_for_url(f"{base}/")
        page.goto(f"{base}/community/activities/")
        page.click('[data-template="topic"]')
        page.fill("#id_name", "双十二话题夜")
        page.check(f'input[name="group_ids"][value="{group.pk}"]')
        staff = StaffAccount.unscoped.get(workspace=ws).pk
        for select in page.locator('select[name="role_staff"]').all()[:2]:  # the template's two roles
            select.select_option(str(staff))
        page.click('button[type="submit"]:has-text("保存策划")')
        page.wait_for_url(f"{base}/community/activities/*/")
        saved = Activity.unscoped.get(name="双十二话题夜")
        assert saved.group_ids == [group.pk] and RunItem.unscoped.filter(activity=saved).count() == 4
        page.click('[data-testid="start"]')
        page.locator("[data-tick]").first.click()
        expect(page.locator("[data-done]")).to_have_count(1)
    finally:
        context.close()
