"""Phones, in Chromium at phone size (390 × 844, touch): a staff member opens the chat sidebar
through the twin's WeCom OAuth and JS-SDK stand-in, tags the open customer (the twin's WeCom
records it) and sends a script (the stand-in records the payload); a fan opens a signed link,
passes the service account's OAuth and sees their welfare. No page scrolls sideways or shows
an English word."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from siyu.content.models import Script, ScriptFolder
from siyu.mobile import services
from tests.conftest import make_brand, wait_for
from tests.e2e.test_mass_message import shoot
from tests.mobile.conftest import make_phones
from tests.simulator.twin import CORP_ID, running_twin, tokens_in_memory, twin_config

pytestmark = pytest.mark.e2e
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True, "locale": "zh-CN"}
# Words a Chinese reader sees as they are: the product's names and WeCom's.
ALLOWED_WORDS = {"SOP", "Siyu"}


def phone_page(browser):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"uncaught: {error}"))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" and "Content Security" in m.text else None)
    return context, page, problems


def assert_fits_and_reads_chinese(page, *names: str) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "scrolls sideways"
    text = page.inner_text("body")
    for name in names:
        text = text.replace(name, "")
    english = set(re.findall(r"[A-Za-z]{3,}", text)) - ALLOWED_WORDS
    assert not english, f"untranslated: {sorted(english)}"


def test_staff_use_the_sidebar_and_a_fan_sees_their_welfare(transactional_db, live_server, browser, settings):
    brand = make_brand("alpha")
    ws = brand.workspace
    # The twin's phone cookie is same-site with the platform only on the same host name.
    base = live_server.url.replace("localhost", "127.0.0.1")
    with tokens_in_memory(settings), running_twin(twin_config()) as twin:
        phones = make_phones(ws, twin)
        folder = ScriptFolder.objects.create(workspace=ws, name="产品问答", position=1)
        Script.objects.create(workspace=ws, folder=folder, title="干皮怎么选", steps=[{"text": "干皮姐妹先试试修护精华～"}])
        twin.admin.post("/twin/phone/open_chat", json={"corpid": CORP_ID, "userid": "staff0",
                                                       "external_userid": "wmPHONE01"}).raise_for_status()

        context, page, problems = phone_page(browser)
        page.goto(f"{base}/m/{ws.slug}/staff/")
        page.get_by_role("link", name=re.compile("小完子")).click()  # WeCom OAuth: whose phone
        page.wait_for_url(re.compile(r"/staff/c/wmPHONE01/$"))  # the open chat, found by the JS-SDK
        expect(page.locator("h1")).to_contain_text("林小姐")
        assert_fits_and_reads_chinese(page, ws.name)
        shoot(page, "390-sidebar-customer")

        page.get_by_role("button", name="干皮").tap()
        expect(page.get_by_role("button", name="干皮")).to_have_attribute("aria-pressed", "true")
        wait_for(lambda: any(f["tag_ids"] == [phones.tag.wecom_tag_id] for f in twin.state()["friendships"]
                             if f["external_userid"] == "wmPHONE01"))

        page.get_by_role("link", name="话术").click()
        page.get_by_role("button", name="发送到聊天").tap()
        expect(page.get_by_role("button", name="已发送")).to_be_visible()
        sent = twin.admin.get("/twin/jssdk/sent", params={"corpid": CORP_ID, "userid": "staff0"}).json()["sent"]
        assert [(s["msgtype"], s["payload"]["content"]) for s in sent] == [("text", "干皮姐妹先试试修护精华～")]
        assert_fits_and_reads_chinese(page, ws.name)
        shoot(page, "390-sidebar-scripts")
        page.get_by_role("link", name="今日任务").click()
        assert_fits_and_reads_chinese(page, ws.name)
        context.close()
        assert not problems, problems

        context, page, problems = phone_page(browser)
        page.goto(base + services.fan_link_path(ws, "welfare", phones.customer.pk))
        page.get_by_role("link", name=re.compile("林小姐")).click()  # WeChat OAuth: who opens it
        expect(page.locator(".welfare__code")).to_have_text("SY-8848")
        assert_fits_and_reads_chinese(page, ws.name, "SY-8848")
        shoot(page, "390-fan-welfare")
        page.get_by_role("link", name="我的", exact=True).click()
        assert_fits_and_reads_chinese(page, ws.name)
        shoot(page, "390-fan-me")
        context.close()
        assert not problems, problems
