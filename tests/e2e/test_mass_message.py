"""A planner sends a 群发 to a segment in the console: sees how many the receive limit refuses and
who, confirms; staff at the twin confirm part; the reminders go out; the result ledger matches
the twin's record for every recipient; a cancel cancels in WeCom; the results export to Excel."""

from __future__ import annotations

import datetime as dt
import io
import os
from pathlib import Path

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from playwright.sync_api import expect

from siyu.accounts.models import StaffAccount
from siyu.content.models import MessageTemplate, TemplateContext
from siyu.customers.models import Customer, FollowRelation
from siyu.ip.models import Persona
from siyu.messaging.models import (
    BudgetRule,
    MassMessage,
    MassRecipient,
    MessagingSettings,
    RecipientStatus,
)
from siyu.messaging.services import budget, send_due_notices, track
from siyu.messaging.services.budget import Recipients
from siyu.segments.models import Segment, SegmentKind, SegmentMember
from tests.conftest import PASSWORD, make_brand
from tests.e2e.test_console_flow import sign_in
from tests.simulator.twin import connect_brand, running_twin, tokens_in_memory, twin_config

pytestmark = pytest.mark.e2e
STAFF = ("staff0", "staff1")
TWIN_STATUS = {1: RecipientStatus.SENT, 2: RecipientStatus.NOT_FRIEND, 3: RecipientStatus.OVER_LIMIT,
               0: RecipientStatus.PENDING}


def shoot(page, name: str) -> None:
    """Screenshots for people, where CI keeps them (`$SIYU_SCREENSHOT_DIR`)."""
    if folder := os.environ.get("SIYU_SCREENSHOT_DIR"):
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def test_send_a_mass_message_to_a_segment_and_follow_it(transactional_db, live_server, page, settings):
    brand = make_brand("alpha")
    ws = brand.workspace
    with tokens_in_memory(settings), running_twin(twin_config()) as twin:
        connect_brand(ws, twin)
        for userid in STAFF:
            twin.add_staff(userid)
        accounts = [StaffAccount.objects.create(workspace=ws, userid=u, name=f"小完子{u[-1]}") for u in STAFF]
        segment = Segment.objects.create(workspace=ws, name="老客回访", kind=SegmentKind.STATIC, member_count=6)
        now = timezone.now()
        for n in range(6):
            external, account = f"wmE2E{n}", accounts[n % 2]
            twin.admin.post("/twin/customers/add", json={"external_userid": external, "name": external,
                                                         "staff_userid": account.userid}).raise_for_status()
            customer = Customer.objects.create(workspace=ws, external_userid=external, name=f"客户{n}")
            FollowRelation.objects.create(workspace=ws, customer=customer, account=account, added_at=now)
            SegmentMember.objects.create(workspace=ws, segment=segment, customer=customer, added_at=now)
        MessagingSettings.objects.create(workspace=ws, budget_rule=BudgetRule.DAILY_ONE)
        persona = Persona.objects.create(workspace=ws, name="小完子", tone_markers=["～", "呀"])
        MessageTemplate.objects.create(workspace=ws, name="周末到店", persona=persona, context=TemplateContext.MASS,
                                       text="我是{persona_name}呀，周末到店有{welfare}相送～")
        full = Customer.objects.for_workspace(ws).get(external_userid="wmE2E0")
        budget.reserve(ws, Recipients.customers([full.pk]), now, "sop", "today")  # today's one is spent

        base = live_server.url
        page.on("dialog", lambda dialog: dialog.accept())
        sign_in(page, base, "alpha-planner", PASSWORD)
        page.goto(f"{base}/content/messages/")
        page.get_by_test_id("new-message").click()
        page.fill("#id_name", "周末回访")
        page.select_option("#id_target_kind", "segment")
        page.select_option("#id_segment", label="老客回访")
        # The text comes from the brand's template, filled and voice-checked on the form.
        page.select_option("#id_template", label="周末到店")
        page.fill("#id_welfare", "小样")
        page.get_by_test_id("fill").click()
        expect(page.locator("#id_text")).to_have_value("我是小完子呀，周末到店有小样相送～")
        expect(page.get_by_test_id("voice-check")).to_be_visible()
        shoot(page, "mass-template")
        page.get_by_test_id("plan").click()

        expect(page.get_by_test_id("planned")).to_have_text("5")
        expect(page.get_by_test_id("refused")).to_have_text("1")
        expect(page.get_by_test_id("refused-list").locator("[data-customer]")).to_have_count(1)
        expect(page.locator('[data-customer="wmE2E0"]')).to_be_visible()
        shoot(page, "mass-preview")
        page.set_viewport_size({"width": 390, "height": 844})  # a phone: no sideways scrolling
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        shoot(page, "mass-preview-390")
        page.set_viewport_size({"width": 1280, "height": 800})
        page.get_by_test_id("confirm").click()
        expect(page.get_by_test_id("progress")).to_be_visible()

        message = MassMessage.objects.for_workspace(ws).get()
        from siyu.messaging import tasks

        tasks.tick_brand.call(ws.pk)  # the worker's per-brand minute
        tasks_made = {t["creator"]: t["msgid"] for t in twin.state()["mass_tasks"]}
        assert set(tasks_made) == set(STAFF)
        twin.advance(5)
        twin.admin.post("/twin/mass/confirm", json={"msgid": tasks_made["staff0"], "userid": "staff0"})
        track(ws, timezone.now() + dt.timedelta(minutes=31))  # past the first reminder step

        page.reload()
        shoot(page, "mass-progress")
        page.set_viewport_size({"width": 390, "height": 844})
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.set_viewport_size({"width": 1280, "height": 800})
        expect(page.locator('[data-sender="staff0"] [data-testid="sender-status"]')).to_have_text("已发送")
        expect(page.locator('[data-sender="staff1"] [data-testid="sender-status"]')).to_have_text("未发送")
        reminders = {t["creator"]: len(t["reminders"]) for t in twin.state()["mass_tasks"]}
        assert reminders == {"staff0": 0, "staff1": 1}
        # The ladder also put a card in staff1's WeCom (应用消息) that opens this message.
        assert send_due_notices(ws, timezone.now() + dt.timedelta(minutes=31)) == 1
        cards = twin.admin.get("/twin/notices", params={"userid": "staff1"}).json()["notices"]
        assert [c["content"]["url"].rsplit("/content/", 1)[1] for c in cards] == [f"messages/{message.pk}/"]
        assert message.template_ref is not None
        page.get_by_test_id("remind").click()
        expect(page.locator(".alert-success, .alert")).not_to_have_count(0)
        assert {t["creator"]: len(t["reminders"]) for t in twin.state()["mass_tasks"]}["staff1"] == 2

        # The ledger matches the twin's record for every recipient.
        rows = {r.customer.external_userid: r.status
                for r in MassRecipient.unscoped.filter(message=message).select_related("customer")}
        sends = {s["external_userid"]: s["status"] for t in twin.state()["mass_tasks"] for s in t["sends"]}
        assert set(sends) == set(rows) - {"wmE2E0"}
        assert all(rows[e] == TWIN_STATUS[status] for e, status in sends.items())

        page.get_by_test_id("cancel").click()
        expect(page.get_by_test_id("status")).to_have_text("已取消")
        staff1_task = next(t for t in twin.state()["mass_tasks"] if t["creator"] == "staff1")
        assert staff1_task["cancelled"] is True

        expect(page.get_by_test_id("export")).to_have_count(0)  # a planner does not export; an analyst does
        page.context.clear_cookies()
        sign_in(page, base, "alpha-data_analyst", PASSWORD)
        page.goto(f"{base}/content/messages/{message.pk}/")
        with page.expect_download() as info:
            page.get_by_test_id("export").click()
        sheet = load_workbook(io.BytesIO(Path(info.value.path()).read_bytes())).active
        results = {row[1]: row[4] for row in list(sheet.values)[1:]}
        assert results["wmE2E0"] == "超出接收上限（未发送）" and results["wmE2E1"] == "已取消"
