"""The demo seed: a category tree, a dozen materials, scripts in the five scenarios and three
templates in the demo persona's voice; a second run changes nothing."""

from __future__ import annotations

from siyu.content import demo, services
from siyu.content.models import Category, Material, MessageTemplate, Script
from siyu.ip.demo import ensure_demo_ip
from tests.content.conftest import seat_of


def counts(workspace):
    return tuple(model.objects.for_workspace(workspace).count()
                 for model in (Category, Material, Script, MessageTemplate))


def test_the_demo_seed_is_complete_voiced_and_idempotent(brand_a):
    persona = ensure_demo_ip(brand_a.workspace)
    demo.seed(brand_a.workspace)
    first = counts(brand_a.workspace)
    demo.seed(brand_a.workspace)
    assert counts(brand_a.workspace) == first and first[1] >= 12 and first[3] == 3
    kinds = set(Material.objects.for_workspace(brand_a.workspace).values_list("kind", flat=True))
    assert kinds == {"text", "image", "link", "miniprogram", "file", "video", "poster"}
    scenarios = set(Script.objects.for_workspace(brand_a.workspace).values_list("folder__scenario", flat=True))
    assert scenarios == {"greeting", "product_qa", "objection", "after_sale", "win_back"}
    persona.refresh_from_db()
    assert "呀" in persona.tone_markers and persona.forbidden_words
    for template in MessageTemplate.objects.for_workspace(brand_a.workspace):
        check = services.check_template(brand_a.workspace, seat_of(brand_a, "admin"), services.TemplateInput(
            persona_id=persona.pk, context=template.context, text=template.text, material_ids=template.material_ids))
        assert check.findings == [] and check.variable_errors == [], template.name
