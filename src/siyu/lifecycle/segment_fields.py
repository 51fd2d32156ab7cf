"""The lifecycle app's segment fields: stage, super-user score, tier and angel users (columns it
keeps on the customer)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from siyu.core.models import Workspace
from siyu.customers.models import LifecycleStage
from siyu.customers.segment_fields import GROUP_SCORE, column_field
from siyu.customers.segmentation import Base, Context, CustomerSnapshot, Op, SegmentField
from siyu.customers.segmentation import register as register_field


def _stage_options(workspace: Workspace) -> list[tuple[Any, str]]:
    return [(v, str(label)) for v, label in LifecycleStage.choices]


def _angel_q(op: str, value: Any, ctx: Context) -> Q:
    return Q(is_angel=value)


def _angel_test(snap: CustomerSnapshot, op: str, value: Any, ctx: Context) -> bool:
    return snap.is_angel == value


def register() -> None:
    register_field(column_field("stage", _("Lifecycle stage"), Base.CHOICE, (Op.IN, Op.NOT_IN), "stage", GROUP_SCORE,
                                options=_stage_options))
    register_field(column_field("score", _("Super-user score"), Base.NUMBER, (Op.GTE, Op.LTE, Op.BETWEEN), "score",
                                GROUP_SCORE, minimum=0, maximum=100))
    register_field(column_field("tier", _("Tier"), Base.TEXT, (Op.IN, Op.NOT_IN), "tier", GROUP_SCORE))
    register_field(SegmentField(
        key="angel", label=_("Angel user"), base=Base.BOOL, operators=(Op.IS,),
        to_q=_angel_q, test=_angel_test, group=GROUP_SCORE))
