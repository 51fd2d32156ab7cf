"""Scripts: the five scenario folders, steps of text and materials, search, copy counts."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from siyu.content import services
from siyu.content.models import Scenario, Script
from tests.content.conftest import link_material, seat_of


def folder(brand, scenario=Scenario.GREETING):
    return next(f for f in services.list_folders(brand.workspace, seat_of(brand, "copywriter"))
                if f.scenario == scenario)


def test_the_five_scenario_folders_exist_once(brand_a):
    first = services.list_folders(brand_a.workspace, seat_of(brand_a, "customer_ops"))
    again = services.list_folders(brand_a.workspace, seat_of(brand_a, "customer_ops"))
    assert [f.name for f in first] == ["打招呼", "产品问答", "异议处理", "售后", "召回"] == [f.name for f in again]
    services.create_folder(brand_a.workspace, seat_of(brand_a, "planner"), name="直播间")
    assert len(services.list_folders(brand_a.workspace, seat_of(brand_a, "planner"))) == 6


def test_a_script_is_an_ordered_sequence_of_text_and_materials(brand_a):
    link = link_material(brand_a)
    script = services.save_script(brand_a.workspace, seat_of(brand_a, "copywriter"), services.ScriptInput(
        folder(brand_a).pk, "新朋友打招呼", [{"text": "你好呀～"}, {"material": link.pk}, {"text": "有问题随时问我哦"}]))
    [(found, steps)] = [(s, services.shown_steps(brand_a.workspace, [s])[s.pk]) for s in
                        services.search_scripts(brand_a.workspace, seat_of(brand_a, "merchandiser"), q="随时问")]
    assert found == script
    assert [s.text for s in steps] == ["你好呀～", f"{link.title} {link.url}", "有问题随时问我哦"]


def test_a_script_needs_steps_and_materials_of_its_brand(brand_a, brand_b):
    theirs = link_material(brand_b)
    with pytest.raises(ValidationError) as refused:
        services.save_script(brand_a.workspace, seat_of(brand_a, "copywriter"), services.ScriptInput(
            folder(brand_a).pk, "", [{"material": theirs.pk}]))
    assert set(refused.value.message_dict) == {"title", "steps"}
    with pytest.raises(ValidationError):
        services.save_script(brand_a.workspace, seat_of(brand_a, "copywriter"), services.ScriptInput(
            folder(brand_a).pk, "空", []))


def test_copying_counts_for_every_role_that_sees_scripts(brand_a):
    script = services.save_script(brand_a.workspace, seat_of(brand_a, "copywriter"), services.ScriptInput(
        folder(brand_a).pk, "问候", [{"text": "好久不见呀"}]))
    assert services.record_copy(brand_a.workspace, seat_of(brand_a, "customer_ops"), script.pk) == 1
    assert services.record_copy(brand_a.workspace, seat_of(brand_a, "merchandiser"), script.pk) == 2


def test_viewers_may_not_write_scripts_and_other_brands_cannot_copy_them(brand_a, brand_b):
    with pytest.raises(PermissionDenied):
        services.save_script(brand_a.workspace, seat_of(brand_a, "customer_ops"), services.ScriptInput(
            folder(brand_a).pk, "x", [{"text": "y"}]))
    script = services.save_script(brand_a.workspace, seat_of(brand_a, "planner"), services.ScriptInput(
        folder(brand_a).pk, "x", [{"text": "y"}]))
    with pytest.raises(Script.DoesNotExist):
        services.record_copy(brand_b.workspace, seat_of(brand_b, "admin"), script.pk)
