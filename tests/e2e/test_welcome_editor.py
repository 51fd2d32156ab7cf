"""Issue 12, the welcome-message editor in Chromium under the console's CSP: a planner starts from
a content template (its variables kept; one the welcome cannot fill is named) and watches the
persona voice check beside the preview flag a forbidden word, then types the welcome, inserts a variable at the cursor, watches the phone preview (the persona's avatar and
name, sample values, a link card) and the byte counter follow, sees the counter turn red past
WeCom's 4,000 bytes, sends a test to a colleague's WeCom (the twin records it), and the editor
fits 1440 px and 390 px without a horizontal scrollbar. Screenshots go where the main pages'
do (`SIYU_SCREENSHOT_DIR`, else pytest's temporary directory)."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from playwright.sync_api import expect

from siyu.accounts.models import StaffAccount
from siyu.content import services as content
from siyu.content.models import TemplateContext
from siyu.core.permissions import Role
from siyu.ip.models import Persona
from tests.conftest import PASSWORD, make_brand, seat
from tests.e2e.test_console_flow import sign_in
from tests.e2e.test_pages_in_the_browser import ALLOWED_WORDS, screenshot_dir
from tests.simulator.twin import connect_brand, running_twin, tokens_in_memory, twin_config

pytestmark = pytest.mark.e2e

EDITOR_WORDS = """() => {
  const words = [];
  const root = document.querySelector('[data-welcome-editor]');
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || el.closest('script, style, code, template, textarea, select, [translate="no"]')) continue;
    if (!el.checkVisibility || !el.checkVisibility()) continue;
    for (const token of node.textContent.split(/\\s+/)) {
      const bare = token.replace(/^[^A-Za-z0-9_]+|[^A-Za-z0-9_]+$/g, "");
      if (/^[A-Za-z]{4,}$/.test(bare)) words.push(bare);
    }
  }
  return words;
}"""


def no_horizontal_scrollbar(page) -> None:
    width, client = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width <= client, f"horizontal scrollbar: {width} > {client} px"


def test_a_planner_writes_a_welcome_watches_the_preview_and_sends_a_test(
        transactional_db, live_server, browser, settings, tmp_path, tmp_path_factory):
    settings.MEDIA_ROOT = tmp_path / "media"
    brand = make_brand("alpha")
    ws = brand.workspace
    avatar = io.BytesIO()
    Image.new("RGB", (64, 64), "#c0392b").save(avatar, "PNG")
    (tmp_path / "media" / "avatars" / str(ws.pk)).mkdir(parents=True)
    (tmp_path / "media" / "avatars" / str(ws.pk) / "xiaowanzi.png").write_bytes(avatar.getvalue())
    persona = Persona.objects.create(workspace=ws, name="小完子", avatar=f"avatars/{ws.pk}/xiaowanzi.png",
                                     tone_markers=["～"], forbidden_words=["最便宜"])
    lead = seat(brand.members[Role.OPS_LEAD], ws)
    greeting = content.save_template(ws, lead, content.TemplateInput(
        name="新人欢迎", persona_id=persona.pk, context=TemplateContext.WELCOME, text="{customer_nickname}你好呀～"))
    dated = content.save_template(ws, lead, content.TemplateInput(
        name="带日期欢迎", context=TemplateContext.WELCOME, text="今天是{today}～"))
    StaffAccount.objects.create(workspace=ws, userid="xiaowanzi01", name="小完子01", persona=persona)
    StaffAccount.objects.create(workspace=ws, userid="planner01", name="策划小李")
    shots = screenshot_dir(tmp_path_factory)
    base = live_server.url
    context = browser.new_context(locale="zh-CN", viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems: list[str] = []
    # A failed load is reported by its address (the browser's console line does not name it);
    # the favicon the browser asks for by itself is not the page's.
    page.on("console", lambda m: problems.append(f"console: {m.text}")
            if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
    page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
    page.on("pageerror", lambda e: problems.append(f"uncaught: {e}"))
    with tokens_in_memory(settings), running_twin(twin_config()) as twin:
        twin.add_staff("xiaowanzi01")
        twin.add_staff("planner01")
        connect_brand(ws, twin)
        sign_in(page, base, "alpha-planner", PASSWORD)
        page.wait_for_url(f"{base}/")
        page.goto(f"{base}/channels/codes/new/")
        page.locator("select[name=seats-0-account]").select_option(label="小完子01")

        editor = page.get_by_test_id("welcome-editor")
        preview = page.get_by_test_id("welcome-preview")
        counter = page.get_by_test_id("byte-counter")
        text = page.get_by_test_id("welcome-text")
        voice = page.get_by_test_id("voice-check")
        editor.locator("[data-template-picker]").select_option(str(greeting.pk))
        expect(text).to_have_value("{customer_nickname}你好呀～")
        expect(page.get_by_test_id("preview-text")).to_have_text("王小雨你好呀～")
        expect(page.get_by_test_id("template-note")).to_contain_text("新人欢迎")
        expect(voice).to_contain_text("小完子 的语气")
        expect(voice.locator(".is-fine")).to_be_visible()
        text.press("End")
        text.press_sequentially("全网最便宜")
        expect(voice.locator("[data-finding=forbidden]")).to_contain_text("最便宜")
        expect(page.get_by_test_id("template-note")).to_be_empty()  # the text is no longer the template's
        editor.locator("[data-template-picker]").select_option(str(dated.pk))
        expect(text).to_have_value("今天是{today}～")
        expect(page.get_by_test_id("template-note")).to_contain_text("{today}")
        text.fill("你好，")
        expect(counter).to_have_text("9 / 4000 字节")
        text.press("End")
        editor.locator("[data-insert-variable=customer_nickname]").click()
        text.press_sequentially("，我是")
        editor.locator("[data-insert-variable=persona_name]").click()
        expect(text).to_have_value("你好，{customer_nickname}，我是{persona_name}")
        expect(page.get_by_test_id("preview-text")).to_have_text("你好，王小雨，我是小完子")
        expect(preview.locator("[data-preview-title]")).to_have_text("小完子")
        expect(preview.locator(".welcome-avatar img").first).to_have_attribute("src", f"/ip/personas/{persona.pk}/avatar/")
        expect(counter).not_to_have_class("welcome-counter is-over")
        expect(editor.locator("[data-byte-problem]")).to_be_hidden()

        page.get_by_test_id("add-link").click()
        row = editor.locator("[data-attachment]:not([hidden])").last
        row.locator("[data-field=title]").fill("新人礼包")
        row.locator("[data-field=url]").fill("https://shop.example.com/gift")
        row.locator("[data-field=description]").fill("点击领取新人专享券")
        card = preview.locator("[data-preview-kind=link]")
        expect(card).to_contain_text("新人礼包")
        expect(card).to_contain_text("点击领取新人专享券")
        expect(page.get_by_test_id("attachment-counter")).to_have_text("1 / 9 附件")
        page.get_by_test_id("add-image").click()
        picture = editor.locator("[data-attachment]:not([hidden])").last
        picture.locator("[data-picture-input]").set_input_files(
            files=[{"name": "gift.png", "mimeType": "image/png", "buffer": avatar.getvalue()}])
        expect(picture.locator("[data-picture-status]")).to_have_text("图片已上传。")
        expect(preview.locator("[data-preview-kind=image] img")).to_be_visible()
        page.get_by_test_id("add-miniprogram").click()
        mini = editor.locator("[data-attachment]:not([hidden])").last
        mini.locator("[data-field=title]").fill("小完子商城")
        expect(preview.locator("[data-preview-kind=miniprogram]")).to_contain_text("小完子商城")
        mini.locator("[data-remove-attachment]").click()
        expect(preview.locator("[data-preview-kind=miniprogram]")).to_have_count(0)

        page.locator("#id_test_recipient").select_option(label="策划小李")
        page.get_by_test_id("test-send").click()
        expect(page.get_by_test_id("test-send-result")).to_contain_text("策划小李")
        sent = twin.admin.get("/twin/notices", params={"userid": "planner01"}).json()["notices"]
        assert "你好，王小雨，我是小完子" in sent[0]["content"]["content"]
        assert [n["msgtype"] for n in sent] == ["text", "textcard", "image"]

        for width in (1440, 390):
            page.set_viewport_size({"width": width, "height": 900})
            editor.scroll_into_view_if_needed()
            expect(voice).to_be_visible()
            phone_box, voice_box = preview.bounding_box(), voice.bounding_box()
            assert voice_box["y"] >= phone_box["y"] + phone_box["height"], "the voice check sits under the phone"
            no_horizontal_scrollbar(page)
            editor.screenshot(path=str(shots / f"{width}-welcome-editor.png"))
            page.screenshot(path=str(shots / f"{width}-channels-codes-new.png"), full_page=True)
        english = sorted({w for w in page.evaluate(EDITOR_WORDS) if w.lower() not in ALLOWED_WORDS})
        assert not english, f"English words in the editor: {english}"

        text.fill("好" * 1334)  # 4,002 bytes
        expect(counter).to_have_text("4002 / 4000 字节")
        expect(counter).to_have_class("welcome-counter is-over")
        expect(editor.locator("[data-byte-problem]")).to_be_visible()
        page.get_by_test_id("save-code").click()  # refused in the page, nothing posted
        expect(editor.locator("[data-byte-problem]")).to_be_visible()
        assert page.url == f"{base}/channels/codes/new/"
    context.close()
    assert not problems, "\n".join(problems)
