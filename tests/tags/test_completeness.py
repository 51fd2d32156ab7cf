"""Tag completeness (标签完善度): per customer against the required groups, recomputed when tags
change and for everyone when the required groups change; per staff account and brand-wide."""

from __future__ import annotations

import pytest

from siyu.customers.models import Customer
from siyu.tags import services
from siyu.tags.models import Tag, TagGroup
from tests.tags.conftest import befriend, drain, seed_twin_tags


@pytest.fixture
def catalogue(shop):
    seed_twin_tags(shop.twin, "肤质", ["油皮", "干皮"])
    seed_twin_tags(shop.twin, "意向", ["高", "低"])
    seed_twin_tags(shop.twin, "爱好", ["跑步"])
    services.sync_tags(shop.workspace, shop.ops)
    groups = {g.name: g for g in TagGroup.objects.for_workspace(shop.workspace)}
    tags = {t.name: t for t in Tag.objects.for_workspace(shop.workspace)}
    return groups, tags


def completeness(customer):
    return Customer.unscoped.get(pk=customer.pk).tag_completeness


def test_completeness_follows_tag_changes(transactional_db, shop, catalogue):
    groups, tags = catalogue
    services.set_required(shop.workspace, shop.ops, groups["肤质"].pk, True)
    services.set_required(shop.workspace, shop.ops, groups["意向"].pk, True)
    drain()
    c = befriend(shop, "wmC1")
    services.tag_customers(shop.workspace, shop.ops, [c.pk], [tags["油皮"].pk, tags["干皮"].pk, tags["跑步"].pk])
    assert completeness(c) == 0.5  # one of two required groups; two tags in it count once
    services.tag_customers(shop.workspace, shop.ops, [c.pk], [tags["低"].pk])
    assert completeness(c) == 1.0
    services.untag_customers(shop.workspace, shop.ops, [c.pk], [tags["低"].pk])
    assert completeness(c) == 0.5


def test_changing_required_groups_recomputes_everyone(transactional_db, shop, catalogue):
    groups, tags = catalogue
    a, b = befriend(shop, "wmA"), befriend(shop, "wmB")
    services.tag_customers(shop.workspace, shop.ops, [a.pk, b.pk], [tags["高"].pk])
    services.tag_customers(shop.workspace, shop.ops, [a.pk], [tags["油皮"].pk])
    assert completeness(a) == completeness(b) == 0  # nothing required yet
    services.set_required(shop.workspace, shop.ops, groups["肤质"].pk, True)
    services.set_required(shop.workspace, shop.ops, groups["意向"].pk, True)
    drain()
    assert (completeness(a), completeness(b)) == (1.0, 0.5)
    services.set_required(shop.workspace, shop.ops, groups["意向"].pk, False)
    drain()
    assert (completeness(a), completeness(b)) == (1.0, 0.0)
    # A required group deleted at WeCom no longer counts.
    services.set_required(shop.workspace, shop.ops, groups["意向"].pk, True)
    services.delete_group(shop.workspace, shop.ops, groups["肤质"].pk)
    drain()
    assert (completeness(a), completeness(b)) == (1.0, 1.0)


def test_recompute_all_works_in_id_ranges(shop, catalogue, monkeypatch):
    from siyu.tags.services import completeness as module

    groups, tags = catalogue
    monkeypatch.setattr(module, "ID_RANGE", 3)
    cs = [befriend(shop, f"wm{i}") for i in range(7)]
    services.tag_customers(shop.workspace, shop.ops, [c.pk for c in cs[:4]], [tags["高"].pk])
    TagGroup.unscoped.filter(pk=groups["意向"].pk).update(required=True)
    assert services.recompute_all(shop.workspace) == 4  # only the values that changed are written
    assert [completeness(c) for c in cs] == [1.0] * 4 + [0.0] * 3


def test_per_staff_and_brand_report(transactional_db, shop, catalogue):
    groups, tags = catalogue
    services.set_required(shop.workspace, shop.ops, groups["肤质"].pk, True)
    drain()
    a, b = befriend(shop, "wmA", "xiaowanzi01"), befriend(shop, "wmB", "xiaowanzi01")
    c = befriend(shop, "wmC", "xiaowanzi02")
    befriend(shop, "wmA", "xiaowanzi02")
    services.tag_customers(shop.workspace, shop.ops, [a.pk], [tags["油皮"].pk])
    report = services.completeness_report(shop.workspace, shop.ops)
    assert [g.name for g in report.required_groups] == ["肤质"]
    by_staff = {s.account.userid: (s.followers, round(s.average, 3)) for s in report.staff}
    assert by_staff == {"xiaowanzi01": (2, 0.5), "xiaowanzi02": (2, 0.5)}
    assert report.customers == 3 and round(report.brand_average, 3) == 0.333
    assert b.pk and c.pk
