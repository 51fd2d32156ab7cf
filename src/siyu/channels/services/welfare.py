"""加号福利 — add-friend welfare: what a new friend gets for adding an account (a coupon code
from an uploaded pool, a gift, hot-product eligibility, a knowledge pack).

Rules: one grant per customer per welfare (a unique constraint; a second issue returns the
first grant, never a second code); stock-limited (a coupon's stock is its pool of unissued
codes, taken with a conditional UPDATE so two workers never take the same code); redemption
recorded once.

Roles: `Module.CHANNELS` — edit to create welfare, upload codes and record redemptions; view
to see them. `issue_welfare` is called by the welcome flow on WeCom's behalf (no member).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.paginator import Page, Paginator
from django.db import IntegrityError, transaction
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from siyu.accounts.models import StaffAccount
from siyu.channels.models import ChannelCode, Welfare, WelfareCode, WelfareGrant, WelfareKind
from siyu.channels.timeline import ChannelTimeline
from siyu.core.models import AuditAction, Membership, Workspace
from siyu.core.permissions import Action, Module, Seat, allows, require, role_of
from siyu.core.services import audit_change, fact
from siyu.core.uploads import REPORT_ROWS, first_column, read_upload
from siyu.customers.models import Customer
from siyu.customers.services import add_timeline, mark_engaged, scoped

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

logger = logging.getLogger("siyu.channels")

CODE_MAX_CHARS = 64  # WelfareCode.code
UPLOAD_MAX_BYTES = 5 * 1024 * 1024
UPLOAD_MAX_ROWS = 50_000  # blank rows and a header row count
HEADER_NAMES = {"code", "codes", "coupon", "coupon code", "券码", "兑换码", "优惠码"}
TAKE_ATTEMPTS = 8  # conditional UPDATEs tried before a contended pool gives up
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def can_edit(membership: Membership | None) -> bool:
    role = role_of(membership)
    return role is not None and allows(role, Module.CHANNELS, Action.EDIT)


def require_edit(membership: Membership | None) -> None:
    require(role_of(membership), Module.CHANNELS, Action.EDIT)


# --- creating welfare --------------------------------------------------------------------------

@dataclass(frozen=True)
class WelfareInput:
    name: str
    kind: str
    description: str = ""
    link_url: str = ""
    stock: int | None = None
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None


def create_welfare(workspace: Workspace, membership: Seat | None, data: WelfareInput) -> Welfare:
    """A new welfare campaign. A coupon's stock is its code pool (upload codes next); the other
    kinds take a stock number, or none for unlimited."""
    require(role_of(membership), Module.CHANNELS, Action.EDIT)
    errors: dict[str, str] = {}
    name = data.name.strip()
    if not name:
        errors["name"] = _("Give the welfare a name.")
    elif Welfare.objects.for_workspace(workspace).filter(name=name).exists():
        errors["name"] = _("Another welfare already has this name.")
    if data.kind not in WelfareKind.values:
        errors["kind"] = _("Choose what kind of welfare this is.")
    elif data.kind != WelfareKind.COUPON and not (data.description.strip() or data.link_url.strip()):
        errors["description"] = _("Say what the customer gets, or give a link to it.")
    if data.kind == WelfareKind.COUPON and data.stock is not None:
        errors["stock"] = _("A coupon's stock is the number of codes uploaded; leave this empty.")
    if data.stock is not None and data.stock < 0:
        errors["stock"] = _("Stock cannot be negative.")
    if data.starts_at and data.ends_at and data.ends_at <= data.starts_at:
        errors["ends_at"] = _("The end must be after the start.")
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            welfare = Welfare.objects.create(
                workspace=workspace, name=name, kind=data.kind, description=data.description.strip(),
                link_url=data.link_url.strip(), stock=data.stock, starts_at=data.starts_at, ends_at=data.ends_at)
            audit_change(workspace, membership, AuditAction.CREATED, module="channels", subject=gettext_lazy("welfare"),
                         name=welfare.name, facts=[fact(k, v) for k, v in (
                             (gettext_lazy("kind"), WelfareKind(welfare.kind).label),
                             (gettext_lazy("stock"), welfare.stock if welfare.stock is not None else gettext_lazy("unlimited")),
                         )])
            return welfare
    except IntegrityError as exc:  # the same name saved at the same moment
        raise ValidationError({"name": _("Another welfare already has this name.")}) from exc


# --- listing -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class WelfareRow:
    welfare: Welfare
    stock: int | None  # what is left to issue; None: unlimited
    issued: int
    redeemed: int


class _Counts(TypedDict):
    n_unissued: int
    n_issued: int
    n_redeemed: int


def _counted(queryset: QuerySet[Welfare]) -> QuerySet[WithAnnotations[Welfare, _Counts]]:
    """Each welfare with its figures, as one correlated count per figure. Joining the pool and
    the grants in one GROUP BY multiplied them (3,000 codes × 3,000 grants = 9 million rows for
    the demo coupon); each subquery walks one index instead."""

    def count(rows: QuerySet[Any]) -> Coalesce:
        return Coalesce(Subquery(rows.filter(welfare=OuterRef("pk")).order_by().values("welfare")
                                 .annotate(n=Count("*")).values("n")[:1]), 0)

    return queryset.annotate(
        n_unissued=count(WelfareCode.unscoped.filter(issued_at__isnull=True)),
        n_issued=count(WelfareGrant.unscoped.all()),
        n_redeemed=count(WelfareGrant.unscoped.filter(redeemed_at__isnull=False)),
    )


def _row(welfare: WithAnnotations[Welfare, _Counts]) -> WelfareRow:
    if welfare.kind == WelfareKind.COUPON:
        left: int | None = welfare.n_unissued
    else:
        left = None if welfare.stock is None else max(welfare.stock - welfare.issued, 0)
    return WelfareRow(welfare, left, welfare.n_issued, welfare.n_redeemed)


def list_welfare(workspace: Workspace, membership: Membership | None) -> list[WelfareRow]:
    require(role_of(membership), Module.CHANNELS, Action.VIEW)
    return [_row(w) for w in _counted(Welfare.objects.for_workspace(workspace)).order_by("-created_at", "-id")]


def welfare_row(workspace: Workspace, membership: Membership | None, welfare_id: int) -> WelfareRow:
    """One welfare with its figures; another brand's is not found."""
    require(role_of(membership), Module.CHANNELS, Action.VIEW)
    return _row(_counted(Welfare.objects.for_workspace(workspace)).get(pk=welfare_id))


GRANTS_PAGE_SIZE = 50


def grants_of(workspace: Workspace, membership: Membership | None, welfare_id: int, *, search: str = "",
              status: str = "", page: int | str = 1) -> Page:
    """One page of a welfare's grants, newest first: found by the customer's nickname (part of
    it), their WeCom external id or the coupon code (whole), and by whether they are redeemed. A
    customer ops member finds only their accounts' customers (数据范围, `customers.services.scoped`)."""
    require(role_of(membership), Module.CHANNELS, Action.VIEW)
    grants = scoped(WelfareGrant.objects.for_workspace(workspace).filter(welfare_id=welfare_id), workspace, membership,
                    via="customer_id")
    search = search.strip()
    if search:
        grants = grants.filter(Q(customer__name__icontains=search) | Q(customer__external_userid=search)
                               | Q(code__code=search))
    if status == "open":
        grants = grants.filter(redeemed_at__isnull=True)
    elif status == "redeemed":
        grants = grants.filter(redeemed_at__isnull=False)
    grants = grants.select_related("customer", "code", "channel").order_by("-granted_at", "-id")
    return Paginator(grants, GRANTS_PAGE_SIZE).get_page(page)


# --- uploading coupon codes --------------------------------------------------------------------

@dataclass
class UploadReport:
    """What happened to each row of an upload, so ops can fix the file and upload again."""

    added: int = 0
    rows: list[tuple[int, str, str]] = field(default_factory=list)  # (row number, value, problem)

    @property
    def rejected(self) -> int:
        return len(self.rows)

    @property
    def shown_rows(self) -> list[tuple[int, str, str]]:
        """The first rejected rows, as many as a page echoes."""
        return self.rows[:REPORT_ROWS]

    @property
    def more_rows(self) -> int:
        return max(len(self.rows) - REPORT_ROWS, 0)

    def reject(self, row: int, value: str, problem: str) -> None:
        self.rows.append((row, value[:80], problem))


def _cells_of_file(upload: UploadedFile) -> list[str]:
    """The first column of a .txt (one code a line), .csv or .xlsx (first sheet) file."""
    data = read_upload(upload, max_bytes=UPLOAD_MAX_BYTES)
    return [text for _row, text in first_column(upload.name, data, max_bytes=UPLOAD_MAX_BYTES,
                                                max_rows=UPLOAD_MAX_ROWS)]


def upload_codes(
    workspace: Workspace,
    membership: Seat | None,
    welfare_id: int,
    *,
    text: str = "",
    file: UploadedFile | None = None,
) -> UploadReport:
    """Add coupon codes to a coupon welfare's pool from pasted text (one a line) or a file.
    Blank rows, duplicates (in the upload or already in the pool) and codes longer than 64
    characters are reported row by row; every other code is added."""
    require(role_of(membership), Module.CHANNELS, Action.EDIT)
    welfare = Welfare.objects.for_workspace(workspace).get(pk=welfare_id)
    if welfare.kind != WelfareKind.COUPON:
        raise ValidationError(_("Only a coupon welfare has a pool of codes."))
    cells = _cells_of_file(file) if file is not None else text.splitlines()
    if not any(c.strip() for c in cells):
        raise ValidationError({"file" if file is not None else "codes": _("There are no codes in this upload.")})
    if len(cells) > UPLOAD_MAX_ROWS:  # pasted text; a file is refused while it is read
        raise ValidationError({"codes": _("At most %(n)s rows per upload.") % {"n": UPLOAD_MAX_ROWS}})
    header = bool(cells) and cells[0].strip().lower() in HEADER_NAMES  # a column title, not a code
    report = UploadReport()
    existing = set(WelfareCode.objects.for_workspace(workspace).filter(welfare=welfare).values_list("code", flat=True))
    fresh: dict[str, int] = {}
    for number, cell in enumerate(cells, start=1):
        code = cell.strip()
        if number == 1 and header:
            report.reject(number, cell, _("header row"))
        elif not code:
            report.reject(number, cell, _("blank"))
        elif len(code) > CODE_MAX_CHARS:
            report.reject(number, code, _("longer than %(n)s characters") % {"n": CODE_MAX_CHARS})
        elif _CONTROL.search(code):  # PostgreSQL cannot store a NUL; no code holds one anyway
            report.reject(number, _CONTROL.sub("?", code), _("contains a control character"))
        elif code in fresh:
            report.reject(number, code, _("duplicate of row %(row)s") % {"row": fresh[code]})
        elif code in existing:
            report.reject(number, code, _("already in the pool"))
        else:
            fresh[code] = number
    created = WelfareCode.unscoped.bulk_create(
        [WelfareCode(workspace=workspace, welfare=welfare, code=c) for c in fresh],
        ignore_conflicts=True, batch_size=1000)  # a concurrent upload of the same code is skipped
    report.added = len(created)
    if report.added:
        audit_change(workspace, membership, AuditAction.UPDATED, module="channels", subject=gettext_lazy("welfare"),
                     name=welfare.name, facts=[fact(gettext_lazy("coupon codes added"), report.added)])
    return report


# --- issuing -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class IssueOutcome:
    grant: WelfareGrant | None
    reason: str = ""  # why nothing was issued, in the reader's words
    new: bool = False


def _take_code(welfare: Welfare, now: dt.datetime) -> WelfareCode | None:
    """Take one unissued code. The conditional UPDATE is the guard (two workers can never both
    set `issued_at` on one code); on PostgreSQL, SKIP LOCKED also spreads concurrent takers
    over different rows instead of making them collide on the first."""
    pool = WelfareCode.unscoped.filter(welfare=welfare, issued_at__isnull=True)
    for _attempt in range(TAKE_ATTEMPTS):
        candidate = pool.select_for_update(skip_locked=True).order_by("id").only("id").first()
        if candidate is None:
            return None
        if WelfareCode.unscoped.filter(pk=candidate.pk, issued_at__isnull=True).update(issued_at=now):
            return WelfareCode.unscoped.get(pk=candidate.pk)
    raise RuntimeError("the code pool is too contended; try again")


def try_issue_welfare(
    workspace: Workspace,
    welfare: Welfare,
    customer: Customer,
    channel: ChannelCode | None,
    account: StaffAccount | None,
    now: dt.datetime | None = None,
) -> IssueOutcome:
    """`issue_welfare` with the reason when nothing is issued."""
    now = now or timezone.now()
    existing = WelfareGrant.objects.for_workspace(workspace).filter(welfare=welfare, customer=customer).select_related("code").first()
    if existing is not None:
        return IssueOutcome(existing)
    if not welfare.active:
        return IssueOutcome(None, _("welfare “%(name)s” is switched off") % {"name": welfare.name})
    if (welfare.starts_at and now < welfare.starts_at) or (welfare.ends_at and now >= welfare.ends_at):
        return IssueOutcome(None, _("welfare “%(name)s” is outside its time window") % {"name": welfare.name})
    out_of_stock = IssueOutcome(None, _("welfare “%(name)s” is out of stock") % {"name": welfare.name})
    try:
        with transaction.atomic():  # a savepoint: a lost race for the grant gives the code back
            code = None
            if welfare.kind == WelfareKind.COUPON:
                code = _take_code(welfare, now)
                if code is None:
                    return out_of_stock
                Welfare.unscoped.filter(pk=welfare.pk).update(issued=F("issued") + 1)
            elif not Welfare.unscoped.filter(Q(stock__isnull=True) | Q(issued__lt=F("stock")), pk=welfare.pk).update(
                    issued=F("issued") + 1):
                return out_of_stock
            grant = WelfareGrant.objects.create(workspace=workspace, welfare=welfare, customer=customer, code=code,
                                                channel=channel, account=account, granted_at=now)
    except IntegrityError:
        # The same customer's grant was created at the same moment by another worker.
        return IssueOutcome(WelfareGrant.objects.for_workspace(workspace).select_related("code")
                            .get(welfare=welfare, customer=customer))
    add_timeline(workspace, customer, ChannelTimeline.WELFARE_ISSUED, now, account_id=account.pk if account else None,
                 detail=welfare.name, dedupe_key=f"welfare:{grant.pk}")
    return IssueOutcome(grant, new=True)


def issue_welfare(
    workspace: Workspace,
    welfare: Welfare,
    customer: Customer,
    channel: ChannelCode | None,
    account: StaffAccount | None,
) -> WelfareGrant | None:
    """Issue the welfare to the customer: the existing grant if they already have one (never a
    second code), a new grant while stock lasts, or None (out of stock, switched off, outside
    its time window)."""
    return try_issue_welfare(workspace, welfare, customer, channel, account).grant


def welfare_text(grant: WelfareGrant | None) -> str:
    """What `{welfare}` becomes in a welcome message: the coupon code, or the gift's
    description and link."""
    if grant is None:
        return ""
    welfare = grant.welfare
    if welfare.kind == WelfareKind.COUPON and grant.code is not None:
        return f"{welfare.description} {grant.code.code}".strip()
    return " ".join(p for p in (welfare.description or welfare.name, welfare.link_url) if p)


# --- redemption --------------------------------------------------------------------------------

def redeem(workspace: Workspace, membership: Membership | None, grant_id: int, note: str = "") -> WelfareGrant:
    """Record that the customer used the welfare (核销), once; a second redemption is refused
    with the date of the first."""
    require(role_of(membership), Module.CHANNELS, Action.EDIT)
    grant = WelfareGrant.objects.for_workspace(workspace).select_related("customer", "welfare").get(pk=grant_id)
    now = timezone.now()
    with transaction.atomic():
        done = WelfareGrant.unscoped.filter(pk=grant.pk, redeemed_at__isnull=True).update(
            redeemed_at=now, redeemed_note=note.strip()[:120])
        if not done:
            grant.refresh_from_db()
            raise ValidationError(_("Already redeemed on %(date)s.") % {
                "date": timezone.localtime(grant.redeemed_at).strftime("%Y-%m-%d %H:%M")})
        add_timeline(workspace, grant.customer, ChannelTimeline.WELFARE_REDEEMED, now, account_id=grant.account_id,
                      detail=grant.welfare.name, dedupe_key=f"redeemed:{grant.pk}")
        mark_engaged(workspace, [grant.customer_id], now)
        audit_change(workspace, membership, AuditAction.REDEEMED, module="channels", subject=gettext_lazy("welfare"),
                     name=grant.welfare.name, facts=[fact(k, v) for k, v in (
                         (gettext_lazy("customer"), str(grant.customer)),
                         (gettext_lazy("note"), note.strip()[:120]),
                     ) if v])
    grant.refresh_from_db()
    return grant
