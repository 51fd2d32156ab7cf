"""The tags app's segment fields: tags, and tag completeness (a column tags keeps on the customer)."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from siyu.core.models import Workspace
from siyu.customers.segment_fields import GROUP_RELATION, GROUP_SCORE, column_field
from siyu.customers.segmentation import Base, Context, CustomerSnapshot, Op, SegmentField
from siyu.customers.segmentation import register as register_field
from siyu.tags.models import CustomerTag, Tag


def _tag_options(workspace: Workspace) -> list[tuple[Any, str]]:
    tags = Tag.objects.for_workspace(workspace).filter(deleted_at__isnull=True).select_related("group")
    return [(t.pk, f"{t.group.name} / {t.name}") for t in tags.order_by("group__order", "group_id", "-order", "id")]


def _has_tags(ids: list[int]) -> Exists:
    return Exists(CustomerTag.unscoped.filter(customer_id=OuterRef("pk"), tag_id__in=ids))


def _tags_q(op: str, value: Any, ctx: Context) -> Q:
    if op == Op.ANY:
        return Q(_has_tags(value))
    if op == Op.NONE:
        return ~Q(_has_tags(value))
    q = Q()
    for tag_id in value:  # Op.ALL: one semi-join per tag, each served by the (tag, customer) index
        q &= Q(_has_tags([tag_id]))
    return q


def _tags_test(snap: CustomerSnapshot, op: str, value: Any, ctx: Context) -> bool:
    wanted = set(value)
    if op == Op.ANY:
        return bool(snap.tag_ids & wanted)
    if op == Op.ALL:
        return wanted <= snap.tag_ids
    return not snap.tag_ids & wanted


def register() -> None:
    register_field(SegmentField(
        key="tags", label=_("Tags"), base=Base.TAG, operators=(Op.ANY, Op.ALL, Op.NONE),
        to_q=_tags_q, test=_tags_test, options=_tag_options, group=GROUP_RELATION, order=10))
    register_field(column_field("tag_completeness", _("Tag completeness (0–1)"), Base.NUMBER,
                                (Op.GTE, Op.LTE, Op.BETWEEN), "tag_completeness", GROUP_SCORE, minimum=0, maximum=1))
