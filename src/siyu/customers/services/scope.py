"""数据范围 — data scope: which customers a member sees.

A customer ops member (客户运营) works the staff accounts they operate
(`accounts.StaffAccount.operator`), so the customer list, the profile, the API and the bulk
actions show them only those accounts' customers; they cannot switch to the whole brand (their
role edits customers and sees phones: the scope keeps each operator to their own book). Until a
lead assigns them an account they see the whole brand, and the list says so (a new member, or
a team that does not split its accounts, is not left with an empty console). Leads, admins
and the other roles see every customer and may narrow the list to the accounts they operate
themselves ("mine").

A customer belongs to an account while the friendship lasts and after the customer or the staff
deleted it (a loss is still the operator's to win back), but not after a transfer moved them to
another account.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from django.db import models
from django.db.models import Exists, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from siyu.accounts.models import StaffAccount
from siyu.core.models import Membership, Workspace
from siyu.core.permissions import Role, role_of
from siyu.customers.models import Customer, DeletedBy, FollowRelation

M = TypeVar("M", bound=models.Model)


class Scope(models.TextChoices):
    """What a member's customer pages show."""

    OWN_ACCOUNTS = "own", _("the customers of the accounts they operate")  # customer ops, held to it
    UNASSIGNED = "unassigned", _("every customer, until a lead assigns them accounts")  # customer ops, none yet
    BRAND = "brand", _("every customer, or only their accounts' when they choose")


def _seat_id(membership: Membership | None) -> int | None:
    return getattr(membership, "pk", None)  # the command line's OPERATOR seat has none


def _operated_accounts(workspace: Workspace, membership: Membership | None) -> QuerySet[StaffAccount]:
    return StaffAccount.objects.for_workspace(workspace).filter(operator_id=_seat_id(membership))


def scope_of(workspace: Workspace, membership: Membership | None) -> Scope:
    if role_of(membership) != Role.CUSTOMER_OPS:
        return Scope.BRAND
    operates = _seat_id(membership) is not None and _operated_accounts(workspace, membership).exists()
    return Scope.OWN_ACCOUNTS if operates else Scope.UNASSIGNED


def _operated_customers(workspace: Workspace, membership: Membership | None, via: str) -> Q:
    seat_id = _seat_id(membership)
    if seat_id is None:
        return Q(pk__in=[])
    follows = (FollowRelation.objects.for_workspace(workspace).filter(account__operator_id=seat_id)
               .exclude(deleted_by=DeletedBy.TRANSFER))
    return Q(**{f"{via}__in": follows.values("customer_id")})


def scoped(rows: QuerySet[M], workspace: Workspace, membership: Membership | None,
           mine: bool = False, *, via: str = "pk") -> QuerySet[M]:
    """`rows` narrowed to what the member sees: their accounts' customers when their role is held
    to them, or when they asked for only theirs (`mine`). The one scoping query of the console:
    `rows` are customers, or rows of a customer named by `via` (e.g. `"customer_id"` for churn
    entries, transfers, segment members, welfare grants). Unchanged for roles not held to it."""
    if mine:
        return rows.filter(_operated_customers(workspace, membership, via))
    if role_of(membership) == Role.CUSTOMER_OPS:
        # In the same query: theirs, or everyone while they operate no account (`Scope.UNASSIGNED`).
        return rows.filter(_operated_customers(workspace, membership, via)
                           | ~Exists(_operated_accounts(workspace, membership)))
    return rows


def visible_ids(workspace: Workspace, membership: Membership | None, ids: Iterable[int]) -> list[int]:
    """The ids among `ids` the member may act on (bulk actions), in the order given."""
    wanted = list(dict.fromkeys(ids))
    if role_of(membership) != Role.CUSTOMER_OPS:
        return wanted
    allowed = set(scoped(Customer.objects.for_workspace(workspace).filter(pk__in=wanted), workspace, membership)
                  .values_list("pk", flat=True))
    return [pk for pk in wanted if pk in allowed]
