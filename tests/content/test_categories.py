"""The category tree: create, rename, move (never under itself), delete empty or confirmed."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from siyu.content import services
from siyu.content.models import Category
from tests.content.conftest import seat_of, text_material


@pytest.fixture
def tree(brand_a):
    seat = seat_of(brand_a, "planner")
    top = services.create_category(brand_a.workspace, seat, name="产品")
    mid = services.create_category(brand_a.workspace, seat, name="彩妆", parent_id=top.pk)
    leaf = services.create_category(brand_a.workspace, seat, name="口红", parent_id=mid.pk)
    return brand_a, top, mid, leaf


def test_the_tree_lists_parents_before_children_with_depths(tree):
    brand, top, mid, leaf = tree
    nodes = services.category_tree(brand.workspace, seat_of(brand, "merchandiser"))
    assert [(n.category.name, n.depth) for n in nodes] == [("产品", 0), ("彩妆", 1), ("口红", 2)]


def test_a_category_cannot_move_under_its_own_descendant(tree):
    brand, top, mid, leaf = tree
    with pytest.raises(ValidationError) as refused:
        services.move_category(brand.workspace, seat_of(brand, "planner"), top.pk, parent_id=leaf.pk)
    assert "parent" in refused.value.message_dict
    with pytest.raises(ValidationError):
        services.move_category(brand.workspace, seat_of(brand, "planner"), top.pk, parent_id=top.pk)


def test_moving_to_the_top_and_renaming(tree):
    brand, top, mid, leaf = tree
    seat = seat_of(brand, "copywriter")
    services.move_category(brand.workspace, seat, leaf.pk, parent_id=None)
    services.rename_category(brand.workspace, seat, leaf.pk, name="唇部")
    leaf.refresh_from_db()
    assert leaf.parent_id is None and leaf.name == "唇部"


def test_two_siblings_cannot_share_a_name(tree):
    brand, top, mid, leaf = tree
    with pytest.raises(ValidationError):
        services.create_category(brand.workspace, seat_of(brand, "planner"), name="彩妆", parent_id=top.pk)
    services.create_category(brand.workspace, seat_of(brand, "planner"), name="彩妆")  # elsewhere it may


def test_a_category_with_contents_is_deleted_only_when_confirmed_and_they_move_up(tree):
    brand, top, mid, leaf = tree
    material = text_material(brand, category_id=mid.pk)
    seat = seat_of(brand, "planner")
    with pytest.raises(ValidationError) as refused:
        services.delete_category(brand.workspace, seat, mid.pk)
    assert "confirm" in refused.value.message_dict
    services.delete_category(brand.workspace, seat, mid.pk, confirm=True)
    leaf.refresh_from_db()
    material.refresh_from_db()
    assert leaf.parent_id == top.pk and material.category_id == top.pk
    assert not Category.objects.for_workspace(brand.workspace).filter(pk=mid.pk).exists()


def test_an_empty_category_is_deleted_at_once(tree):
    brand, top, mid, leaf = tree
    services.delete_category(brand.workspace, seat_of(brand, "planner"), leaf.pk)
    assert not Category.objects.for_workspace(brand.workspace).filter(pk=leaf.pk).exists()


def test_viewers_may_not_change_the_tree_and_other_brands_do_not_see_it(tree, brand_b):
    brand, top, mid, leaf = tree
    with pytest.raises(PermissionDenied):
        services.create_category(brand.workspace, seat_of(brand, "customer_ops"), name="x")
    with pytest.raises(Category.DoesNotExist):
        services.rename_category(brand_b.workspace, seat_of(brand_b, "admin"), top.pk, name="x")
    with pytest.raises(ValidationError):
        services.create_category(brand_b.workspace, seat_of(brand_b, "admin"), name="x", parent_id=top.pk)
