"""客户 API under /api/customers/: the list (same search, filters and keyset pages as the console),
a customer's profile with custom fields and the phone as the caller's role may see it, profile
edits and remarks (synced with WeCom), custom field definitions and the full sync. Thin: the
console's services, scoped to the caller's workspace; roles are checked by the services."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Query, Router, Schema

from siyu.customers import services
from siyu.customers.models import Customer, CustomerSync, FollowRelation
from siyu.customers.services import profile as profiles
from siyu.customers.services import sync as syncs
from siyu.customers.services.listing import MAX_PAGE_SIZE, PAGE_SIZE, CustomerFilters
from siyu.web import MemberRequest

router = Router(tags=["customers"])


class FollowOut(Schema):
    id: int
    account_id: int
    account_userid: str
    account_name: str
    state: str
    remark: str
    description: str
    added_at: dt.datetime
    times_added: int
    welcome_status: str  # the channels app's outcome of the current add; "" when none was recorded
    welcome_note: str
    deleted_at: dt.datetime | None
    deleted_by: str

    @staticmethod
    def resolve_welcome_status(obj: FollowRelation) -> str:
        return obj.current_welcome.status if obj.current_welcome else ""

    @staticmethod
    def resolve_welcome_note(obj: FollowRelation) -> str:
        return obj.current_welcome.note if obj.current_welcome else ""

    @staticmethod
    def resolve_account_userid(obj: FollowRelation) -> str:
        return obj.account.userid

    @staticmethod
    def resolve_account_name(obj: FollowRelation) -> str:
        return obj.account.name


class CustomerOut(Schema):
    id: int
    external_userid: str
    name: str
    avatar_url: str
    gender: int
    unionid: str
    corp_name: str
    phone: str  # masked unless the caller's role may see phones
    birthday: dt.date | None
    fields: dict[str, Any]
    stage: str
    score: float
    tier: str
    is_angel: bool
    tag_completeness: float
    first_added_at: dt.datetime | None
    follows: list[FollowOut]


class TimelineOut(Schema):
    kind: str  # an app-prefixed key, e.g. "channels.welcome_sent"
    label: str  # the kind as people read it, in the caller's language
    at: dt.datetime
    account_id: int | None
    detail: str


class TagOut(Schema):
    id: int
    name: str
    group: str


class CustomerDetailOut(CustomerOut):
    tags: list[TagOut]
    timeline: list[TimelineOut]

    @staticmethod
    def resolve_tags(obj: Customer) -> list:
        return obj.tag_list  # type: ignore[attr-defined]  # set by `customer` below

    @staticmethod
    def resolve_timeline(obj: Customer) -> list:
        return obj.timeline_entries  # type: ignore[attr-defined]  # set by `customer` below


class CustomerPageOut(Schema):
    items: list[CustomerOut]
    next_cursor: str  # pass as `after` for the next page; "" on the last page


class ListQuery(Schema):
    q: str = ""
    stage: str = ""
    tag: int | None = None
    account: int | None = None
    state: str = ""
    added_from: dt.date | None = None
    added_to: dt.date | None = None
    sort: str = "newest"
    mine: bool = False  # only the customers of the accounts you operate (always so for customer ops)
    after: str = ""
    size: int = PAGE_SIZE


def _out(customer: Customer, role: str | None) -> Customer:
    # A detached copy of the phone as the role may see it; the row itself is never saved.
    customer.phone = services.shown_phone(customer.phone, role)
    return customer


@router.get("/", response=CustomerPageOut)
def customers(request: MemberRequest, query: Query[ListQuery]) -> dict[str, Any]:
    """Newest first (or `sort=added|score`), `size` ≤ 200 a page; `after=<next_cursor>` for more.
    No total is counted (fast at a million customers). A customer ops token sees only the
    customers of the accounts its member operates; `mine=true` narrows any role the same way."""
    seat = request.membership
    filters = CustomerFilters(q=query.q, stage=query.stage, tag_id=query.tag, account_id=query.account,
                              state=query.state, added_from=query.added_from, added_to=query.added_to,
                              sort=query.sort, mine=query.mine)
    page = services.search_customers(request.workspace, seat, filters, after=query.after,
                                     size=min(max(query.size, 1), MAX_PAGE_SIZE))
    return {"items": [_out(c, seat.role) for c in page.customers], "next_cursor": page.next_cursor}


@router.get("/{int:customer_id}", response=CustomerDetailOut)
def customer(request: MemberRequest, customer_id: int) -> Customer:
    profile = services.customer_profile(request.workspace, request.membership, customer_id)
    found = profile.customer
    found.phone = profile.phone
    found.timeline_entries = profile.timeline  # type: ignore[attr-defined]  # read by CustomerDetailOut
    # The tags app's links, read through their relation to the customer (no import of tags).
    links = found.tag_links.select_related("tag__group").order_by("tag__group__name", "tag__name")
    found.tag_list = [{"id": link.tag_id, "name": link.tag.name, "group": link.tag.group.name}  # type: ignore[attr-defined]  # read by CustomerDetailOut
                      for link in links]
    return found


class ProfileIn(Schema):
    phone: str | None = None
    birthday: str | None = None
    fields: dict[str, Any] | None = None


@router.patch("/{int:customer_id}", response=CustomerDetailOut)
def update_customer(request: MemberRequest, customer_id: int, body: ProfileIn) -> Customer:
    """Change phone, birthday and custom field values (only those sent; "" or null clears a
    field value). Errors come back per field (422)."""
    values: dict[str, Any] = {"fields": body.fields or {}}
    sent = body.model_fields_set
    if "phone" in sent:
        values["phone"] = body.phone or ""
    if "birthday" in sent:
        values["birthday"] = body.birthday or ""
    profiles.update_profile(request.workspace, request.membership, customer_id, **values)
    return customer(request, customer_id)


class RemarkIn(Schema):
    relation_id: int
    remark: str = ""
    description: str = ""


@router.post("/{int:customer_id}/remark", response=FollowOut)
def remark(request: MemberRequest, customer_id: int, body: RemarkIn) -> FollowRelation:
    """Set one follow relation's remark (≤ 20) and description (≤ 150), in WeCom then here."""
    return profiles.remark_follow(request.workspace, request.membership, customer_id, body.relation_id,
                                  remark=body.remark, description=body.description)


# --- custom fields ------------------------------------------------------------------------------

class FieldOut(Schema):
    id: int
    key: str
    label: str
    kind: str
    choices: list[str]
    position: int


class FieldIn(Schema):
    key: str = ""
    label: str
    kind: str
    choices: list[str] = []
    position: int = 0


@router.get("/fields", response=list[FieldOut])
def fields(request: MemberRequest) -> list:
    return profiles.list_fields(request.workspace, request.membership)


@router.post("/fields", response=FieldOut)
def create_field(request: MemberRequest, body: FieldIn) -> Any:
    return profiles.save_field(request.workspace, request.membership, None, key=body.key, label=body.label,
                               kind=body.kind, choices=body.choices, position=body.position)


@router.put("/fields/{int:field_id}", response=FieldOut)
def edit_field(request: MemberRequest, field_id: int, body: FieldIn) -> Any:
    return profiles.save_field(request.workspace, request.membership, field_id, key=body.key, label=body.label,
                               kind=body.kind, choices=body.choices, position=body.position)


@router.delete("/fields/{int:field_id}")
def delete_field(request: MemberRequest, field_id: int) -> dict[str, int]:
    return {"cleared": profiles.delete_field(request.workspace, request.membership, field_id)}


# --- full sync ----------------------------------------------------------------------------------

class SyncOut(Schema):
    id: int
    status: str
    staff_accounts: int
    staff_index: int
    pages: int
    customers_seen: int
    relations_seen: int
    progress: float
    error: str
    started_at: dt.datetime
    updated_at: dt.datetime
    finished_at: dt.datetime | None

    @staticmethod
    def resolve_staff_accounts(obj: CustomerSync) -> int:
        return len(obj.staff_userids)

    @staticmethod
    def resolve_progress(obj: CustomerSync) -> float:
        return syncs.progress_of(obj)


@router.get("/sync", response=list[SyncOut])
def sync_history(request: MemberRequest) -> list:
    return syncs.sync_history(request.workspace, request.membership)


@router.post("/sync", response=SyncOut)
def start_sync(request: MemberRequest) -> CustomerSync:
    """Start a full sync from WeCom (422 while one runs); poll `GET /sync/{id}`."""
    return syncs.start_sync(request.workspace, request.membership)


@router.get("/sync/{int:sync_id}", response=SyncOut)
def sync_status(request: MemberRequest, sync_id: int) -> CustomerSync:
    return syncs.get_sync(request.workspace, request.membership, sync_id)


@router.post("/sync/{int:sync_id}/resume", response=SyncOut)
def resume_sync(request: MemberRequest, sync_id: int) -> CustomerSync:
    return syncs.resume_sync(request.workspace, request.membership, sync_id)
