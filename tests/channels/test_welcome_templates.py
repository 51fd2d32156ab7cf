"""Content templates (消息模板) in the welcome-message editor: the picker lists the brand's welcome
templates with their text, variables kept as `{...}`; a variable the welcome cannot fill is
named in the picker and refused when the code is saved; the voice check answers in the voice of
the sending account's persona (tone markers, forbidden words, WeCom's limits)."""

from __future__ import annotations

import json
import re

import pytest

from siyu.channels.models import ChannelCode
from siyu.channels.services import welcome_templates
from siyu.content import services as content
from siyu.content.models import TemplateContext
from siyu.ip.models import Persona
from tests.channels.test_pages import form_data
from tests.conftest import seat

GREETING = "{customer_nickname}你好呀～我是{persona_name}～"
DATED = "今天是{today}，{customer_nickname}你好呀～"


@pytest.fixture
def studio(shop):
    ws = shop.workspace
    persona = Persona.objects.create(workspace=ws, name="小完子", tone_markers=["～", "呀"],
                                     forbidden_words=["最便宜"])
    account = shop.accounts["xiaowanzi01"]
    account.persona = persona
    account.save(update_fields=["persona"])
    lead = seat(shop.members["ops_lead"], ws)
    shop.greeting = content.save_template(ws, lead, content.TemplateInput(
        name="新人欢迎", persona_id=persona.pk, context=TemplateContext.WELCOME, text=GREETING))
    shop.dated = content.save_template(ws, lead, content.TemplateInput(
        name="带日期欢迎", context=TemplateContext.WELCOME, text=DATED))
    content.save_template(ws, lead, content.TemplateInput(name="群发模板", context=TemplateContext.MASS, text="大促来了～"))
    shop.persona = persona
    return shop


def editor_json(html: str) -> dict:
    return json.loads(re.search(r'id="welcome-editor-data" type="application/json">(.+?)</script>', html).group(1))


def test_the_picker_offers_the_brands_welcome_templates_with_variables_kept(studio, brand_b):
    options = {o.name: o for o in welcome_templates.template_options(studio.workspace, studio.planner)}
    assert set(options) == {"新人欢迎", "带日期欢迎"}  # not the mass-message template
    assert options["新人欢迎"].text == GREETING and options["新人欢迎"].persona == "小完子"
    assert options["新人欢迎"].unfillable == [] and options["带日期欢迎"].unfillable == ["today"]
    assert welcome_templates.template_options(brand_b.workspace, seat(brand_b.admin, brand_b.workspace)) == []


def test_the_editor_page_carries_the_picker_and_the_voice_check(studio, login):
    html = login(studio.members["planner"]).get("/channels/codes/new/").content.decode()
    assert 'data-template-picker' in html and 'data-testid="voice-check"' in html
    assert f'<option value="{studio.greeting.pk}">新人欢迎 · 小完子</option>' in html
    data = editor_json(html)
    assert data["templates"][str(studio.greeting.pk)]["text"] == GREETING
    assert data["voiceUrl"] == "/channels/welcome/voice/"


def test_a_template_variable_the_welcome_cannot_fill_is_refused_on_save_with_the_reason(studio, login):
    client = login(studio.members["planner"])
    html = client.post("/channels/codes/new/", form_data(studio, welcome_text=DATED)).content.decode()
    error = re.search(r'data-error-for="welcome_text">([^<]+)<', html).group(1)
    assert "{today}" in error
    assert not ChannelCode.objects.for_workspace(studio.workspace).exists()
    assert client.post("/channels/codes/new/", form_data(studio, welcome_text=GREETING)).status_code == 302


def test_the_voice_check_speaks_for_the_senders_persona(studio, login):
    client = login(studio.members["planner"])
    sender = studio.accounts["xiaowanzi01"].pk
    fine = client.post("/channels/welcome/voice/", {"text": GREETING, "sender": sender, "attachments": 1}).json()
    assert fine["persona"] == "小完子" and fine["toneMarkers"] == ["～", "呀"] and fine["forbiddenWords"] == ["最便宜"]
    assert fine["findings"] == []
    bad = client.post("/channels/welcome/voice/", {"text": "全网最便宜。快来买", "sender": sender,
                                                   "attachments": 10}).json()
    assert {f["code"] for f in bad["findings"]} == {"forbidden", "too_many_attachments", "no_tone"}
    plain = client.post("/channels/welcome/voice/", {"text": "好" * 1334,
                                                     "sender": studio.accounts["xiaowanzi02"].pk}).json()
    assert plain["persona"] == "" and [f["code"] for f in plain["findings"]] == ["too_long"]
