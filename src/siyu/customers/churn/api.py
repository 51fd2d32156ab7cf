"""流失与继承 API under /api/churn/: the churn list and per-account figures, and transfers (request,
history, check status now). Thin: the same services as the console, scoped to the caller's
workspace; roles are checked by the services. (The caller's notifications are the console's API.)"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from siyu.core.bounds import MAX_PAGE
from siyu.customers.models import CustomerTransfer, DeletedBy
from siyu.customers.services import churn, transfers
from siyu.web import MemberRequest, NumberedPages
from siyu.wecom.services import NotConnected

router = Router(tags=["churn"])


# --- churn --------------------------------------------------------------------------------------

class ChurnQuery(Schema):
    start: dt.date | None = None
    end: dt.date | None = None
    account_id: int | None = None
    reason: list[str] = [DeletedBy.CUSTOMER]
    page: int = Field(1, le=MAX_PAGE)

    def to_filter(self) -> churn.ChurnFilter:
        return churn.ChurnFilter(self.start, self.end, self.account_id,
                                 tuple(r for r in self.reason if r in DeletedBy.values) or (DeletedBy.CUSTOMER,))


class ChurnRowOut(Schema):
    customer_id: int
    customer_name: str
    external_userid: str
    account_id: int | None
    account_userid: str
    reason: str
    at: dt.datetime
    state: str
    stayed_days: int | None
    returned: bool
    returned_to: list[str]
    still_follows: bool


class ChurnPageOut(Schema):
    items: list[ChurnRowOut]
    page: int
    has_next: bool


class AccountChurnOut(Schema):
    account_id: int
    account_userid: str
    lost: int
    returned: int


@router.get("/", response=ChurnPageOut)
def churn_list(request: MemberRequest, q: Query[ChurnQuery]) -> dict:
    """Losses in the range (default: the customer's own deletions in the last 30 days), newest
    first, `page` by `page` (no total count)."""
    page = churn.churn_list(request.workspace, request.membership, q.to_filter(), q.page)
    return {"page": page.number, "has_next": page.has_next, "items": [{
        "customer_id": r.customer.pk, "customer_name": r.customer.name, "external_userid": r.customer.external_userid,
        "account_id": r.account.pk if r.account else None, "account_userid": r.account.userid if r.account else "",
        "reason": r.reason, "at": r.at, "state": r.state, "stayed_days": r.stayed_days, "returned": r.returned,
        "returned_to": [a.userid for a in r.returned_to], "still_follows": r.still_follows,
    } for r in page.rows]}


@router.get("/by-account", response=list[AccountChurnOut])
def churn_by_account(request: MemberRequest, q: Query[ChurnQuery]) -> list[dict]:
    figures = churn.churn_by_account(request.workspace, request.membership, q.to_filter())
    return [{"account_id": f.account.pk, "account_userid": f.account.userid, "lost": f.lost, "returned": f.returned}
            for f in figures]


# --- transfers ----------------------------------------------------------------------------------

class TransferIn(Schema):
    handover_account_id: int
    takeover_account_id: int
    customer_ids: list[int]
    resigned: bool = False
    message: str = ""


class TransferResultOut(Schema):
    customer_id: int
    external_userid: str
    status: str
    errcode: int
    note: str
    transfer_id: int | None


class TransferRequestOut(Schema):
    handover_account_id: int
    takeover_account_id: int
    resigned: bool
    accepted: int
    rejected: int
    results: list[TransferResultOut]


class TransferOut(Schema):
    id: int
    customer_id: int
    handover_account_id: int
    takeover_account_id: int
    resigned: bool
    status: str
    errcode: int
    note: str
    requested_at: dt.datetime
    takeover_at: dt.datetime | None
    checked_at: dt.datetime | None

    @staticmethod
    def resolve_handover_account_id(obj: CustomerTransfer) -> int:
        return obj.handover_id

    @staticmethod
    def resolve_takeover_account_id(obj: CustomerTransfer) -> int:
        return obj.takeover_id


class PollOut(Schema):
    pairs: int
    checked: int
    done: int
    failed: int
    errors: int


@router.post("/transfers", response=TransferRequestOut)
def request_transfer(request: MemberRequest, data: TransferIn) -> dict:
    """在职继承 (or 离职继承 with `resigned`): one result per customer; 422 for a bad request."""
    result = transfers.request_transfer(
        request.workspace, request.membership, data.handover_account_id,
        data.takeover_account_id, data.customer_ids, resigned=data.resigned, message=data.message)
    return {
        "handover_account_id": result.handover.pk, "takeover_account_id": result.takeover.pk,
        "resigned": result.resigned, "accepted": result.accepted, "rejected": result.rejected,
        "results": [{"customer_id": r.customer.pk, "external_userid": r.customer.external_userid, "status": r.status,
                     "errcode": r.errcode, "note": r.note, "transfer_id": r.transfer_id} for r in result.results],
    }


@router.get("/transfers", response=list[TransferOut])
@paginate(NumberedPages, page_size=transfers.PAGE_SIZE)
def transfer_history(request: MemberRequest, status: str = "", handover_account_id: int | None = None,  # noqa: ANN201
                     takeover_account_id: int | None = None, customer_id: int | None = None):
    """Newest first, `?page=N`, filtered by status, accounts or customer."""
    flt = transfers.TransferFilter(status, handover_account_id, takeover_account_id, customer_id)
    return transfers.transfers_query(request.workspace, request.membership, flt)


@router.post("/transfers/check", response=PollOut)
def check_transfers(request: MemberRequest) -> transfers.PollReport:
    """Check status now: ask WeCom how every waiting transfer ended."""
    try:
        return transfers.poll_transfers(request.workspace, request.membership)
    except NotConnected as exc:
        raise ValidationError(str(exc)) from exc

