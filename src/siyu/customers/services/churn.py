"""流失 — the churn list: every friendship that ended, why (the customer deleted the account,
staff deleted the customer, a transfer moved them), how long the customer stayed, and whether
they came back.

The list reads the losses `record_loss` writes on the timeline (one entry per real loss, kept
even after the same account is added again, when the follow relation row is reactivated), and
joins the follow relations of the page's customers in one query. A customer who comes back is
the same `Customer` (`record_add` reactivates or adds a relation), so "returned" means: the
customer has an active follow added after the loss.

Roles: `Module.CUSTOMERS` view; customer ops see their accounts' customers' losses (`scope`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from siyu.accounts.models import StaffAccount
from siyu.core.bounds import MAX_PAGE
from siyu.core.days import day_range, local_day
from siyu.core.models import Membership, Workspace
from siyu.core.permissions import Action, Module, require, role_of
from siyu.customers.models import DeletedBy, FollowRelation, TimelineEntry
from siyu.customers.services.scope import scoped
from siyu.customers.timeline import TimelineKind

PAGE_SIZE = 50
DEFAULT_DAYS = 30

REASON_KINDS = {
    DeletedBy.CUSTOMER: TimelineKind.DELETED_STAFF,
    DeletedBy.STAFF: TimelineKind.DELETED_BY_STAFF,
    DeletedBy.TRANSFER: TimelineKind.TRANSFERRED,
    DeletedBy.UNLISTED: TimelineKind.UNLISTED,
}
KIND_REASONS = {kind: reason for reason, kind in REASON_KINDS.items()}


@dataclass(frozen=True)
class ChurnFilter:
    """The list's filters: a date range (inclusive days, Asia/Shanghai), an account, and which
    reasons (default: only churn, the customer's own deletion)."""

    start: dt.date | None = None
    end: dt.date | None = None
    account_id: int | None = None
    reasons: tuple[str, ...] = (DeletedBy.CUSTOMER,)

    def bounds(self, now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
        today = local_day(now or timezone.now())
        end = self.end or today
        start = self.start or end - dt.timedelta(days=DEFAULT_DAYS - 1)
        return day_range(start, end)


@dataclass
class ChurnRow:
    """One loss: who, from which account, why, when; the relation as it is now."""

    entry: TimelineEntry
    reason: str
    relation: FollowRelation | None
    returned: bool = False  # an active follow added after the loss (the same account or another)
    returned_to: list[StaffAccount] = field(default_factory=list)
    still_follows: bool = False  # an active follow of another account, added before the loss

    @property
    def customer(self):  # noqa: ANN201
        return self.entry.customer

    @property
    def account(self) -> StaffAccount | None:
        return self.entry.account

    @property
    def at(self) -> dt.datetime:
        return self.entry.at

    @property
    def state(self) -> str:
        return self.relation.state if self.relation is not None else ""

    @property
    def stayed(self) -> dt.timedelta | None:
        """From the add to the loss; unknown once the relation was re-added (its added_at moved)."""
        if self.relation is None or self.relation.times_added == 0 or self.relation.added_at > self.at:
            return None
        return self.at - self.relation.added_at

    @property
    def stayed_days(self) -> int | None:
        return self.stayed.days if self.stayed is not None else None


@dataclass(frozen=True)
class ChurnPage:
    rows: list[ChurnRow]
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1


@dataclass(frozen=True)
class AccountChurn:
    """流失统计 — one account's losses in the range and how many of those customers came back."""

    account: StaffAccount
    lost: int
    returned: int

    @property
    def return_rate(self) -> float:
        return self.returned / self.lost if self.lost else 0.0


def _losses(workspace: Workspace, membership: Membership | None, flt: ChurnFilter,  # noqa: ANN202
            now: dt.datetime | None = None):
    """The losses in range the member sees (`scope`: customer ops, their accounts' customers)."""
    lo, hi = flt.bounds(now)
    kinds = [REASON_KINDS[DeletedBy(r)] for r in flt.reasons if r in DeletedBy.values] or [TimelineKind.DELETED_STAFF]
    entries = TimelineEntry.objects.for_workspace(workspace).filter(kind__in=kinds, at__gte=lo, at__lt=hi)
    if flt.account_id:
        entries = entries.filter(account_id=flt.account_id)
    return scoped(entries, workspace, membership, via="customer_id")


def _came_back() -> Exists:
    return Exists(FollowRelation.unscoped.filter(customer_id=OuterRef("customer_id"), deleted_at__isnull=True,
                                                 added_at__gt=OuterRef("at")))


def churn_list(
    workspace: Workspace,
    membership: Membership | None,
    flt: ChurnFilter,
    page: int = 1,
    *,
    now: dt.datetime | None = None,
) -> ChurnPage:
    """One page of losses, newest first. No count(*): a page knows only whether another follows."""
    require(role_of(membership), Module.CUSTOMERS, Action.VIEW)
    page = min(max(int(page or 1), 1), MAX_PAGE)  # past MAX_PAGE the offset would overflow the database
    offset = (page - 1) * PAGE_SIZE
    entries = list(_losses(workspace, membership, flt, now).select_related("customer", "account")
                   .order_by("-at", "-id")[offset:offset + PAGE_SIZE + 1])
    has_next = len(entries) > PAGE_SIZE
    entries = entries[:PAGE_SIZE]
    customer_ids = {e.customer_id for e in entries}
    follows: dict[int, list[FollowRelation]] = {}
    for follow in (FollowRelation.objects.for_workspace(workspace).filter(customer_id__in=customer_ids)
                   .select_related("account")):
        follows.setdefault(follow.customer_id, []).append(follow)
    rows = []
    for entry in entries:
        mine = follows.get(entry.customer_id, [])
        relation = next((r for r in mine if r.account_id == entry.account_id), None)
        back = [r for r in mine if r.active and r.added_at > entry.at]
        rows.append(ChurnRow(
            entry=entry, reason=KIND_REASONS[TimelineKind(entry.kind)], relation=relation,
            returned=bool(back), returned_to=[r.account for r in back],
            still_follows=any(r.active and r.added_at <= entry.at and r.account_id != entry.account_id for r in mine),
        ))
    return ChurnPage(rows, page, has_next)


def churn_by_account(
    workspace: Workspace,
    membership: Membership | None,
    flt: ChurnFilter,
    *,
    now: dt.datetime | None = None,
) -> list[AccountChurn]:
    """Per account, for the range and reasons: losses and how many of those customers came back
    (one grouped query), most losses first."""
    require(role_of(membership), Module.CUSTOMERS, Action.VIEW)
    figures = (_losses(workspace, membership, flt, now).exclude(account_id=None)
               .values("account_id").annotate(lost=Count("id"), returned=Count("id", filter=Q(_came_back())))
               .order_by())
    by_account = {row["account_id"]: row for row in figures}
    accounts = StaffAccount.objects.for_workspace(workspace).in_bulk(list(by_account))
    result = [AccountChurn(accounts[pk], row["lost"], row["returned"]) for pk, row in by_account.items() if pk in accounts]
    return sorted(result, key=lambda f: (-f.lost, f.account.userid))


def account_options(workspace: Workspace, membership: Membership | None) -> list[StaffAccount]:
    """Accounts to filter or transfer by: the brand's, active first."""
    require(role_of(membership), Module.CUSTOMERS, Action.VIEW)
    return list(StaffAccount.objects.for_workspace(workspace).order_by("-active", "name", "userid"))
