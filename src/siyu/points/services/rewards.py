"""积分兑换 — rewards bought with points, and the operator's manual adjustments.

A redemption is one transaction: the reward's stock is claimed with a conditional UPDATE, the
points are spent (the wallet row locked, `balance >= cost`), and a welfare reward takes its code
through `channels.services.welfare.try_issue_welfare`, which never gives a code twice. If any
step refuses, everything rolls back: no points spent without a reward, no reward without points.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from siyu.channels.models import Welfare, WelfareGrant
from siyu.channels.services.welfare import try_issue_welfare
from siyu.core.auditing import AuditAction, audit_change, fact, model_changes, snapshot
from siyu.core.models import Workspace
from siyu.core.permissions import Seat
from siyu.customers.models import Customer
from siyu.customers.services import add_timeline
from siyu.points.models import Account, Redemption, RedemptionState, Reward, RewardKind, Source
from siyu.points.services.common import (
    MODULE,
    OutOfStock,
    PointsError,
    require_adjust,
    require_edit,
)
from siyu.points.services.ledger import grant, new_ref, spend
from siyu.points.timeline import PointsTimeline

MAX_COST = 10_000_000
MAX_ADJUSTMENT = 1_000_000


@dataclass(frozen=True)
class RewardInput:
    name: str
    kind: str
    cost: int
    welfare_id: int | None
    stock: int | None
    active: bool


AUDITED_REWARD_FIELDS = ("name", "kind", "cost", "welfare", "stock", "active")


def save_reward(workspace: Workspace, membership: Seat | None, data: RewardInput, reward_id: int | None = None) -> Reward:
    require_edit(membership)
    errors: dict[str, str] = {}
    if not data.name.strip():
        errors["name"] = _("Give the reward a name.")
    if not 1 <= data.cost <= MAX_COST:
        errors["cost"] = _("A reward costs from 1 to 10,000,000 points.")
    welfare = None
    if data.kind == RewardKind.WELFARE:
        welfare = (Welfare.objects.for_workspace(workspace).filter(pk=data.welfare_id).first()
                   if data.welfare_id else None)
        if welfare is None:
            errors["welfare"] = _("Choose the welfare whose codes this reward gives.")
    elif data.kind != RewardKind.GOODS:
        errors["kind"] = _("Choose a kind.")
    if data.stock is not None and not 0 <= data.stock <= MAX_COST:
        errors["stock"] = _("Stock runs from 0 to 10,000,000.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        reward = (Reward.objects.for_workspace(workspace).select_for_update().get(pk=reward_id) if reward_id
                  else Reward(workspace=workspace))
        before = snapshot(reward, AUDITED_REWARD_FIELDS) if reward_id else {}
        if data.stock is not None and data.stock < reward.redeemed:
            raise ValidationError({"stock": _("%(n)s were already redeemed.") % {"n": reward.redeemed}})
        reward.name, reward.kind, reward.cost = data.name.strip()[:60], data.kind, data.cost
        reward.welfare, reward.stock, reward.active = welfare, data.stock, data.active
        reward.save()
        if reward_id:
            audit_change(workspace, membership, AuditAction.UPDATED, module=MODULE, subject=gettext_lazy("reward"),
                         name=reward.name, changes=model_changes(before, reward, AUDITED_REWARD_FIELDS))
        else:
            audit_change(workspace, membership, AuditAction.CREATED, module=MODULE, subject=gettext_lazy("reward"),
                         name=reward.name)
    return reward


def rewards_on_offer(workspace: Workspace) -> list[Reward]:
    return list(Reward.objects.for_workspace(workspace).filter(active=True)
                .filter(Q(stock__isnull=True) | Q(redeemed__lt=F("stock"))).select_related("welfare"))


def redeem(workspace: Workspace, customer_id: int, reward_id: int, request_key: str,
           now: dt.datetime | None = None) -> Redemption:
    """The fan buys a reward with points. The same `request_key` (the form's one-time key)
    redeems once; a welfare reward is one per customer (its code pool's rule)."""
    now = now or timezone.now()
    request_key = (request_key or new_ref())[:40]
    done = Redemption.objects.for_workspace(workspace).filter(customer_id=customer_id, request_key=request_key).first()
    if done is not None:
        return done
    reward = Reward.objects.for_workspace(workspace).select_related("welfare").get(pk=reward_id)
    if not reward.active:
        raise PointsError(_("This reward is no longer on offer."))
    customer = Customer.objects.for_workspace(workspace).get(pk=customer_id)
    try:
        with transaction.atomic():
            if not Reward.unscoped.filter(Q(stock__isnull=True) | Q(redeemed__lt=F("stock")), pk=reward.pk).update(
                    redeemed=F("redeemed") + 1):
                raise OutOfStock(_("“%(name)s” is out of stock.") % {"name": reward.name})
            redemption = Redemption.objects.create(
                workspace=workspace, reward=reward, customer=customer, request_key=request_key, created_at=now,
                state=RedemptionState.ISSUED if reward.kind == RewardKind.WELFARE else RedemptionState.TO_SHIP)
            redemption.entry = spend(workspace, customer_id, reward.cost, Source.REDEMPTION, f"redemption:{redemption.pk}",
                                     reason=reward.name, now=now)
            if reward.kind == RewardKind.WELFARE and reward.welfare is not None:
                redemption.grant = _issue(workspace, reward, customer, now)
            redemption.save(update_fields=["entry", "grant"])
    except IntegrityError:
        # The same form was submitted twice at once: the other request redeemed it.
        return Redemption.objects.for_workspace(workspace).get(customer_id=customer_id, request_key=request_key)
    add_timeline(workspace, customer, PointsTimeline.REDEEMED, now, detail=f"{reward.name} · {reward.cost}",
                 dedupe_key=f"redemption:{redemption.pk}")
    return redemption


def _issue(workspace: Workspace, reward: Reward, customer: Customer, now: dt.datetime) -> WelfareGrant:
    assert reward.welfare is not None
    outcome = try_issue_welfare(workspace, reward.welfare, customer, None, None, now)
    if outcome.grant is None:
        raise OutOfStock(outcome.reason or _("“%(name)s” is out of stock.") % {"name": reward.name})
    if not outcome.new:
        # WelfareGrant is one per customer and welfare: a second redemption would give no code
        raise PointsError(_("You already have “%(name)s”.") % {"name": reward.welfare.name})
    return outcome.grant


def redemptions_of(workspace: Workspace, customer_id: int, limit: int = 20) -> list[Redemption]:
    return list(Redemption.objects.for_workspace(workspace).filter(customer_id=customer_id)
                .select_related("reward", "grant__code")[:limit])


def mark_shipped(workspace: Workspace, membership: Seat | None, redemption_id: int,
                 now: dt.datetime | None = None) -> Redemption:
    """Goods sent: once (a conditional UPDATE from "to ship")."""
    require_edit(membership)
    now = now or timezone.now()
    redemption = Redemption.objects.for_workspace(workspace).select_related("reward", "customer").get(pk=redemption_id)
    with transaction.atomic():
        if Redemption.unscoped.filter(pk=redemption.pk, state=RedemptionState.TO_SHIP).update(
                state=RedemptionState.SHIPPED, shipped_at=now):
            audit_change(workspace, membership, AuditAction.UPDATED, module=MODULE, subject=gettext_lazy("redemption"),
                         name=redemption.reward.name,
                         facts=[fact(gettext_lazy("customer"), redemption.customer.name),
                                fact(gettext_lazy("state"), str(RedemptionState.SHIPPED.label))])
    redemption.refresh_from_db()
    return redemption


def adjust(workspace: Workspace, membership: Seat | None, customer_id: int, amount: int, reason: str,
           now: dt.datetime | None = None) -> None:
    """A manual correction by the ops lead or an admin: points added (a lot that expires by the
    rule) or taken (oldest first, never below zero); audit-logged with the reason."""
    require_adjust(membership)
    errors: dict[str, str] = {}
    if not amount or abs(amount) > MAX_ADJUSTMENT:
        errors["amount"] = _("Adjust by 1 to 1,000,000 points, up or down.")
    if not reason.strip():
        errors["reason"] = _("Say why.")
    if errors:
        raise ValidationError(errors)
    customer = Customer.objects.for_workspace(workspace).get(pk=customer_id)
    now = now or timezone.now()
    with transaction.atomic():
        if amount > 0:
            grant(workspace, customer.pk, amount, Source.ADJUSTMENT, new_ref(), reason=reason.strip(), now=now,
                  actor=membership, account=Account.ADJUSTED)
        else:
            spend(workspace, customer.pk, -amount, Source.ADJUSTMENT, new_ref(), reason=reason.strip(), now=now,
                  actor=membership, account=Account.ADJUSTED)
        audit_change(workspace, membership, AuditAction.UPDATED, module=MODULE, subject=gettext_lazy("points"),
                     name=customer.name, facts=[fact(gettext_lazy("points"), amount),
                                                fact(gettext_lazy("reason"), reason.strip())])
    add_timeline(workspace, customer, PointsTimeline.ADJUSTED, now, detail=f"{amount:+d}")
