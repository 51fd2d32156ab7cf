"""Tag catalogue, auto-tag rule and tagging changes made by people are in the audit log; tags
that rules put on customers in the background write nothing."""

from __future__ import annotations

from siyu.core.models import AuditEntry
from siyu.tags import services
from siyu.tags.models import Tag, TagSource
from siyu.tags.services import rules
from tests.support.audit import last_words
from tests.tags.conftest import befriend


def test_a_group_its_tags_and_their_renames_are_logged(shop):
    group = services.create_group(shop.workspace, shop.ops, "购买意向", ["高", "中"])
    assert last_words(shop.workspace) == "alpha-customer_ops [tags/created] 新建标签组「购买意向」：标签：高、中"
    services.edit_group(shop.workspace, shop.ops, group.pk, name="意向")
    assert last_words(shop.workspace) == "alpha-customer_ops [tags/updated] 标签组「意向」：名称：购买意向 → 意向"
    services.set_required(shop.workspace, shop.ops, group.pk, True)
    assert last_words(shop.workspace).endswith("标签组「意向」：计入完善度：否 → 是")
    tag = Tag.objects.for_workspace(shop.workspace).get(name="中")
    services.delete_tag(shop.workspace, shop.ops, tag.pk)
    assert last_words(shop.workspace) == "alpha-customer_ops [tags/deletion] 删除标签「中」"


def test_tagging_by_hand_is_logged_and_by_a_rule_is_not(shop):
    services.create_group(shop.workspace, shop.ops, "肤质", ["油皮"])
    oily = Tag.objects.for_workspace(shop.workspace).get(name="油皮")
    customer = befriend(shop, "wmC1", "xiaowanzi01")
    services.tag_customers(shop.workspace, shop.ops, [customer.pk], [oily.pk])
    assert last_words(shop.workspace) == "alpha-customer_ops [tags/updated] 客户标签「油皮」：打上标签的客户数：1"
    services.untag_customers(shop.workspace, shop.ops, [customer.pk], [oily.pk])
    assert last_words(shop.workspace).endswith("客户标签「油皮」：移除标签的客户数：1")
    count = AuditEntry.objects.for_workspace(shop.workspace).count()
    services.tag_customers(shop.workspace, shop.ops, [customer.pk], [oily.pk], source=TagSource.RULE)
    assert AuditEntry.objects.for_workspace(shop.workspace).count() == count


def test_an_auto_tag_rule_is_logged_when_made_switched_and_deleted(shop):
    services.create_group(shop.workspace, shop.ops, "阶段", ["沉睡"])
    tag = Tag.objects.for_workspace(shop.workspace).get(name="沉睡")
    rule = rules.create_rule(shop.workspace, shop.ops, rules.RuleInput(
        name="沉睡客户", tag_id=tag.pk, kind="behaviour", params={"days": 30}))
    assert last_words(shop.workspace).startswith("alpha-customer_ops [tags/created] 新建自动标签规则「沉睡客户」：标签：沉睡；")
    rules.set_enabled(shop.workspace, shop.ops, rule.pk, False)
    assert last_words(shop.workspace).endswith("自动标签规则「沉睡客户」：启用：是 → 否")
    rules.delete_rule(shop.workspace, shop.ops, rule.pk)
    assert last_words(shop.workspace) == "alpha-customer_ops [tags/deletion] 删除自动标签规则「沉睡客户」"
