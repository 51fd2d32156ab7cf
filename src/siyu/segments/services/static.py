"""静态人群 — a segment from an uploaded list (Excel or CSV) of external_userids or phone numbers.

The first column of each row is read. Every non-blank row is either matched to customers of
the brand or reported with its row number and the reason (not found, a duplicate of an earlier
row, a malformed phone number): nothing is dropped silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import TextChoices
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from siyu.core.models import Membership, Workspace
from siyu.core.permissions import Action, Module, require, role_of
from siyu.core.uploads import REPORT_ROWS, first_column
from siyu.customers.models import Customer
from siyu.segments.models import Segment, SegmentKind, SegmentMember
from siyu.segments.services.definitions import SegmentInput, create_segment
from siyu.segments.services.membership import segment_members

UPLOAD_MAX_BYTES = 10 * 1024 * 1024
UPLOAD_MAX_ROWS = 200_000  # blank rows and a header row count
LOOKUP_BATCH = 1000
HEADERS = {"external_userid", "externaluserid", "userid", "id", "phone", "mobile", "phone number",
           "手机", "手机号", "手机号码", "电话", "客户id", "外部联系人id"}
_PHONE_LIKE = re.compile(r"^[+\d\s\-()（）]+$")
_MOBILE = re.compile(r"^1\d{10}$")
_EXTERNAL_ID = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")


class RowProblem(TextChoices):
    NOT_FOUND = "not_found", gettext_lazy("No customer of the brand has it")
    DUPLICATE = "duplicate", gettext_lazy("Duplicate of an earlier row")
    MALFORMED_PHONE = "malformed_phone", gettext_lazy("Not an 11-digit mainland mobile number")
    MALFORMED_ID = "malformed_id", gettext_lazy("Neither a phone number nor an external_userid")


@dataclass(frozen=True)
class RowError:
    row: int
    value: str
    problem: RowProblem

    @property
    def reason(self) -> str:
        return str(self.problem.label)


@dataclass
class UploadResult:
    segment: Segment
    rows: int = 0          # non-blank data rows read
    matched_rows: int = 0  # rows that found at least one customer
    added: int = 0         # member rows added (a phone may match several customers)
    errors: list[RowError] = field(default_factory=list)

    @property
    def shown_errors(self) -> list[RowError]:
        """The first problem rows, as many as a page echoes."""
        return self.errors[:REPORT_ROWS]

    @property
    def more_errors(self) -> int:
        return max(len(self.errors) - REPORT_ROWS, 0)


def normalise_phone(text: str) -> str | None:
    """Digits of a mainland mobile number (country code 86 dropped), or None if malformed."""
    digits = re.sub(r"\D", "", text)
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits if _MOBILE.match(digits) else None


def upload_static(workspace: Workspace, membership: Membership | None, *, file_name: str, data: bytes,
                  name: str = "", description: str = "", segment_id: int | None = None) -> UploadResult:
    """Create a static segment from the file (or add to `segment_id`'s members)."""
    require(role_of(membership), Module.CUSTOMERS, Action.EDIT)
    rows = first_column(file_name, data, max_bytes=UPLOAD_MAX_BYTES, max_rows=UPLOAD_MAX_ROWS)
    if segment_id is not None:
        segment = Segment.objects.for_workspace(workspace).get(pk=segment_id)
        if segment.kind != SegmentKind.STATIC:
            raise ValidationError({"file": _("Only a static segment takes uploaded members.")})
    with transaction.atomic():
        if segment_id is None:
            segment = create_segment(workspace, membership, SegmentInput(name=name, description=description),
                                     kind=SegmentKind.STATIC)
        result = UploadResult(segment)
        phones: dict[str, int] = {}
        ids: dict[str, int] = {}
        seen: set[str] = set()
        for number, value in rows:
            if not value:
                continue
            if number == 1 and value.lower() in HEADERS:
                continue
            result.rows += 1
            if _PHONE_LIKE.match(value):
                key = normalise_phone(value)
                if key is None:
                    result.errors.append(RowError(number, value, RowProblem.MALFORMED_PHONE))
                    continue
                target = phones
            elif _EXTERNAL_ID.match(value):
                key, target = value, ids
            else:
                result.errors.append(RowError(number, value, RowProblem.MALFORMED_ID))
                continue
            if key in seen:
                result.errors.append(RowError(number, value, RowProblem.DUPLICATE))
                continue
            seen.add(key)
            target[key] = number
        found = _match(workspace, phones, ids)
        values = dict(rows)
        for key, number in [*phones.items(), *ids.items()]:
            if not found.get(key):
                result.errors.append(RowError(number, values[number], RowProblem.NOT_FOUND))
        result.matched_rows = sum(1 for key in [*phones, *ids] if found.get(key))
        customer_ids = sorted({pk for pks in found.values() for pk in pks})
        members = segment_members(workspace, segment)
        before = members.count()
        now = timezone.now()
        for start in range(0, len(customer_ids), LOOKUP_BATCH):
            SegmentMember.unscoped.bulk_create(
                [SegmentMember(workspace=workspace, segment_id=segment.pk, customer_id=pk, added_at=now)
                 for pk in customer_ids[start:start + LOOKUP_BATCH]], ignore_conflicts=True)
        total = members.count()
        result.added = total - before
        Segment.unscoped.filter(pk=segment.pk).update(member_count=total, computed_at=now, updated_at=now)
        segment.refresh_from_db()
    result.errors.sort(key=lambda e: e.row)
    return result


def _match(workspace: Workspace, phones: dict[str, int], ids: dict[str, int]) -> dict[str, list[int]]:
    """{phone or external_userid: [customer ids]}; a phone is stored with or without 86."""
    found: dict[str, list[int]] = {}
    customers = Customer.objects.for_workspace(workspace)
    keys = list(ids)
    for start in range(0, len(keys), LOOKUP_BATCH):
        for pk, external in customers.filter(external_userid__in=keys[start:start + LOOKUP_BATCH]).values_list(
                "pk", "external_userid"):
            found.setdefault(external, []).append(pk)
    keys = list(phones)
    for start in range(0, len(keys), LOOKUP_BATCH):
        chunk = keys[start:start + LOOKUP_BATCH]
        for pk, phone in customers.filter(phone__in=chunk + ["86" + p for p in chunk]).values_list("pk", "phone"):
            found.setdefault(phone[2:] if len(phone) == 13 else phone, []).append(pk)
    return found
