"""A planner builds an SOP in the editor and activates it; a customer's add enrols them; the
sweep turns the day-7 step into a task; the operator, on a phone, does it and records the
outcome; the SOP's ledger shows the step fired."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from siyu.sop.models import Sop, StaffTask, StepRun, TaskState
from siyu.sop.services import enrol, sweep
from tests.conftest import PASSWORD, make_brand
from tests.e2e.test_console_flow import sign_in
from tests.sop.conftest import make_friends

pytestmark = pytest.mark.e2e


def test_build_an_sop_and_do_its_task_on_a_phone(transactional_db, live_server, page, browser):
    brand = make_brand("alpha")
    base = live_server.url
    sign_in(page, base, "alpha-planner", PASSWORD)
    page.goto(f"{base}/content/sop/new/")
    page.fill("#id_name", "新客 7 天")
    page.fill("#id_quiet_start", "00:00")
    page.fill("#id_quiet_end", "00:00")
    page.uncheck("#id_working_days_only")
    page.select_option("#id_form-0-channel", "task")
    page.select_option("#id_form-0-task_kind", "invite")
    page.fill("#id_form-0-hours", "1")
    page.fill("#id_form-0-text", "邀请进「老客福利群」")
    page.click("[data-testid=save-sop]")
    expect(page.locator("[data-testid=status]")).to_have_text("草稿")
    page.click("[data-testid=status-active]")
    expect(page.locator("[data-testid=status]")).to_have_text("运行中")

    sop = Sop.unscoped.get()
    [customer] = make_friends(brand, 1)
    added = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1, minutes=5)
    enrol(brand.workspace, sop, [customer.pk], added, added)
    sweep(brand.workspace)
    assert StaffTask.unscoped.count() == 1

    phone = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844})
    mobile = phone.new_page()
    sign_in(mobile, base, "alpha-customer_ops", PASSWORD)
    mobile.goto(f"{base}/content/sop/today/")
    task = mobile.locator("[data-testid=task]")
    expect(task).to_have_count(1)
    assert mobile.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    task.locator("input[name=outcome]").fill("已邀请，已进群")
    task.locator("[data-testid=done]").click()
    expect(mobile.locator("[data-testid=task]")).to_have_count(0)
    phone.close()
    assert StaffTask.unscoped.get().state == TaskState.DONE
    assert StepRun.unscoped.get().state == "sent"

    page.goto(f"{base}/content/sop/{sop.pk}/")
    expect(page.locator("[data-step='1'] [data-testid=fired]")).to_have_text("1")
