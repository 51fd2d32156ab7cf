"""Templates: the variable schema is enforced at save, render fills values, the voice check's
errors block a save, and what the welcome editor and messaging call."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from siyu.content import services
from siyu.content.models import MessageTemplate, TemplateContext
from tests.content.conftest import image_material, seat_of, text_material, voiced_persona


def save(brand, role="copywriter", **kw):
    data = {"name": "欢迎语", "context": TemplateContext.WELCOME, "text": "{customer_nickname}你好呀～", **kw}
    return services.save_template(brand.workspace, seat_of(brand, role), services.TemplateInput(**data))


def test_an_unknown_variable_is_an_error_at_save(brand_a):
    with pytest.raises(ValidationError) as refused:
        save(brand_a, text="{customer_name}你好呀～")
    assert "customer_name" in refused.value.message_dict["text"][0]


def test_a_variable_that_does_not_exist_in_the_context_is_an_error_at_save(brand_a):
    with pytest.raises(ValidationError) as refused:
        save(brand_a, context=TemplateContext.GROUP, text="{customer_nickname}你好呀～")
    assert "customer_nickname" in refused.value.message_dict["text"][0]
    save(brand_a, context=TemplateContext.GROUP, text="{group_name}的宝子们好呀～")


def test_render_fills_every_variable_and_raises_for_a_missing_value(brand_a):
    template = save(brand_a, text="{customer_nickname}你好呀～我是{persona_name}哦")
    rendered = services.render_template(template, {"customer_nickname": "王小雨", "persona_name": "小完子"})
    assert rendered.text == "王小雨你好呀～我是小完子哦" and rendered.materials == []
    with pytest.raises(ValidationError) as refused:
        services.render_template(template, {"customer_nickname": "王小雨"})
    assert "{persona_name}" in refused.value.messages[0]


def test_render_gives_the_attached_materials_in_order(brand_a):
    first, second = image_material(brand_a, "图1"), text_material(brand_a, "文2")
    template = save(brand_a, material_ids=[second.pk, first.pk])
    assert services.render_template(template, {"customer_nickname": "x"}).materials == [second, first]


def test_forbidden_words_and_ten_attachments_block_the_save_but_tone_warnings_do_not(brand_a):
    persona = voiced_persona(brand_a)
    materials = [text_material(brand_a, f"m{i}").pk for i in range(10)]
    with pytest.raises(ValidationError) as refused:
        save(brand_a, persona_id=persona.pk, text="全网最低价呀", material_ids=materials)
    assert set(refused.value.message_dict) == {"text", "material_ids"}
    saved = save(brand_a, persona_id=persona.pk, text="欢迎光临本店。")
    check = services.check_template(brand_a.workspace, seat_of(brand_a, "planner"), services.TemplateInput(
        persona_id=persona.pk, context=saved.context, text=saved.text))
    assert [f.sentence for f in check.findings] == ["欢迎光临本店。"] and check.errors == []


def test_template_choices_are_the_brands_templates_for_one_context(brand_a, brand_b):
    welcome = save(brand_a)
    save(brand_a, name="群发", context=TemplateContext.MASS)
    save(brand_b)
    assert services.template_choices(brand_a.workspace, seat_of(brand_a, "customer_ops"),
                                     TemplateContext.WELCOME) == [welcome]


def test_planners_edit_templates_and_viewers_may_not(brand_a):
    save(brand_a, role="planner")
    with pytest.raises(PermissionDenied):
        save(brand_a, role="data_analyst", name="x")
    with pytest.raises(MessageTemplate.DoesNotExist):
        services.get_template(brand_a.workspace, seat_of(brand_a, "admin"), 10**9)


def test_the_schema_says_where_each_variable_exists():
    group = {v.name for v in services.variable_schema(TemplateContext.GROUP)}
    assert "group_name" in group and "customer_nickname" not in group
    assert {"customer_nickname", "persona_name", "staff_name", "welfare", "group_name", "points", "today",
            "event_date"} == set(services.VARIABLES)
