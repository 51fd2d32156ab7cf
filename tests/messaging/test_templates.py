"""A 群发 from the brand's content templates: persona-wide variables filled, per-customer ones
refused with the reason, the voice check shown on the form, and `template_ref` recorded."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from siyu.content.models import Material, MaterialKind, MessageTemplate, TemplateContext
from siyu.ip.models import Persona
from siyu.messaging.models import MassMessage
from siyu.messaging.services import MessageInput, fill_template, plan_message, templates_for_mass
from tests.messaging.conftest import NOW, make_customer


@pytest.fixture
def persona(shop):
    return Persona.objects.create(workspace=shop.workspace, name="小完子", tone_markers=["～", "呀"],
                                  forbidden_words=["最便宜"])


def template(shop, persona, name: str, text: str, **kwargs) -> MessageTemplate:
    return MessageTemplate.objects.create(workspace=shop.workspace, name=name, persona=persona,
                                          context=kwargs.pop("context", TemplateContext.MASS), text=text, **kwargs)


def test_persona_wide_variables_are_filled_and_links_attached(shop, persona):
    link = Material.objects.create(workspace=shop.workspace, kind=MaterialKind.LINK, title="双十二会场",
                                   url="https://example.com/1212", description="全场满减")
    chosen = template(shop, persona, "大促预告", "我是{persona_name}呀～{event_date}领{welfare}，今天{today}就能预约～",
                      material_ids=[link.pk])
    template(shop, persona, "欢迎语", "你好{customer_nickname}", context=TemplateContext.WELCOME)
    assert [t.name for t in templates_for_mass(shop.workspace, shop.seat("planner"))] == ["大促预告"]

    with translation.override("zh-hans"):  # `today` is written as the console's language writes dates
        filled = fill_template(shop.workspace, shop.seat("planner"), chosen.pk, welfare="满99减20券",
                               event_date="12月12日", at=NOW)
    assert filled.text == "我是小完子呀～12月12日领满99减20券，今天12月15日就能预约～"
    assert filled.attachments == [{"msgtype": "link", "link": {
        "title": "双十二会场", "url": "https://example.com/1212", "desc": "全场满减"}}]
    assert filled.links == "双十二会场 | https://example.com/1212"
    assert not [f for f in filled.findings if f.is_error]


def test_a_template_with_per_customer_variables_is_refused_with_the_reason(shop, persona):
    chosen = template(shop, persona, "积分提醒", "{customer_nickname}，你还有{points}积分呀～")
    with pytest.raises(ValidationError) as caught:
        fill_template(shop.workspace, shop.seat("planner"), chosen.pk)
    reason = caught.value.message_dict["template"][0]
    assert "{customer_nickname}" in reason and "{points}" in reason
    # Planning with it is refused too, whatever text was typed.
    customer = make_customer(shop, "wm1")
    with pytest.raises(ValidationError) as planned:
        plan_message(shop.workspace, shop.seat("planner"), MessageInput(
            name="积分", target_kind="customers", customer_ids=[customer.pk], text="你好呀～", template_ref=chosen.pk))
    assert "{points}" in planned.value.message_dict["text"][0]


def test_a_value_not_given_is_named(shop, persona):
    chosen = template(shop, persona, "福利", "{welfare}等你来领呀～")
    with pytest.raises(ValidationError, match="welfare"):
        fill_template(shop.workspace, shop.seat("planner"), chosen.pk)


def test_forbidden_words_in_the_final_text_are_refused(shop, persona):
    chosen = template(shop, persona, "上新", "上新啦～")
    customer = make_customer(shop, "wm1")
    with pytest.raises(ValidationError) as caught:
        plan_message(shop.workspace, shop.seat("planner"), MessageInput(
            name="上新", target_kind="customers", customer_ids=[customer.pk], text="全网最便宜呀～",
            template_ref=chosen.pk))
    assert "最便宜" in caught.value.message_dict["text"][0]


def test_the_form_fills_from_a_template_shows_the_voice_check_and_records_it(shop, persona, login):
    chosen = template(shop, persona, "周末", "我是{persona_name}，周末见")  # no tone marker: a warning
    refused = template(shop, persona, "昵称", "{customer_nickname}你好呀～")
    tag = shop.tags["高"]
    make_customer(shop, "wm1", tags=("高",))
    client = login(shop.brand.members["planner"])
    form = {"name": "周末上新", "target_kind": "tags", "tags": [str(tag.pk)], "template": str(chosen.pk),
            "welfare": "", "event_date": "", "text": "", "links": ""}

    page = client.post("/content/messages/new/", form | {"fill": "1"}).content.decode()
    assert "我是小完子，周末见</textarea>" in page
    assert 'data-testid="voice-check"' in page and 'data-level="warning"' in page
    assert not MassMessage.objects.for_workspace(shop.workspace).exists()

    page = client.post("/content/messages/new/", form | {"template": str(refused.pk), "fill": "1"}).content.decode()
    assert 'data-error-for="template"' in page and "{customer_nickname}" in page

    answer = client.post("/content/messages/new/", form | {"text": "我是小完子，周末见"})
    assert answer.status_code == 302
    message = MassMessage.objects.for_workspace(shop.workspace).get()
    assert (message.template_ref, message.text) == (chosen.pk, "我是小完子，周末见")
