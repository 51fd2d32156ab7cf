"""A copywriter writes a template in the persona's voice: as she types, the voice check flags a
sentence with none of the persona's tone markers and a word the persona never says; she fixes
both, the check clears, the template saves, and a script step is copied with one click."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from siyu.content import services
from siyu.content.models import MessageTemplate, Script
from siyu.ip.models import Persona
from tests.conftest import PASSWORD, make_brand, seat
from tests.e2e.test_console_flow import sign_in

pytestmark = pytest.mark.e2e


def test_write_a_template_and_watch_the_voice_check_flag_it_live(transactional_db, live_server, page, settings,
                                                                  tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    brand = make_brand("alpha")
    persona = Persona.objects.create(workspace=brand.workspace, name="小完子", catchphrases=["宝子们看过来"],
                                     tone_markers=["呀", "哦", "啦", "~"], forbidden_words=["全网最低"])
    base = live_server.url
    sign_in(page, base, "alpha-copywriter", PASSWORD)
    page.goto(f"{base}/content/templates/")
    page.get_by_test_id("new-template").click()
    page.fill("#id_name", "双十二预热")
    page.select_option("#id_persona", str(persona.pk))
    page.select_option("#id_context", "mass")
    check = page.get_by_test_id("voice-check")
    page.fill("#id_text", "{customer_nickname}你好呀～双十二活动开始了。全网最低价哦！")

    flagged = check.locator("[data-finding=no_tone]")
    expect(flagged).to_contain_text("双十二活动开始了。")
    expect(check.locator("[data-finding=forbidden]")).to_contain_text("全网最低")

    page.fill("#id_text", "{customer_nickname}你好呀～双十二活动开始啦！超值福利等你哦！")
    expect(check.locator("[data-finding=ok]")).to_be_visible()
    page.get_by_test_id("template-form").locator("button.btn-primary").click()
    expect(page.get_by_test_id("templates")).to_contain_text("双十二预热")
    assert MessageTemplate.objects.for_workspace(brand.workspace).get().persona_id == persona.pk

    # the script library: a step's copy button counts the copy
    folder = services.list_folders(brand.workspace, seat(brand.members["copywriter"], brand.workspace))[0]
    script = services.save_script(brand.workspace, seat(brand.members["copywriter"], brand.workspace),
                                  services.ScriptInput(folder.pk, "问候", [{"text": "好久不见呀～"}]))
    page.goto(f"{base}/content/scripts/")
    with page.expect_response(lambda r: r.url.endswith(f"/content/scripts/{script.pk}/copied/")):
        page.get_by_test_id("copy-step").first.click()
    script.refresh_from_db()
    assert Script.objects.for_workspace(brand.workspace).get().copy_count == 1
