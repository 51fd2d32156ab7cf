"""Segment evaluation in SQL equals a brute-force Python evaluation on random data, for every
field and operator of the registry, and for random AND/OR trees of them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from siyu.customers.models import FieldKind, LifecycleStage
from siyu.customers.segmentation import Context, Op, fields_for, shared_fields
from siyu.segments import services
from siyu.segments.services.rules import clean_rule, matches
from tests.segments.conftest import NOW, Shop, make_customer

CUSTOM_OPS = {"field.skin": FieldKind.TEXT, "field.spend": FieldKind.NUMBER, "field.visit": FieldKind.DATE,
              "field.store": FieldKind.CHOICE}
SCORES = [0, 10, 50, 59.5, 60, 100]
SPENDS = [-1, 0, 2.5, 5, 10]
VISITS = ["2025-05-01", "2025-05-31", "2025-06-01", "2025-06-15"]
TEXTS = ["dry", "oily", "Dry skin", "混合"]
DAYS = [(NOW.date() - dt.timedelta(days=n)).isoformat() for n in range(0, 41, 3)]
SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                          HealthCheck.too_slow])


class _Rollback(Exception):
    pass


def _pairs() -> list[tuple[str, str]]:
    from siyu.customers.segment_fields import _CUSTOM_OPS

    found = [(key, op) for key, f in shared_fields().items() for op in f.operators]
    found += [(key, op) for key, kind in CUSTOM_OPS.items() for op in _CUSTOM_OPS[kind]]
    return found


PAIRS = _pairs()


def _some(values: list[Any]) -> st.SearchStrategy[list[Any]]:
    return st.lists(st.sampled_from(values), min_size=1, max_size=3, unique=True)


def _pair_of(values: list[Any]) -> st.SearchStrategy[list[Any]]:
    return st.lists(st.sampled_from(values), min_size=2, max_size=2).map(sorted)


def value_strategy(shop: Shop, key: str, op: str) -> st.SearchStrategy[Any]:
    tag_ids = [t.pk for t in shop.tags]
    account_ids = [a.pk for a in shop.accounts]
    scalar, many = {
        "tags": (None, tag_ids), "accounts": (None, account_ids), "channel": (None, ["s1", "s2", "s3"]),
        "stage": (None, list(LifecycleStage.values)), "tier": (None, ["A", "B", "C"]),
        "birthday_month": (None, list(range(1, 13))), "score": (SCORES, None),
        "tag_completeness": ([0, 0.25, 0.5, 1], None), "added_at": (DAYS, None), "last_engaged": (DAYS, None),
        "field.skin": (TEXTS + ["ski", "o", "混"], TEXTS), "field.spend": (SPENDS, None),
        "field.visit": (VISITS, None), "field.store": (None, ["a", "b", "c"]),
        "points": ([0, 1, 30, 100], None),
    }.get(key, (None, None))
    if op == Op.IS:
        return st.booleans()
    if op == Op.WITHIN_DAYS:
        return st.integers(1, 40)
    if op in (Op.ANY, Op.ALL, Op.NONE, Op.IN, Op.NOT_IN):
        return _some(many)
    if op == Op.BETWEEN:
        return _pair_of(scalar)
    return st.sampled_from(scalar)


customers = st.lists(st.fixed_dictionaries({
    "first_added_at": st.one_of(st.none(), st.integers(0, 40 * 24).map(lambda h: NOW - dt.timedelta(hours=h))),
    "last_engaged_at": st.one_of(st.none(), st.integers(0, 40 * 24).map(lambda h: NOW - dt.timedelta(hours=h))),
    "phone": st.sampled_from(["", "13800000001"]),
    "birthday": st.one_of(st.none(), st.dates(dt.date(1980, 1, 1), dt.date(2005, 12, 31))),
    "stage": st.sampled_from(LifecycleStage.values),
    "score": st.sampled_from(SCORES),
    "tier": st.sampled_from(["", "A", "B"]),
    "is_angel": st.booleans(),
    "tag_completeness": st.sampled_from([0, 0.25, 0.5, 1]),
    "tags": st.sets(st.integers(0, 3)),
    "follows": st.lists(st.tuples(st.integers(0, 2), st.sampled_from(["s1", "s2", ""]), st.booleans()),
                        max_size=3, unique_by=lambda f: f[0]),
    "fields": st.fixed_dictionaries({}, optional={
        "skin": st.sampled_from(TEXTS), "spend": st.sampled_from(SPENDS), "visit": st.sampled_from(VISITS),
        "store": st.sampled_from(["a", "b", "c"])}),
}), max_size=6)


def check(shop: Shop, people: list[dict[str, Any]], rule: dict[str, Any]) -> None:
    """Build the customers, evaluate both ways, roll everything back."""
    try:
        with transaction.atomic():
            ids = []
            for n, person in enumerate(dict(p) for p in people):
                tags = [shop.tags[i].pk for i in person.pop("tags")]
                ids.append(make_customer(shop, f"wm{n}", tags=tags, **person).pk)
            cleaned = clean_rule(shop.workspace, rule)
            ctx = Context(shop.workspace, NOW)
            in_sql = set(services.rule_customers(shop.workspace, cleaned, NOW).values_list("pk", flat=True))
            brute = {pk for pk, snap in services.snapshots(shop.workspace, ids).items() if matches(ctx, cleaned, snap)}
            assert in_sql == brute, (cleaned, people)
            raise _Rollback
    except _Rollback:
        pass


def test_every_registered_field_and_operator_is_covered(shop):
    registered = {(key, op) for key, f in fields_for(shop.workspace).items() for op in f.operators}
    assert registered == set(PAIRS)


@pytest.mark.parametrize(("key", "op"), PAIRS, ids=[f"{k}-{o}" for k, o in PAIRS])
def test_one_condition_in_sql_equals_brute_force(shop, key, op):
    @SETTINGS
    @given(people=customers, value=st.data())
    def run(people: list[dict[str, Any]], value: st.DataObject) -> None:
        condition = {"field": key, "op": op, "value": value.draw(value_strategy(shop, key, op))}
        check(shop, people, {"match": "and", "rules": [condition]})

    run()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(people=customers, data=st.data())
def test_random_rule_trees_in_sql_equal_brute_force(shop, people, data):
    def condition() -> st.SearchStrategy[dict[str, Any]]:
        return st.sampled_from(PAIRS).flatmap(lambda pair: value_strategy(shop, *pair).map(
            lambda value: {"field": pair[0], "op": pair[1], "value": value}))

    tree = st.recursive(
        condition(),
        lambda children: st.fixed_dictionaries({"match": st.sampled_from(["and", "or"]),
                                                "rules": st.lists(children, max_size=3)}),
        max_leaves=6,
    )
    rule = data.draw(st.fixed_dictionaries({"match": st.sampled_from(["and", "or"]),
                                            "rules": st.lists(tree, max_size=3)}))
    check(shop, people, rule)
