"""群规: templates, one rule set per group type, the text for the welcome, publishing as tasks."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from siyu.community.models import CustomerGroup, GroupType
from siyu.core.models import AuditEntry
from siyu.moderation import services
from siyu.sop.models import StaffTask
from tests.conftest import seat


def _group(brand, name, type_="", notice="", chat_id=None):
    return CustomerGroup.objects.create(workspace=brand.workspace, chat_id=chat_id or f"wr{name}", name=name,
                                        type=type_, notice=notice)


def test_the_templates_follow_seed_003_and_are_in_chinese():
    assert {t.key for t in services.TEMPLATES} >= {"welfare", "knowledge", "vip", "event", "interest"}
    for t in services.TEMPLATES:
        assert "昵称" in t.join_rules and "广告" in (t.behaviour + t.penalties) and "移出" in t.penalties


def test_a_group_gets_its_types_rules_else_the_default(brand_a):
    admin = seat(brand_a.admin, brand_a.workspace)
    vip = _group(brand_a, "会员群", GroupType.VIP)
    other = _group(brand_a, "福利群", GroupType.WELFARE)
    assert services.rules_text_for(brand_a.workspace, other) == ""
    t = services.TEMPLATE_KEYS["vip"]
    services.save_rules(brand_a.workspace, admin, name=t.title, group_type=GroupType.VIP, join_rules=t.join_rules,
                        behaviour=t.behaviour, penalties=t.penalties, template="vip")
    services.save_rules(brand_a.workspace, admin, name="通用群规", behaviour="不发广告")
    assert services.rules_text_for(brand_a.workspace, vip).startswith("【会员群群规】")
    assert services.rules_text_for(brand_a.workspace, other).startswith("【通用群规】")
    assert "不发广告" in services.rules_text_for(brand_a.workspace, other)
    with pytest.raises(ValidationError) as refused:
        services.save_rules(brand_a.workspace, admin, name="第二个", group_type=GroupType.VIP, behaviour="x")
    assert "group_type" in refused.value.message_dict


def test_saving_explains_every_problem_and_is_for_editors(brand_a):
    with pytest.raises(ValidationError) as refused:
        services.save_rules(brand_a.workspace, seat(brand_a.admin, brand_a.workspace), name="", group_type="nope")
    assert {"name", "group_type"} <= set(refused.value.message_dict)
    with pytest.raises(PermissionDenied):
        services.save_rules(brand_a.workspace, seat(brand_a.members["copywriter"], brand_a.workspace), name="x",
                            behaviour="y")


def test_publishing_gives_each_owner_one_task_per_version_and_skips_groups_already_carrying_it(brand_a):
    ws = brand_a.workspace
    admin = seat(brand_a.admin, ws)
    rules = services.save_rules(ws, admin, name="群规", behaviour="不发广告")
    text = services.rules_text(rules)
    _group(brand_a, "一群")
    _group(brand_a, "二群", notice=f"欢迎！\n{text}")
    assert services.publish_rules(ws, admin, rules.pk) == 1
    assert services.publish_rules(ws, admin, rules.pk) == 0  # the same version again: nothing new
    task = StaffTask.objects.for_workspace(ws).get(source="moderation")
    assert "一群" in task.subject and "不发广告" in task.text
    services.save_rules(ws, admin, name="群规", behaviour="不发广告，不刷屏", rules_id=rules.pk)
    assert services.publish_rules(ws, admin, rules.pk) == 2  # version 2: both groups
    assert AuditEntry.objects.for_workspace(ws).filter(module="moderation").count() == 5


def test_rules_of_one_brand_do_not_apply_to_another(brand_a, brand_b):
    services.save_rules(brand_a.workspace, seat(brand_a.admin, brand_a.workspace), name="群规", behaviour="x")
    assert services.rules_text_for(brand_b.workspace, _group(brand_b, "别家群")) == ""
