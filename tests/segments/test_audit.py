"""Segment changes are in the audit log: the rule in words before → after, not its JSON."""

from __future__ import annotations

from siyu.segments import services
from siyu.segments.services import SegmentInput
from tests.support.audit import last_words


def _rule(tag_id: int) -> dict:
    return {"match": "and", "rules": [{"field": "tags", "op": "any", "value": [tag_id]}]}


def test_creating_changing_and_deleting_a_segment_is_logged_in_words(shop):
    ops = shop.seat("customer_ops")
    dry, oily = shop.tags[0], shop.tags[1]
    segment = services.create_segment(shop.workspace, ops, SegmentInput(name="干皮", rule=_rule(dry.pk)))
    words = last_words(shop.workspace)
    assert words.startswith("alpha-customer_ops [segments/created] 新建人群「干皮」：规则：") and "干皮" in words
    services.update_segment(shop.workspace, ops, segment.pk, SegmentInput(name="油皮", rule=_rule(oily.pk)))
    words = last_words(shop.workspace)
    assert words.startswith("alpha-customer_ops [segments/updated] 人群「油皮」：名称：干皮 → 油皮；规则：")
    assert "油皮" in words.split("规则：")[1] and '"field"' not in words and str(oily.pk) not in words
    services.delete_segment(shop.workspace, ops, segment.pk)
    assert last_words(shop.workspace) == "alpha-customer_ops [segments/deletion] 删除人群「油皮」"
