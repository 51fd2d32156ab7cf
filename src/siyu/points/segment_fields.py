"""The points app's segment field: a customer's points balance (积分余额), from their wallet.
A customer without a wallet holds 0 points."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from siyu.core.models import Workspace
from siyu.customers.segment_fields import GROUP_SCORE, compare, compare_q
from siyu.customers.segmentation import Base, Context, CustomerSnapshot, Op, SegmentField
from siyu.customers.segmentation import register as register_field
from siyu.points.models import PointsWallet

KEY = "points"


def _points_q(op: str, value: Any, ctx: Context) -> Q:
    # By subquery on the wallets, not a join: a NOT around this in a rule tree stays exact, and a
    # customer with no wallet (0 points) matches exactly when 0 does.
    wallets = PointsWallet.unscoped.filter(workspace=ctx.workspace)
    if compare(0, op, value):
        return ~Q(pk__in=wallets.exclude(compare_q("balance", op, value)).values("customer_id"))
    return Q(pk__in=wallets.filter(compare_q("balance", op, value)).values("customer_id"))


def _points_test(snap: CustomerSnapshot, op: str, value: Any, ctx: Context) -> bool:
    return compare(snap.extra.get(KEY, 0), op, value)


def _balances(workspace: Workspace, customer_ids: list[int]) -> dict[int, Any]:
    return dict(PointsWallet.objects.for_workspace(workspace).filter(customer_id__in=customer_ids)
                .values_list("customer_id", "balance"))


def register() -> None:
    register_field(SegmentField(
        key=KEY, label=_("Points balance"), base=Base.NUMBER, operators=(Op.GTE, Op.LTE, Op.BETWEEN),
        to_q=_points_q, test=_points_test, load=_balances, group=GROUP_SCORE, minimum=0, maximum=10**12,
        help=_("The points the customer holds now (earned, less spent, expired and cleared).")))
