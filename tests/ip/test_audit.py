"""Persona and brand-portrait changes are in the audit log: who, and each field before → after."""

from __future__ import annotations

from siyu.core.models import AuditAction, AuditEntry
from siyu.ip import services
from tests.conftest import seat
from tests.ip.conftest import make_persona, persona_input
from tests.support.audit import last_words


def test_creating_and_changing_a_persona_is_logged_field_by_field(brand_a):
    persona = make_persona(brand_a)
    assert last_words(brand_a.workspace) == "alpha-planner [ip/created] 新建人设「小完子」"
    admin = seat(brand_a.admin, brand_a.workspace)
    services.save_persona(brand_a.workspace, admin, persona_input(tone="温柔", interests=["护肤", "旅行"]),
                          persona_id=persona.pk)
    words = last_words(brand_a.workspace)
    assert words.startswith("alpha-admin [ip/updated] 人设「小完子」：")
    assert "语气风格：（空） → 温柔" in words and "兴趣：（空） → 护肤、旅行" in words
    assert "name" not in words and "tone" not in words


def test_saving_a_persona_unchanged_writes_nothing(brand_a):
    persona = make_persona(brand_a)
    planner = seat(brand_a.members["planner"], brand_a.workspace)
    services.save_persona(brand_a.workspace, planner, persona_input(), persona_id=persona.pk)
    assert AuditEntry.objects.for_workspace(brand_a.workspace).filter(action=AuditAction.UPDATED).count() == 0


def test_a_brand_portrait_change_is_logged_with_translated_choices(brand_a):
    planner = seat(brand_a.members["planner"], brand_a.workspace)
    services.save_portrait(brand_a.workspace, planner, services.PortraitInput(female_share=70))
    services.save_portrait(brand_a.workspace, planner, services.PortraitInput(female_share=80, competitors="完美日记"))
    words = last_words(brand_a.workspace)
    assert "70 → 80" in words and "完美日记" in words and words.startswith("alpha-planner [ip/updated] 品牌画像")
