"""人群 — segment definitions (dynamic rules, static lists), their evaluation against the brand's
customers, and the member pages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from siyu.core.models import AuditAction, Membership, Workspace
from siyu.core.permissions import Action, Module, Seat, allows, require, role_of
from siyu.core.services import audit_change, changes, fact
from siyu.customers.models import Customer, FollowRelation
from siyu.customers.segmentation import Context, CustomerSnapshot, FollowSnapshot, fields_for
from siyu.customers.services import scoped
from siyu.segments.models import Segment, SegmentKind
from siyu.segments.services.membership import (
    recompute,
    segment_members,
)
from siyu.segments.services.rules import EVERYONE, clean_rule, rule_q, summary
from siyu.tags.models import CustomerTag

NAME_MAX_CHARS = 60
DESCRIPTION_MAX_CHARS = 300


def require_edit(membership: Membership | None) -> None:
    require(role_of(membership), Module.CUSTOMERS, Action.EDIT)


def can_edit(membership: Membership | None) -> bool:
    role = role_of(membership)
    return role is not None and allows(role, Module.CUSTOMERS, Action.EDIT)


def can_export(membership: Membership | None) -> bool:
    role = role_of(membership)
    return role is not None and allows(role, Module.CUSTOMERS, Action.EXPORT)


def context(workspace: Workspace, now: dt.datetime | None = None) -> Context:
    return Context(workspace, now or timezone.now())


# --- evaluation --------------------------------------------------------------------------------

def rule_customers(workspace: Workspace, rule: dict[str, Any], now: dt.datetime | None = None) -> QuerySet[Customer]:
    """The brand's customers a clean rule selects, as one SQL query (no ordering)."""
    return Customer.objects.for_workspace(workspace).filter(rule_q(context(workspace, now), rule)).order_by()


def count(workspace: Workspace, membership: Membership | None, rule: Any, now: dt.datetime | None = None) -> int:
    """How many customers the rule selects now (the builder's live preview): validated, then
    one COUNT in SQL."""
    require(role_of(membership), Module.CUSTOMERS, Action.VIEW)
    return rule_customers(workspace, clean_rule(workspace, rule), now).count()


def members_query(workspace: Workspace, segment: Segment) -> QuerySet[Customer]:
    """The segment's stored members as a Customer queryset (no ordering)."""
    ids = segment_members(workspace, segment).values("customer_id")
    return Customer.objects.for_workspace(workspace).filter(pk__in=ids).order_by()


def snapshots(workspace: Workspace, customer_ids: list[int]) -> dict[int, CustomerSnapshot]:
    """Customers as plain values for the Python predicates (`rules.matches`)."""
    found: dict[int, CustomerSnapshot] = {}
    columns = ("id", "first_added_at", "last_engaged_at", "phone", "birthday", "fields", "stage", "score", "tier", "is_angel",
               "tag_completeness")
    for row in Customer.objects.for_workspace(workspace).filter(pk__in=customer_ids).values(*columns):
        found[row["id"]] = CustomerSnapshot(**row)
    tags: dict[int, set[int]] = {}
    for customer_id, tag_id in CustomerTag.objects.for_workspace(workspace).filter(
            customer_id__in=customer_ids).values_list("customer_id", "tag_id"):
        tags.setdefault(customer_id, set()).add(tag_id)
    for customer_id, tag_ids in tags.items():
        if customer_id in found:
            found[customer_id].tag_ids = frozenset(tag_ids)
    for customer_id, account_id, state, deleted_at in FollowRelation.objects.for_workspace(workspace).filter(
            customer_id__in=customer_ids).values_list("customer_id", "account_id", "state", "deleted_at"):
        if customer_id in found:
            found[customer_id].follows.append(FollowSnapshot(account_id, state, deleted_at is None))
    for segment_field in fields_for(workspace).values():
        if segment_field.load is not None:
            for customer_id, value in segment_field.load(workspace, customer_ids).items():
                if customer_id in found:
                    found[customer_id].extra[segment_field.key] = value
    return found


# --- segments ----------------------------------------------------------------------------------

@dataclass
class SegmentInput:
    name: str
    description: str = ""
    rule: Any = field(default_factory=lambda: dict(EVERYONE))


def _clean(workspace: Workspace, data: SegmentInput, kind: str) -> tuple[str, str, dict[str, Any]]:
    errors: dict[str, list[str]] = {}
    name = (data.name or "").strip()
    if not name:
        errors["name"] = [_("Give the segment a name.")]
    elif len(name) > NAME_MAX_CHARS:
        errors["name"] = [_("Keep the name within %(n)s characters.") % {"n": NAME_MAX_CHARS}]
    description = (data.description or "").strip()
    if len(description) > DESCRIPTION_MAX_CHARS:
        errors["description"] = [_("Keep the description within %(n)s characters.") % {"n": DESCRIPTION_MAX_CHARS}]
    rule: dict[str, Any] = {}
    if kind == SegmentKind.DYNAMIC:
        try:
            rule = clean_rule(workspace, data.rule)
        except ValidationError as exc:
            errors["rule"] = exc.messages
    if errors:
        raise ValidationError(errors)
    return name, description, rule


def list_segments(workspace: Workspace, membership: Membership | None) -> list[Segment]:
    require(role_of(membership), Module.CUSTOMERS, Action.VIEW)
    return list(Segment.objects.for_workspace(workspace).order_by("-updated_at", "-id"))


def get_segment(workspace: Workspace, membership: Membership | None, segment_id: int) -> Segment:
    """Another brand's segment is not found (DoesNotExist)."""
    require(role_of(membership), Module.CUSTOMERS, Action.VIEW)
    return Segment.objects.for_workspace(workspace).get(pk=segment_id)


def create_segment(workspace: Workspace, membership: Seat | None, data: SegmentInput,
                   kind: str = SegmentKind.DYNAMIC) -> Segment:
    """A new segment; a dynamic one is computed at once (its members stored)."""
    require(role_of(membership), Module.CUSTOMERS, Action.EDIT)
    name, description, rule = _clean(workspace, data, kind)
    with transaction.atomic():
        segment = Segment.objects.create(workspace=workspace, name=name, description=description, kind=kind,
                                         rule=rule, created_by=getattr(membership, "user", None))
        if kind == SegmentKind.DYNAMIC:
            recompute(workspace, segment)
        audit_change(workspace, membership, AuditAction.CREATED, module="segments", subject=gettext_lazy("segment"), name=name,
                     facts=[fact(gettext_lazy("rule"), summary(workspace, rule))] if kind == SegmentKind.DYNAMIC else None)
    segment.refresh_from_db()
    return segment


def update_segment(workspace: Workspace, membership: Seat | None, segment_id: int, data: SegmentInput) -> Segment:
    """Rename a segment or change its rule (members recomputed when the rule changes)."""
    require(role_of(membership), Module.CUSTOMERS, Action.EDIT)
    segment = Segment.objects.for_workspace(workspace).get(pk=segment_id)
    name, description, rule = _clean(workspace, data, segment.kind)
    # The rule in words, in the language of the person who changed it (a rule names tags and
    # stages by their current names, which the log must keep as they were).
    before = {"name": segment.name, "description": segment.description,
              "rule": summary(workspace, segment.rule) if segment.kind == SegmentKind.DYNAMIC else ""}
    with transaction.atomic():
        changed_rule = segment.kind == SegmentKind.DYNAMIC and rule != segment.rule
        Segment.objects.for_workspace(workspace).filter(pk=segment.pk).update(
            name=name, description=description, rule=rule if segment.kind == SegmentKind.DYNAMIC else {},
            updated_at=timezone.now())
        segment.refresh_from_db()
        if changed_rule:
            recompute(workspace, segment)
        after = {"name": name, "description": description, "rule": summary(workspace, rule) if changed_rule
                 else before["rule"]}
        audit_change(workspace, membership, AuditAction.UPDATED, module="segments", subject=gettext_lazy("segment"), name=name,
                     changes=changes(before, after, {"name": pgettext_lazy("audit field", "name"), "description": gettext_lazy("description"),
                                                     "rule": gettext_lazy("rule")}))
    segment.refresh_from_db()
    return segment


def delete_segment(workspace: Workspace, membership: Membership | None, segment_id: int) -> None:
    require(role_of(membership), Module.CUSTOMERS, Action.EDIT)
    segment = Segment.objects.for_workspace(workspace).get(pk=segment_id)
    segment.delete()
    audit_change(workspace, membership, AuditAction.DELETION, module="segments", subject=gettext_lazy("segment"),
                 name=segment.name)


def visible_member_ids(workspace: Workspace, membership: Membership | None, segment: Segment, after: int,
                       limit: int) -> list[int]:
    """Member customer ids after the keyset cursor, ascending: a customer ops member's only of the
    accounts they operate (数据范围, `customers.services.scoped`), everyone's for other roles."""
    require(role_of(membership), Module.CUSTOMERS, Action.VIEW)
    rows = scoped(segment_members(workspace, segment).filter(customer_id__gt=after), workspace, membership,
                  via="customer_id")
    return list(rows.order_by("customer_id").values_list("customer_id", flat=True)[:limit])


@dataclass(frozen=True)
class MemberPage:
    customers: list[Customer]
    next_after: int | None


def member_page(workspace: Workspace, membership: Membership | None, segment: Segment, after: int = 0,
                limit: int = 50) -> MemberPage:
    """One page of members in id order, from the keyset cursor `after`; a customer ops member sees
    only their accounts' customers (`customers.services.scoped`)."""
    ids = visible_member_ids(workspace, membership, segment, after, limit + 1)
    more = len(ids) > limit
    ids = ids[:limit]
    customers = list(Customer.objects.for_workspace(workspace).filter(pk__in=ids).order_by("pk"))
    return MemberPage(customers, ids[-1] if more else None)
