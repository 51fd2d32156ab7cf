"""积分账本 — grants, spends, expiry and the reconciliation of the double-entry ledger.

Every movement locks the customer's wallet row first (`select_for_update`, and a conditional
UPDATE `balance >= amount` for spends), then touches that customer's lots. One order of locks
for every writer, so concurrent spends, grants and the expiry job never deadlock, and a
customer's spends are serialised: two redemptions at once can never overspend.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from siyu.core.auditing import AuditAction, audit_change, model_changes, snapshot
from siyu.core.days import day_start, local_day
from siyu.core.models import Workspace
from siyu.core.permissions import Seat
from siyu.customers.models import Customer
from siyu.points.models import (
    Account,
    ExpiryRule,
    PointsEntry,
    PointsLine,
    PointsPolicy,
    PointsWallet,
    Source,
)
from siyu.points.services.common import MODULE, NotEnoughPoints, require_edit

EXPIRY_BATCH = 500


def policy_of(workspace: Workspace) -> PointsPolicy:
    """The brand's points rule; an unsaved default (never expire) when none was set."""
    found = PointsPolicy.objects.for_workspace(workspace).first()
    return found or PointsPolicy(workspace=workspace)


def expiry_for(policy: PointsPolicy, granted_at: dt.datetime) -> dt.datetime | None:
    """When a lot granted at `granted_at` expires under the rule."""
    if policy.expiry == ExpiryRule.DAYS:
        return granted_at + dt.timedelta(days=policy.expire_days)
    if policy.expiry == ExpiryRule.YEAR_END:
        # 次年年底清零: a lot lives through the next calendar year (Asia/Shanghai)
        return day_start(dt.date(local_day(granted_at).year + 2, 1, 1))
    return None


def lock_wallet(workspace: Workspace, customer_id: int) -> PointsWallet:
    PointsWallet.unscoped.get_or_create(customer_id=customer_id, defaults={"workspace": workspace})
    return PointsWallet.unscoped.select_for_update().get(customer_id=customer_id)


def _lines(workspace: Workspace, entry: PointsEntry, brand_account: Account) -> None:
    PointsLine.unscoped.bulk_create([
        PointsLine(workspace=workspace, entry=entry, account=Account.WALLET, customer_id=entry.customer_id,
                   amount=entry.amount),
        PointsLine(workspace=workspace, entry=entry, account=brand_account, customer=None, amount=-entry.amount),
    ])


@dataclass(frozen=True)
class Granted:
    entry: PointsEntry
    new: bool


def grant(workspace: Workspace, customer: Customer | int, amount: int, source: str, ref: str, *,
          reason: str = "", now: dt.datetime | None = None, actor: object = None,
          account: Account = Account.ISSUED, wallet: PointsWallet | None = None) -> Granted:
    """Credit `amount` points to the customer's wallet, once per (source, ref): a repeat gives
    back the first grant. The grant is a lot that expires by the brand's rule. A caller that
    already holds the wallet's lock (in its open transaction) passes the wallet."""
    if amount <= 0:
        raise ValueError("a grant is positive")
    customer_id = customer if isinstance(customer, int) else customer.pk
    now = now or timezone.now()
    existing = PointsEntry.objects.for_workspace(workspace).filter(source=source, source_ref=ref).first()
    if existing is not None:
        return Granted(existing, False)
    try:
        with transaction.atomic():
            entry = PointsEntry.objects.create(
                workspace=workspace, customer_id=customer_id, source=source, source_ref=ref[:120], reason=reason[:200],
                amount=amount, remaining=amount, created_at=now, expires_at=expiry_for(policy_of(workspace), now),
                actor=getattr(actor, "user", None) or None)
            wallet = wallet if wallet is not None else lock_wallet(workspace, customer_id)
            PointsWallet.unscoped.filter(pk=wallet.pk).update(balance=F("balance") + amount, updated_at=now)
            _lines(workspace, entry, account)
    except IntegrityError:
        # The same ref was granted at the same moment by another request.
        return Granted(PointsEntry.objects.for_workspace(workspace).get(source=source, source_ref=ref[:120]), False)
    return Granted(entry, True)


def spend(workspace: Workspace, customer: Customer | int, amount: int, source: str, ref: str, *,
          reason: str = "", now: dt.datetime | None = None, actor: object = None,
          account: Account = Account.REDEEMED) -> PointsEntry:
    """Debit `amount` points, oldest lots first; `NotEnoughPoints` when the wallet holds less.
    Call inside the caller's transaction when the spend buys something (it rolls back with it)."""
    if amount <= 0:
        raise ValueError("a spend is positive")
    customer_id = customer if isinstance(customer, int) else customer.pk
    now = now or timezone.now()
    with transaction.atomic():
        wallet = lock_wallet(workspace, customer_id)
        # The conditional UPDATE is the guard even where the row lock is not (SQLite serialises writers).
        if not PointsWallet.unscoped.filter(pk=wallet.pk, balance__gte=amount).update(
                balance=F("balance") - amount, updated_at=now):
            raise NotEnoughPoints(_("Not enough points: %(balance)s, %(amount)s needed.")
                                  % {"balance": wallet.balance, "amount": amount})
        _take_from_lots(customer_id, amount)
        entry = PointsEntry.objects.create(
            workspace=workspace, customer_id=customer_id, source=source, source_ref=ref[:120], reason=reason[:200],
            amount=-amount, remaining=0, created_at=now, actor=getattr(actor, "user", None) or None)
        _lines(workspace, entry, account)
    return entry


def _open_lots(customer_id: int) -> list[PointsEntry]:
    return list(PointsEntry.unscoped.filter(customer_id=customer_id, remaining__gt=0)
                .order_by(F("expires_at").asc(nulls_last=True), "created_at", "pk").only("pk", "remaining"))


def _take_from_lots(customer_id: int, amount: int) -> None:
    left = amount
    for lot in _open_lots(customer_id):
        take = min(lot.remaining, left)
        if not PointsEntry.unscoped.filter(pk=lot.pk, remaining__gte=take).update(remaining=F("remaining") - take):
            raise RuntimeError("a lot changed under the wallet lock")
        left -= take
        if not left:
            return
    raise RuntimeError(f"the wallet's lots hold {amount - left} of {amount}: reconcile the ledger")


def expire_due(workspace: Workspace, now: dt.datetime | None = None) -> int:
    """Write an expiry entry for what is left of every lot past its `expires_at`. Idempotent: one
    expiry per lot (unique ref), and an emptied lot is never expired again. Returns points expired."""
    now = now or timezone.now()
    total = 0
    while True:
        due = list(PointsEntry.objects.for_workspace(workspace).filter(remaining__gt=0, expires_at__lte=now)
                   .order_by("expires_at", "pk").values_list("pk", "customer_id")[:EXPIRY_BATCH])
        for lot_id, customer_id in due:
            total += _expire_lot(workspace, lot_id, customer_id, now)
        if len(due) < EXPIRY_BATCH:
            return total


def _expire_lot(workspace: Workspace, lot_id: int, customer_id: int, now: dt.datetime) -> int:
    with transaction.atomic():
        wallet = lock_wallet(workspace, customer_id)
        lot = PointsEntry.unscoped.get(pk=lot_id)
        left = lot.remaining
        if left <= 0 or not PointsEntry.unscoped.filter(pk=lot_id, remaining=left).update(remaining=0):
            return 0
        if not PointsWallet.unscoped.filter(pk=wallet.pk, balance__gte=left).update(
                balance=F("balance") - left, updated_at=now):
            raise RuntimeError("the wallet holds less than its lots: reconcile the ledger")
        entry = PointsEntry.objects.create(
            workspace=workspace, customer_id=customer_id, source=Source.EXPIRY, source_ref=f"lot:{lot_id}",
            reason=_("Points expired"), amount=-left, remaining=0, created_at=now, lot=lot)
        _lines(workspace, entry, Account.EXPIRED)
    return left


def balance_of(workspace: Workspace, customer_id: int) -> int:
    wallet = PointsWallet.objects.for_workspace(workspace).filter(customer_id=customer_id).first()
    return wallet.balance if wallet else 0


def new_ref() -> str:
    return uuid.uuid4().hex


@dataclass
class Reconciliation:
    """What `reconcile` found: every problem as a sentence for the operator (empty when exact)."""

    wallets: int = 0
    entries: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def reconcile(workspace: Workspace, customer_ids: Sequence[int] | None = None) -> Reconciliation:
    """Check the ledger exactly: each entry's lines sum to zero and its wallet line equals its
    amount; each cached balance equals its wallet lines and what its open lots hold; none is negative."""
    result = Reconciliation()
    entries = PointsEntry.objects.for_workspace(workspace)
    lines = PointsLine.objects.for_workspace(workspace)
    wallets = PointsWallet.objects.for_workspace(workspace)
    if customer_ids is not None:
        entries = entries.filter(customer_id__in=customer_ids)
        lines = lines.filter(entry__customer_id__in=customer_ids)
        wallets = wallets.filter(customer_id__in=customer_ids)
    result.entries = entries.count()
    unbalanced = lines.values("entry_id").annotate(total=Sum("amount")).exclude(total=0)
    for row in unbalanced[:20]:
        result.problems.append(f"entry {row['entry_id']}: lines sum to {row['total']}")
    wallet_lines = {row["entry_id"]: row["amount"] for row in lines.filter(account=Account.WALLET)
                    .values("entry_id", "amount")}
    for pk, amount in entries.values_list("pk", "amount"):
        if wallet_lines.get(pk) != amount:
            result.problems.append(f"entry {pk}: amount {amount}, wallet line {wallet_lines.get(pk)}")
    by_lines = dict(lines.filter(account=Account.WALLET).values("customer_id").annotate(total=Sum("amount"))
                    .values_list("customer_id", "total"))
    by_lots = dict(entries.filter(remaining__gt=0).values("customer_id").annotate(total=Sum("remaining"))
                   .values_list("customer_id", "total"))
    cached = dict(wallets.values_list("customer_id", "balance"))
    result.wallets = len(cached)
    for customer_id in set(by_lines) | set(by_lots) | set(cached):
        balance, summed, held = cached.get(customer_id, 0), by_lines.get(customer_id) or 0, by_lots.get(customer_id) or 0
        if not balance == summed == held:
            result.problems.append(f"customer {customer_id}: balance {balance}, entries {summed}, lots {held}")
        if balance < 0:
            result.problems.append(f"customer {customer_id}: negative balance {balance}")
    return result


def entries_of(workspace: Workspace, *, customer_id: int | None = None, source: str = "",
               since: dt.date | None = None, until: dt.date | None = None) -> Q:
    """The filter of the ledger page (as a Q, so the view pages it)."""
    q = Q(workspace=workspace)
    if customer_id is not None:
        q &= Q(customer_id=customer_id)
    if source:
        q &= Q(source=source)
    if since is not None:
        q &= Q(created_at__gte=day_start(since))
    if until is not None:
        q &= Q(created_at__lt=day_start(until + dt.timedelta(days=1)))
    return q



AUDITED_POLICY_FIELDS = ("expiry", "expire_days")


def save_policy(workspace: Workspace, membership: Seat | None, expiry: str, expire_days: int) -> PointsPolicy:
    """Set the brand's expiry rule (applies to grants from now on); audit-logged."""
    require_edit(membership)
    if expiry not in ExpiryRule.values:
        raise ValidationError({"expiry": _("Choose when points expire.")})
    if not 1 <= expire_days <= 3660:
        raise ValidationError({"expire_days": _("From 1 to 3,660 days.")})
    with transaction.atomic():
        policy, _created = PointsPolicy.objects.for_workspace(workspace).get_or_create(workspace=workspace)
        before = snapshot(policy, AUDITED_POLICY_FIELDS)
        policy.expiry, policy.expire_days = expiry, expire_days
        policy.save()
        audit_change(workspace, membership, AuditAction.UPDATED, module=MODULE, subject=gettext_lazy("points rule"),
                     name=str(workspace.name), changes=model_changes(before, policy, AUDITED_POLICY_FIELDS))
    return policy
