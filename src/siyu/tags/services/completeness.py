"""标签完善度 — tag completeness: the share of the brand's required tag groups (`TagGroup.required`)
in which a customer has at least one live tag, kept on `Customer.tag_completeness` (0..1) so lists
and segments filter on it without joins, and averaged per staff account (its active followers)
and for the brand: a customer-ops KPI.

Computed in SQL, a range of customer ids per statement, never a Python loop over customers,
so recomputing a brand of a million customers is a few dozen UPDATEs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.cache import cache
from django.db import transaction
from django.db.models import (
    Avg,
    Case,
    Count,
    Exists,
    Expression,
    ExpressionWrapper,
    FloatField,
    OuterRef,
    Value,
    When,
)

from siyu.accounts.models import StaffAccount
from siyu.core.models import Membership, Workspace
from siyu.core.permissions import Action, Module, require, role_of
from siyu.customers.models import Customer, FollowRelation
from siyu.tags.models import CustomerTag, Tag, TagGroup

FIGURES_SECONDS = 300  # the KPI and per-tag counts are cached this long, or until tags change
ID_RANGE = 50_000  # customers per UPDATE in a whole-brand recompute
IDS_PER_UPDATE = 1_000  # customers per UPDATE when the ids are listed


def _key(workspace: Workspace, name: str) -> str:
    return f"tags:{workspace.pk}:{name}"


def forget_figures(workspace: Workspace) -> None:
    """Drop the cached KPI and tag counts (tags or required groups changed)."""
    cache.delete_many([_key(workspace, "report"), _key(workspace, "tag_counts")])


def tag_counts(workspace: Workspace) -> dict[int, int]:
    """How many customers carry each tag; counting 10M links takes seconds, so it is cached."""
    counts = cache.get(_key(workspace, "tag_counts"))
    if counts is None:
        counts = dict(CustomerTag.objects.for_workspace(workspace).order_by().values("tag_id")
                      .annotate(n=Count("id")).values_list("tag_id", "n"))
        cache.set(_key(workspace, "tag_counts"), counts, FIGURES_SECONDS)
    return counts


def required_group_count(workspace: Workspace) -> int:
    return TagGroup.objects.for_workspace(workspace).filter(required=True, deleted_at__isnull=True).count()


def _value(workspace: Workspace) -> Expression:
    """Per customer: (required groups with a live tag on the customer) / (required groups), as
    one SQL expression, an indexed EXISTS probe on (customer, tag) per required group."""
    tags_by_group: dict[int, list[int]] = {}
    for tag_id, group_id in Tag.objects.for_workspace(workspace).filter(
            deleted_at__isnull=True, group__required=True, group__deleted_at__isnull=True).values_list("pk", "group_id"):
        tags_by_group.setdefault(group_id, []).append(tag_id)
    required = required_group_count(workspace)
    if not required or not tags_by_group:
        return Value(0.0, output_field=FloatField())
    covered = [Case(When(Exists(CustomerTag.unscoped.filter(customer_id=OuterRef("pk"), tag_id__in=tag_ids)),
                         then=Value(1.0)), default=Value(0.0), output_field=FloatField())
               for tag_ids in tags_by_group.values()]
    total: Expression = covered[0]
    for term in covered[1:]:
        total = total + term
    return ExpressionWrapper(total / Value(float(required)), output_field=FloatField())


def recompute_for(workspace: Workspace, customer_ids: Iterable[int]) -> None:
    """Recompute these customers' completeness (after their tags changed)."""
    ids = sorted(set(customer_ids))
    if not ids:
        return
    value = _value(workspace)
    forget_figures(workspace)
    for start in range(0, len(ids), IDS_PER_UPDATE):
        Customer.unscoped.filter(workspace=workspace, pk__in=ids[start:start + IDS_PER_UPDATE]).exclude(
            tag_completeness=value).update(tag_completeness=value)


def recompute_all(workspace: Workspace) -> int:
    """Recompute every customer of the brand (after a group's `required` flag changed, or a
    required group was deleted): one UPDATE per `ID_RANGE` ids, each its own transaction, so
    a brand of a million customers never holds one long lock. Returns the customers whose value
    changed."""
    value = _value(workspace)
    customers = Customer.unscoped.filter(workspace=workspace)
    first = customers.order_by("pk").values_list("pk", flat=True).first()
    last = customers.order_by("-pk").values_list("pk", flat=True).first()
    if first is None or last is None:
        return 0
    total = 0
    for start in range(first, last + 1, ID_RANGE):
        with transaction.atomic():
            # Only rows whose value changes are written: most keep theirs when one group flips.
            total += (customers.filter(pk__gte=start, pk__lt=start + ID_RANGE).exclude(tag_completeness=value)
                      .update(tag_completeness=value))
    forget_figures(workspace)
    return total


@dataclass(frozen=True)
class StaffCompleteness:
    account: StaffAccount
    followers: int
    average: float  # 0..1


@dataclass(frozen=True)
class CompletenessReport:
    required_groups: list[TagGroup]
    brand_average: float  # over customers with at least one active follow relation
    customers: int
    staff: list[StaffCompleteness]  # lowest first: who has most tagging to do


def completeness_report(workspace: Workspace, membership: Membership | None) -> CompletenessReport:
    """The KPI: the brand's average completeness and each staff account's (over its active
    followers), from the stored per-customer values with two aggregate queries; cached for
    `FIGURES_SECONDS` or until tags change (new follows show within that time)."""
    require(role_of(membership), Module.CUSTOMERS, Action.VIEW)
    report = cache.get(_key(workspace, "report"))
    if report is None:
        report = _report(workspace)
        cache.set(_key(workspace, "report"), report, FIGURES_SECONDS)
    return report


def _report(workspace: Workspace) -> CompletenessReport:
    groups = list(TagGroup.objects.for_workspace(workspace).filter(required=True, deleted_at__isnull=True)
                  .order_by("-order", "id"))
    rows = (FollowRelation.objects.for_workspace(workspace).filter(deleted_at__isnull=True)
            .order_by().values("account_id")
            .annotate(n=Count("id"), avg=Avg("customer__tag_completeness")))
    by_account = {r["account_id"]: r for r in rows}
    accounts = StaffAccount.objects.for_workspace(workspace).filter(pk__in=by_account)
    staff = sorted(
        (StaffCompleteness(a, by_account[a.pk]["n"], float(by_account[a.pk]["avg"] or 0)) for a in accounts),
        key=lambda s: (s.average, -s.followers, s.account.pk),
    )
    active = FollowRelation.unscoped.filter(customer_id=OuterRef("pk"), deleted_at__isnull=True)
    brand = (Customer.objects.for_workspace(workspace).filter(Exists(active))
             .aggregate(n=Count("id"), avg=Avg("tag_completeness")))
    return CompletenessReport(groups, float(brand["avg"] or 0), brand["n"], staff)


