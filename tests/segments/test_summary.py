"""A segment's rule in words, as the segment list shows it, in both console languages."""

from __future__ import annotations

from django.utils import translation

from siyu.segments.services.rules import clean_rule, summary
from tests.segments.conftest import Shop


def rule(shop: Shop) -> dict:
    dry = shop.tags[0]
    return clean_rule(shop.workspace, {"match": "and", "rules": [
        {"field": "tags", "op": "any", "value": [dry.pk]},
        {"field": "following", "op": "is", "value": True},
        {"match": "or", "rules": [
            {"field": "score", "op": "between", "value": [60, 100]},
            {"field": "angel", "op": "is", "value": False},
        ]},
    ]})


def test_a_rule_reads_as_a_sentence(shop):
    with translation.override("en"):
        text = summary(shop.workspace, rule(shop))
    assert text == (f"Tags has any of 肤质 / {shop.tags[0].name} AND Still a friend of any account: yes AND "
                    "(Super-user score between 60 – 100 OR Angel user: no)")


def test_a_rule_reads_in_chinese(shop):
    with translation.override("zh-hans"):
        text = summary(shop.workspace, rule(shop))
    assert "仍是任一企微号的好友：是" in text and "是 是" not in text
    assert " 且 " in text and " 或 " in text
