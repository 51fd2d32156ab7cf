"""人群导出 — members of a segment (or chosen customers) as an Excel workbook, columns chosen.

Rows are read and written in batches of `BATCH_SIZE` into a write-only workbook, so a segment
of hundreds of thousands of customers does not sit in memory. Phone numbers are masked unless
the role may see them (`customers.services.may_see_phone`); every export is audit-logged with
its row count. A member held to a data scope (客户运营) exports only their accounts' customers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from siyu.core.exports import Sheet, xlsx_bytes
from siyu.core.models import AuditAction, Membership, Workspace
from siyu.core.permissions import Action, Module, require, role_of
from siyu.core.services import audit_change, fact
from siyu.customers.models import Customer, CustomField, FollowRelation
from siyu.customers.services import scoped, shown_phone
from siyu.segments.models import Segment
from siyu.segments.services.membership import iter_member_ids
from siyu.tags.models import CustomerTag

BATCH_SIZE = 1000


@dataclass
class Related:
    """What one batch of customers has in other tables: tag names, active follows."""

    tags: dict[int, list[str]]
    accounts: dict[int, list[str]]
    states: dict[int, list[str]]


@dataclass(frozen=True)
class ExportColumn:
    key: str
    label: Any
    value: Callable[[Customer, Related, str | None], Any]


def _local(moment: Any) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


COLUMNS: list[ExportColumn] = [
    ExportColumn("nickname", gettext_lazy("Nickname"), lambda c, r, role: c.name),
    ExportColumn("external_userid", gettext_lazy("External user ID"), lambda c, r, role: c.external_userid),
    ExportColumn("phone", gettext_lazy("Phone"), lambda c, r, role: shown_phone(c.phone, role)),
    ExportColumn("birthday", gettext_lazy("Birthday"), lambda c, r, role: c.birthday.isoformat() if c.birthday else ""),
    ExportColumn("stage", gettext_lazy("Lifecycle stage"), lambda c, r, role: str(c.get_stage_display())),
    ExportColumn("score", gettext_lazy("Super-user score"), lambda c, r, role: round(c.score, 2)),
    ExportColumn("tier", gettext_lazy("Tier"), lambda c, r, role: c.tier),
    ExportColumn("angel", gettext_lazy("Angel user"), lambda c, r, role: _("yes") if c.is_angel else ""),
    ExportColumn("tag_completeness", gettext_lazy("Tag completeness"), lambda c, r, role: round(c.tag_completeness, 3)),
    ExportColumn("tags", gettext_lazy("Tags"), lambda c, r, role: ", ".join(r.tags.get(c.pk, []))),
    ExportColumn("accounts", gettext_lazy("Staff accounts"), lambda c, r, role: ", ".join(r.accounts.get(c.pk, []))),
    ExportColumn("channel", gettext_lazy("Channel"), lambda c, r, role: ", ".join(r.states.get(c.pk, []))),
    ExportColumn("added_at", gettext_lazy("First added"), lambda c, r, role: _local(c.first_added_at)),
]
DEFAULT_COLUMNS = ["nickname", "external_userid", "phone", "stage", "tags", "accounts", "added_at"]


def _custom_column(cf: CustomField) -> ExportColumn:
    return ExportColumn(f"field.{cf.key}", cf.label, lambda c, r, role: c.fields.get(cf.key, ""))


def export_columns(workspace: Workspace) -> list[ExportColumn]:
    """The columns a brand may choose, custom fields last."""
    return COLUMNS + [_custom_column(cf) for cf in CustomField.objects.for_workspace(workspace)]


def _chosen(workspace: Workspace, keys: Iterable[str] | None) -> list[ExportColumn]:
    known = {c.key: c for c in export_columns(workspace)}
    keys = list(keys or DEFAULT_COLUMNS)
    unknown = [k for k in keys if k not in known]
    if unknown:
        raise ValidationError({"columns": [_("There is no column “%(key)s”.") % {"key": k} for k in unknown]})
    return [known[k] for k in dict.fromkeys(keys)]


def _related(workspace: Workspace, ids: list[int]) -> Related:
    related = Related({}, {}, {})
    for customer_id, name in (CustomerTag.objects.for_workspace(workspace).filter(customer_id__in=ids)
                              .order_by("tag__group__order", "tag__order", "tag_id")
                              .values_list("customer_id", "tag__name")):
        related.tags.setdefault(customer_id, []).append(name)
    for customer_id, name, userid, state in (FollowRelation.objects.for_workspace(workspace)
                                             .filter(customer_id__in=ids, deleted_at__isnull=True)
                                             .order_by("added_at")
                                             .values_list("customer_id", "account__name", "account__userid", "state")):
        related.accounts.setdefault(customer_id, []).append(name or userid)
        if state and state not in related.states.get(customer_id, []):
            related.states.setdefault(customer_id, []).append(state)
    return related


def _write(workspace: Workspace, membership: Membership | None, batches: Iterator[list[int]],
           columns: list[ExportColumn], title: str) -> tuple[bytes, int]:
    """Only the customers the member sees are written (数据范围, `customers.services.scoped`)."""
    written = 0
    role = role_of(membership)

    def rows() -> Iterator[list[Any]]:
        nonlocal written
        yield [str(c.label) for c in columns]
        for ids in batches:
            customers = list(scoped(Customer.objects.for_workspace(workspace).filter(pk__in=ids), workspace, membership)
                             .order_by("pk"))
            related = _related(workspace, [c.pk for c in customers])
            for customer in customers:
                yield [column.value(customer, related, role) for column in columns]
                written += 1

    # A nickname such as "=HYPERLINK(...)" is written as text, never as a formula (core.exports).
    return xlsx_bytes([Sheet(title or "Export", rows())]), written


def export_segment(workspace: Workspace, membership: Membership | None, segment: Segment,
                   columns: Iterable[str] | None = None, ip_address: str | None = None) -> tuple[bytes, int]:
    """The segment's members as .xlsx bytes and the row count; audit-logged."""
    role = role_of(membership)
    require(role, Module.CUSTOMERS, Action.EXPORT)
    chosen = _chosen(workspace, columns)
    content, rows = _write(workspace, membership, iter_member_ids(workspace, segment, BATCH_SIZE), chosen, segment.name)
    audit_change(workspace, membership, AuditAction.EXPORT, module="segments", subject=gettext_lazy("segment"),
                 name=segment.name, facts=_export_facts(rows, chosen), ip_address=ip_address,
                 data={"rows": rows, "segment_id": segment.pk, "columns": [c.key for c in chosen]})
    return content, rows


def export_customers(workspace: Workspace, membership: Membership | None, customer_ids: Iterable[int],
                     columns: Iterable[str] | None = None, ip_address: str | None = None) -> tuple[bytes, int]:
    """Chosen customers (the customer list's bulk export) as .xlsx bytes and the row count;
    ids of other brands are ignored. Audit-logged."""
    role = role_of(membership)
    require(role, Module.CUSTOMERS, Action.EXPORT)
    chosen = _chosen(workspace, columns)
    ids = sorted({int(pk) for pk in customer_ids})
    batches = (ids[start:start + BATCH_SIZE] for start in range(0, len(ids), BATCH_SIZE))
    content, rows = _write(workspace, membership, batches, chosen, _("Customers"))
    audit_change(workspace, membership, AuditAction.EXPORT, module="customers", subject=gettext_lazy("customers"), name="",
                 facts=_export_facts(rows, chosen), ip_address=ip_address,
                 data={"rows": rows, "columns": [c.key for c in chosen]})
    return content, rows


def _export_facts(rows: int, chosen: list[ExportColumn]) -> list[dict[str, Any]]:
    return [fact(gettext_lazy("rows"), rows), fact(gettext_lazy("columns"), [c.label for c in chosen])]
