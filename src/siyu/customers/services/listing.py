"""客户列表 — the brand's customers as the console list and the API page through them.

Built to stay fast at a million customers: every filter is an indexed lookup (stage, score,
first added, the follow relations' account and state, the tag links), pages are keyset pages
("next page" after the last row shown, never OFFSET), and the total is one COUNT with the same
filters that stops at `COUNT_UP_TO` rows ("more than 100,000"). Only the page's own follow
relations and tags are fetched.
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from siyu.core import bounds
from siyu.core.days import day_start
from siyu.core.models import Membership, Workspace
from siyu.core.permissions import Action, Module, require, role_of
from siyu.core.tenancy import workspace_context
from siyu.customers.models import Customer, FollowRelation, LifecycleStage
from siyu.customers.segmentation import Context, Op, shared_fields
from siyu.customers.services.common import may_see_phone
from siyu.customers.services.scope import scoped

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
SEARCH_MAX_CHARS = 64
SEARCH_MAX_MATCHES = 1000
COUNT_UP_TO = 100_000  # the list counts at most this many rows (a bounded COUNT), then says "more than"

# sort key -> (label, ordering); every ordering ends with the primary key so keyset pages are exact
SORTS = {
    "newest": (_("Newest first"), ("-first_added_at", "-id")),
    "added": (_("Added, oldest first"), ("first_added_at", "id")),
    "score": (_("Super-user score"), ("-score", "-id")),
}


def _follows() -> Prefetch:
    follows = FollowRelation.unscoped.select_related("account").order_by("-added_at")
    if hasattr(FollowRelation, "welcome_records"):
        # The channels app's welcome outcome of each add, read through its relation to the
        # follow (channels sits above; the page shows the current add's, `current_welcome`).
        follows = follows.prefetch_related("welcome_records")
    return Prefetch("follows", queryset=follows)


# The page's tags, through the tags app's relation to the customer (read by name: tags sits above).
_TAG_LINKS = "tag_links__tag"


def customers_query(workspace: Workspace, membership: Membership | None) -> QuerySet[Customer]:
    """The customers the member sees (the brand's, or their accounts' for customer ops: see
    `scope`), newest first, each with its follow relations and accounts."""
    require(role_of(membership), Module.CUSTOMERS, Action.VIEW)
    return (scoped(Customer.objects.for_workspace(workspace), workspace, membership)
            .prefetch_related(_follows()).order_by("-first_added_at", "-id"))


def list_customers(workspace: Workspace, membership: Membership | None, page: int = 1) -> Page:
    """Numbered pages (with a count): for small lists only; the console uses `search_customers`."""
    return Paginator(customers_query(workspace, membership), PAGE_SIZE).get_page(page)


@dataclass(frozen=True)
class CustomerFilters:
    """What the list is narrowed to. Dates are Asia/Shanghai days of the first add. `mine`: only
    the customers of the accounts the member operates (always so for customer ops)."""

    q: str = ""
    stage: str = ""
    tag_id: int | None = None
    account_id: int | None = None
    state: str = ""
    added_from: dt.date | None = None
    added_to: dt.date | None = None
    sort: str = "newest"
    mine: bool = False

    @property
    def active(self) -> bool:
        return bool(self.q or self.stage or self.tag_id or self.account_id or self.state
                    or self.added_from or self.added_to)


@dataclass(frozen=True)
class CustomerCount:
    """How many customers the list holds with its filters: exact up to `COUNT_UP_TO`, beyond
    which `more` is set and `total` is the bound (the count stops there to stay cheap)."""

    total: int
    more: bool = False


@dataclass
class CustomerListPage:
    customers: list[Customer]
    next_cursor: str  # "" on the last page
    is_first: bool
    size: int
    filters: CustomerFilters = field(default_factory=CustomerFilters)


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _phone_range(digits: str) -> Q:
    # A prefix as a range, so the (workspace, phone) b-tree index serves it under any collation.
    return Q(phone__gte=digits, phone__lt=digits[:-1] + chr(ord(digits[-1]) + 1))


def search_ids(workspace: Workspace, role: str | None, q: str) -> list[int]:
    """Customers matching a search, each way looked up by its own index: nickname and remark
    (trigram indexes on PostgreSQL, see migration 0004), the exact external_userid, the phone
    prefix (only for roles that may see phones: a masked phone must not be probed digit by
    digit). At most `SEARCH_MAX_MATCHES` ids; a search is for finding people, the filters are
    for slicing the base."""
    customers = Customer.objects.for_workspace(workspace)
    found: dict[int, None] = {}

    def take(query: QuerySet, column: str = "pk") -> None:
        room = SEARCH_MAX_MATCHES - len(found)
        if room > 0:
            # unordered: the model ordering would make the planner walk the newest-first index
            found.update((pk, None) for pk in query.order_by().values_list(column, flat=True)[:room])

    take(customers.filter(external_userid=q))
    digits = _digits(q)
    if may_see_phone(role) and len(digits) >= 3 and len(digits) == len(q.lstrip("+")):
        take(customers.filter(_phone_range(digits)))
    take(customers.filter(name__icontains=q))
    take(FollowRelation.objects.for_workspace(workspace).filter(remark__icontains=q), "customer_id")
    return list(found)


def filtered(workspace: Workspace, role: str | None, filters: CustomerFilters) -> QuerySet[Customer]:
    """The brand's customers matching the filters, unordered. Phone search only for roles that
    may see phones (otherwise a masked phone could be probed digit by digit)."""
    rows = Customer.objects.for_workspace(workspace)
    follows = FollowRelation.objects.for_workspace(workspace)
    q = filters.q.strip()[:SEARCH_MAX_CHARS]
    if q:
        rows = rows.filter(pk__in=search_ids(workspace, role, q))
    if filters.stage:
        rows = rows.filter(stage=filters.stage)
    tags = shared_fields().get("tags") if filters.tag_id else None
    if tags is not None:  # the tags app's own condition, from the segment field registry
        rows = rows.filter(tags.to_q(Op.ANY, [filters.tag_id], Context(workspace, timezone.now())))
    if filters.account_id:
        rows = rows.filter(pk__in=follows.filter(account_id=filters.account_id, deleted_at__isnull=True)
                           .values("customer_id"))
    if filters.state:
        rows = rows.filter(pk__in=follows.filter(state=filters.state).values("customer_id"))
    if filters.added_from:
        rows = rows.filter(first_added_at__gte=day_start(filters.added_from))
    if filters.added_to:
        rows = rows.filter(first_added_at__lt=day_start(filters.added_to + dt.timedelta(days=1)))
    return rows


# --- keyset cursors ----------------------------------------------------------------------------

def _encode(sort: str, customer: Customer) -> str:
    if sort == "score":
        value = repr(float(customer.score))
    else:
        # every customer has a first add time: `record_add`, `record_loss` and the sync set it
        value = (customer.first_added_at or timezone.now()).isoformat()
    return base64.urlsafe_b64encode(f"{value}|{customer.pk}".encode()).decode().rstrip("=")


def _decode(sort: str, cursor: str) -> tuple[object, int] | None:
    """The (sort value, id) after which the next page starts; None for a cursor we did not make."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        value, pk = raw.rsplit("|", 1)
        key: tuple[object, int] = ((float(value) if sort == "score" else dt.datetime.fromisoformat(value)),
                                   int(pk))
    except (ValueError, UnicodeDecodeError):
        return None
    # A forged cursor's edge values (year 1, infinity, an id past 2**63) would fail in the database.
    return key if bounds.problem(key[0]) is None and bounds.problem(key[1]) is None else None


def _after(rows: QuerySet[Customer], sort: str, key: tuple[object, int]) -> QuerySet[Customer]:
    """Rows after (value, id) in the sort's order. The plain bound on the value (`<=`/`>=`) lets
    the database start the index range there instead of filtering from the first row."""
    value, pk = key
    if sort == "score":
        return rows.filter(score__lte=value).filter(Q(score__lt=value) | Q(pk__lt=pk))
    if sort == "newest":
        return rows.filter(first_added_at__lte=value).filter(Q(first_added_at__lt=value) | Q(pk__lt=pk))
    return rows.filter(first_added_at__gte=value).filter(Q(first_added_at__gt=value) | Q(pk__gt=pk))


def search_customers(
    workspace: Workspace,
    membership: Membership | None,
    filters: CustomerFilters | None = None,
    *,
    after: str = "",
    size: int = PAGE_SIZE,
) -> CustomerListPage:
    """One keyset page of the brand's customers: filtered, searched, sorted, each with its follow
    relations (and accounts) and tags. `after` is the previous page's `next_cursor`."""
    require(role_of(membership), Module.CUSTOMERS, Action.VIEW)
    filters = filters or CustomerFilters()
    if filters.sort not in SORTS:
        filters = CustomerFilters(**{**filters.__dict__, "sort": "newest"})
    size = max(1, min(size, MAX_PAGE_SIZE))
    rows = scoped(filtered(workspace, role_of(membership), filters), workspace, membership, filters.mine)
    key = _decode(filters.sort, after) if after else None
    if key is not None:
        rows = _after(rows, filters.sort, key)
    ordering = SORTS[filters.sort][1]
    with workspace_context(workspace):  # the tag links prefetch goes through the tags app's scoped manager
        page = list(rows.order_by(*ordering).prefetch_related(_follows(), _TAG_LINKS)[:size + 1])
    has_next = len(page) > size
    page = page[:size]
    return CustomerListPage(
        customers=page,
        next_cursor=_encode(filters.sort, page[-1]) if has_next and page else "",
        is_first=key is None,
        size=size,
        filters=filters,
    )


def count_customers(workspace: Workspace, membership: Membership | None,
                    filters: CustomerFilters | None = None) -> CustomerCount:
    """The list's total with the same filters and search: one COUNT over at most
    `COUNT_UP_TO + 1` rows, so it stays bounded at a million customers."""
    require(role_of(membership), Module.CUSTOMERS, Action.VIEW)
    filters = filters or CustomerFilters()
    rows = scoped(filtered(workspace, role_of(membership), filters), workspace, membership, filters.mine)
    found = rows.order_by().values("pk")[:COUNT_UP_TO + 1].count()
    return CustomerCount(min(found, COUNT_UP_TO), more=found > COUNT_UP_TO)


def stage_choices() -> list[tuple[str, str | Promise]]:
    return list(LifecycleStage.choices)
