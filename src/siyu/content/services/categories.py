"""素材分类 — the material library's category tree: create, rename, move (never under itself),
delete when empty or, confirmed, with its children and materials moved up a level."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from siyu.content.models import Category, Material
from siyu.content.services.common import MODULE, clean_text, require_edit, require_view
from siyu.core.models import AuditAction, Workspace
from siyu.core.permissions import Seat
from siyu.core.services import audit_change, change, fact

NAME_MAX_CHARS = 40
MAX_DEPTH = 5  # deep enough for brand / line / product / season / use; deeper trees are lost in


@dataclass
class CategoryNode:
    category: Category
    depth: int
    material_count: int = 0
    children: list[CategoryNode] = field(default_factory=list)


def _parents(workspace: Workspace) -> dict[int, int | None]:
    return dict(Category.objects.for_workspace(workspace).values_list("pk", "parent_id"))


def _depth(parents: dict[int, int | None], category_id: int | None) -> int:
    depth, seen = 0, set()
    while category_id is not None and category_id not in seen:
        seen.add(category_id)
        depth += 1
        category_id = parents.get(category_id)
    return depth


def _subtree_height(parents: dict[int, int | None], root: int) -> int:
    children: dict[int | None, list[int]] = {}
    for pk, parent in parents.items():
        children.setdefault(parent, []).append(pk)

    def height(node: int) -> int:
        return 1 + max((height(c) for c in children.get(node, [])), default=0)
    return height(root)


def category_tree(workspace: Workspace, membership: Seat | None) -> list[CategoryNode]:
    """The tree as a flat list in display order (parents before children), with depths and how
    many materials each holds directly. Two queries."""
    require_view(membership)
    categories = list(Category.objects.for_workspace(workspace).order_by("name", "pk"))
    counts: dict[int, int] = {}
    for category_id in Material.objects.for_workspace(workspace).exclude(category=None).values_list(
            "category_id", flat=True):
        counts[category_id] = counts.get(category_id, 0) + 1
    by_parent: dict[int | None, list[Category]] = {}
    for category in categories:
        by_parent.setdefault(category.parent_id, []).append(category)
    flat: list[CategoryNode] = []

    def walk(parent: int | None, depth: int) -> None:
        for category in by_parent.get(parent, []):
            flat.append(CategoryNode(category, depth, counts.get(category.pk, 0)))
            walk(category.pk, depth + 1)
    walk(None, 0)
    return flat


def _clean_parent(workspace: Workspace, parent_id: int | None, errors: dict[str, list[str]]) -> Category | None:
    if parent_id is None:
        return None
    parent = Category.objects.for_workspace(workspace).filter(pk=parent_id).first()
    if parent is None:
        errors.setdefault("parent", []).append(_("Choose a category of this brand."))
    return parent


def _clean_name(workspace: Workspace, name: str, parent_id: int | None, exclude: int | None,
                errors: dict[str, list[str]]) -> str:
    name = clean_text(name, "name", NAME_MAX_CHARS, errors, required_message=_("Give the category a name."))
    siblings = Category.objects.for_workspace(workspace).filter(parent_id=parent_id, name=name)
    if exclude is not None:
        siblings = siblings.exclude(pk=exclude)
    if name and siblings.exists():
        errors.setdefault("name", []).append(_("There is already a category “%(name)s” here.") % {"name": name})
    return name


def create_category(workspace: Workspace, membership: Seat | None, *, name: str,
                    parent_id: int | None = None) -> Category:
    require_edit(membership)
    errors: dict[str, list[str]] = {}
    parent = _clean_parent(workspace, parent_id, errors)
    name = _clean_name(workspace, name, parent_id, None, errors)
    if parent is not None and _depth(_parents(workspace), parent.pk) >= MAX_DEPTH:
        errors.setdefault("parent", []).append(_("Categories nest at most %(n)s levels deep.") % {"n": MAX_DEPTH})
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        category = Category.objects.create(workspace=workspace, name=name, parent=parent)
        audit_change(workspace, membership, AuditAction.CREATED, module=MODULE, subject=gettext_lazy("category"),
                     name=name, facts=[fact(gettext_lazy("parent category"), parent.name)] if parent else None)
    return category


def rename_category(workspace: Workspace, membership: Seat | None, category_id: int, *, name: str) -> Category:
    require_edit(membership)
    category = Category.objects.for_workspace(workspace).get(pk=category_id)
    errors: dict[str, list[str]] = {}
    new_name = _clean_name(workspace, name, category.parent_id, category.pk, errors)
    if errors:
        raise ValidationError(errors)
    old = category.name
    with transaction.atomic():
        category.name = new_name
        category.save(update_fields=["name"])
        audit_change(workspace, membership, AuditAction.UPDATED, module=MODULE, subject=gettext_lazy("category"),
                     name=new_name, changes=[change(gettext_lazy("name"), old, new_name)] if old != new_name else None)
    return category


def move_category(workspace: Workspace, membership: Seat | None, category_id: int, *,
                  parent_id: int | None) -> Category:
    """Put a category (with its subtree) under another, or at the top (`parent_id` None); never
    under itself or one of its own descendants."""
    require_edit(membership)
    category = Category.objects.for_workspace(workspace).get(pk=category_id)
    errors: dict[str, list[str]] = {}
    parent = _clean_parent(workspace, parent_id, errors)
    parents = _parents(workspace)
    if parent is not None:
        ancestor: int | None = parent.pk
        seen: set[int] = set()
        while ancestor is not None and ancestor not in seen:
            if ancestor == category.pk:
                errors.setdefault("parent", []).append(
                    _("A category cannot move under itself or one of its own subcategories."))
                break
            seen.add(ancestor)
            ancestor = parents.get(ancestor)
        else:
            if _depth(parents, parent.pk) + _subtree_height(parents, category.pk) > MAX_DEPTH:
                errors.setdefault("parent", []).append(
                    _("Categories nest at most %(n)s levels deep.") % {"n": MAX_DEPTH})
    if not errors:
        _clean_name(workspace, category.name, parent_id, category.pk, errors)
    if errors:
        raise ValidationError(errors)
    old_parent = category.parent.name if category.parent else ""
    with transaction.atomic():
        category.parent = parent
        category.save(update_fields=["parent"])
        audit_change(workspace, membership, AuditAction.UPDATED, module=MODULE, subject=gettext_lazy("category"),
                     name=category.name,
                     changes=[change(gettext_lazy("parent category"), old_parent, parent.name if parent else "")])
    return category


def delete_category(workspace: Workspace, membership: Seat | None, category_id: int, *,
                    confirm: bool = False) -> None:
    """Delete an empty category; one with subcategories or materials only when `confirm`ed,
    and then they move up to its parent (or to the top)."""
    require_edit(membership)
    category = Category.objects.for_workspace(workspace).get(pk=category_id)
    children = Category.objects.for_workspace(workspace).filter(parent=category)
    materials = Material.objects.for_workspace(workspace).filter(category=category)
    n_children, n_materials = children.count(), materials.count()
    if (n_children or n_materials) and not confirm:
        raise ValidationError({"confirm": _(
            "“%(name)s” holds %(categories)s subcategories and %(materials)s materials. Confirm to delete it "
            "and move them up a level.") % {"name": category.name, "categories": n_children,
                                            "materials": n_materials}})
    parent = category.parent
    if n_children:
        taken = set(Category.objects.for_workspace(workspace).filter(parent=parent).exclude(pk=category.pk)
                    .values_list("name", flat=True))
        clashes = sorted(set(children.values_list("name", flat=True)) & taken)
        if clashes:
            raise ValidationError({"confirm": _(
                "A subcategory “%(name)s” already exists one level up; rename one of them first.")
                % {"name": clashes[0]}})
    with transaction.atomic():
        children.update(parent=parent)
        materials.update(category=parent)
        category.delete()
        audit_change(workspace, membership, AuditAction.DELETION, module=MODULE, subject=gettext_lazy("category"),
                     name=category.name,
                     facts=[fact(gettext_lazy("moved up"), f"{n_children} / {n_materials}")]
                     if n_children or n_materials else None)
