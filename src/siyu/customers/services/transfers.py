"""在职继承 / 离职继承 — moving customers from one staff account to another through WeCom
(WECOM.md §8), and following each move until WeCom says how it ended.

- `request_transfer` checks what we can check locally (roles, accounts, that the customers follow
  the handover, WeCom's "twice in 90 days" rule from our own `CustomerTransfer` history), calls
  WeCom in chunks of 100 (`transfer_customer` or `resigned/transfer_customer`), and records one
  `CustomerTransfer` per customer: waiting when WeCom accepted it, rejected (with WeCom's errcode
  or our reason) otherwise. WeCom fires no callback for an API change, so this record is ours.
- `poll_transfers` (every ten minutes, and on "check status now") asks `transfer_result` for each
  (handover, takeover) pair with waiting transfers and moves each row on once: done, refused,
  takeover full, or no record. A done transfer ends the handover's follow relation
  (`DeletedBy.TRANSFER`) and starts the takeover's, exactly as the `del_external_contact`
  (Source=DELETE_BY_TRANSFER) and add callbacks would, so whichever arrives first counts and the
  other changes nothing.
- `unassigned_customers` lists a resigned member's customers WeCom has not given to anyone.

Roles: `Module.CUSTOMERS` — view to read, edit to transfer or check. Customer ops list, pick and
transfer only the customers of the accounts they operate (`scope`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from siyu.accounts.models import StaffAccount
from siyu.accounts.services import record_wecom_full
from siyu.core.models import AuditAction, Membership, Workspace
from siyu.core.permissions import Action, Module, require, role_of
from siyu.core.services import audit
from siyu.customers.models import (
    Customer,
    CustomerTransfer,
    DeletedBy,
    FollowRelation,
    TransferStatus,
)
from siyu.customers.services.common import add_timeline, customers_changed, may_see_phone
from siyu.customers.services.follows import record_add, record_loss
from siyu.customers.services.scope import Scope, scope_of, scoped, visible_ids
from siyu.customers.timeline import TimelineKind
from siyu.wecom.client import (
    NotAFriend,
    TransferLimitReached,
    TransferState,
    UnassignedCustomer,
    WeComError,
)
from siyu.wecom.events import TransferFailReason
from siyu.wecom.services import NotConnected, client_for

logger = logging.getLogger("siyu.customers")

CHUNK = 100  # WECOM.md §8: at most 100 customers per transfer call
MAX_PER_REQUEST = 1000  # one console request calls WeCom at most 10 times
LIMIT_PER_WINDOW = 2  # WECOM.md §8: a customer may be transferred at most twice in 90 days
WINDOW = dt.timedelta(days=90)
MESSAGE_MAX = 200  # transfer_success_msg
PAGE_SIZE = 50
SEARCH_MAX_CHARS = 64
PHONE_SUFFIX_MIN = 4  # the picker finds a phone by its last digits, as ops read them to each other
AUDIT_ACTION = AuditAction.TRANSFER_REQUESTED

# Where WeCom says a transfer stands (`transfer_result`, WECOM.md §8), as our status.
WECOM_STATUS = {
    TransferState.DONE: TransferStatus.DONE,
    TransferState.WAITING: TransferStatus.WAITING,
    TransferState.REFUSED: TransferStatus.REFUSED,
    TransferState.TAKEOVER_FULL: TransferStatus.FULL,
    TransferState.NO_RECORD: TransferStatus.NOT_FOUND,
}
# Counted against the limit: moves WeCom accepted that were not undone.
COUNTED = (TransferStatus.WAITING, TransferStatus.DONE)


@dataclass(frozen=True)
class TransferResult:
    """What happened to one customer of a request."""

    customer: Customer
    status: str
    errcode: int = 0
    note: str = ""
    transfer_id: int | None = None

    @property
    def accepted(self) -> bool:
        return self.status == TransferStatus.WAITING

    @property
    def status_label(self) -> str:
        return str(TransferStatus(self.status).label)


@dataclass(frozen=True)
class TransferRequest:
    handover: StaffAccount
    takeover: StaffAccount
    resigned: bool
    results: list[TransferResult]

    @property
    def accepted(self) -> int:
        return sum(1 for r in self.results if r.accepted)

    @property
    def rejected(self) -> int:
        return len(self.results) - self.accepted


@dataclass(frozen=True)
class PollReport:
    pairs: int = 0
    checked: int = 0
    done: int = 0
    failed: int = 0  # refused, full, not found
    errors: int = 0  # pairs WeCom did not answer for



def _account(workspace: Workspace, account_id: int | None, field: str) -> StaffAccount:
    account = StaffAccount.objects.for_workspace(workspace).filter(pk=account_id).first() if account_id else None
    if account is None:
        raise ValidationError({field: [_("Choose a staff account of this brand.")]})
    return account


def recent_transfers(workspace: Workspace, customer_ids: Iterable[int], now: dt.datetime) -> dict[int, int]:
    """Per customer, moves in the last 90 days that count against WeCom's limit."""
    rows = (CustomerTransfer.objects.for_workspace(workspace)
            .filter(customer_id__in=list(customer_ids), status__in=COUNTED, requested_at__gte=now - WINDOW)
            .values("customer_id").annotate(n=Count("id")).order_by())
    return {row["customer_id"]: row["n"] for row in rows}


def _waiting(workspace: Workspace, customer_ids: Iterable[int]) -> set[int]:
    return set(CustomerTransfer.objects.for_workspace(workspace)
               .filter(customer_id__in=list(customer_ids), status=TransferStatus.WAITING)
               .values_list("customer_id", flat=True))


def request_transfer(
    workspace: Workspace,
    membership: Membership | None,
    handover_account_id: int,
    takeover_account_id: int,
    customer_ids: Sequence[int],
    resigned: bool = False,
    message: str = "",
    *,
    now: dt.datetime | None = None,
) -> TransferRequest:
    """Ask WeCom to move these customers from the handover account to the takeover account
    (离职继承 when `resigned`: the handover member has left). Problems with the request itself
    raise ValidationError, each on its field; problems with single customers come back per
    customer (and are recorded as rejected), the others go ahead."""
    require(role_of(membership), Module.CUSTOMERS, Action.EDIT)
    now = now or timezone.now()
    message = (message or "").strip()
    errors: dict[str, list[str]] = {}
    handover = takeover = None
    try:
        handover = _account(workspace, handover_account_id, "handover")
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        takeover = _account(workspace, takeover_account_id, "takeover")
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if handover and takeover and handover.pk == takeover.pk:
        errors["takeover"] = [_("The takeover account must differ from the handover account.")]
    if takeover and not takeover.active:
        errors["takeover"] = [_("%(account)s has left the corp and cannot take customers over.") % {"account": takeover}]
    if handover and resigned and handover.active:
        errors["handover"] = [_("%(account)s is still in the corp: use an on-job transfer.") % {"account": handover}]
    if handover and not resigned and not handover.active:
        errors["handover"] = [_("%(account)s has left the corp: use resigned inheritance.") % {"account": handover}]
    if len(message) > MESSAGE_MAX:
        errors["message"] = [_("Keep the message within %(n)s characters.") % {"n": MESSAGE_MAX}]
    ids = list(dict.fromkeys(int(i) for i in customer_ids))
    if not ids:
        errors["customer_ids"] = [_("Choose at least one customer.")]
    elif len(ids) > MAX_PER_REQUEST:
        errors["customer_ids"] = [_("Transfer at most %(n)s customers at a time.") % {"n": MAX_PER_REQUEST}]
    customers = Customer.objects.for_workspace(workspace).in_bulk(ids)
    if ids and len(customers) != len(ids):
        errors.setdefault("customer_ids", []).append(_("Some chosen customers are not this brand's."))
    elif ids and len(visible_ids(workspace, membership, ids)) != len(ids):
        errors.setdefault("customer_ids", []).append(
            _("Some chosen customers are not of the staff accounts you operate."))
    if errors:
        raise ValidationError(errors)
    assert handover is not None and takeover is not None

    following = set(FollowRelation.objects.for_workspace(workspace)
                    .filter(account=handover, customer_id__in=ids, deleted_at__isnull=True)
                    .values_list("customer_id", flat=True))
    counted = recent_transfers(workspace, ids, now)
    waiting = _waiting(workspace, ids)
    outcome: dict[int, tuple[str, int, str]] = {}
    to_send: list[Customer] = []
    for pk in ids:
        if pk not in following:
            outcome[pk] = (TransferStatus.REJECTED, 0, _("Does not follow %(account)s.") % {"account": handover})
        elif pk in waiting:
            outcome[pk] = (TransferStatus.REJECTED, 0, _("A transfer of this customer is already waiting."))
        elif counted.get(pk, 0) >= LIMIT_PER_WINDOW:
            outcome[pk] = (TransferStatus.REJECTED, 0, _("Already transferred twice in the last 90 days."))
        else:
            to_send.append(customers[pk])

    if to_send:
        try:
            client = client_for(workspace)
        except NotConnected as exc:
            raise ValidationError({"__all__": [str(exc)]}) from exc
        with client:
            for start in range(0, len(to_send), CHUNK):
                chunk = to_send[start:start + CHUNK]
                by_external = {c.external_userid: c for c in chunk}
                try:
                    answers = client.transfer_customers(handover.userid, takeover.userid, list(by_external),
                                                        resigned=resigned,
                                                        # WECOM.md §8: only on-job transfers carry a message
                                                        transfer_success_msg=None if resigned else message or None)
                except WeComError as exc:
                    for c in chunk:
                        outcome[c.pk] = (TransferStatus.REJECTED, exc.errcode, exc.errmsg[:200])
                    continue
                for answer in answers:
                    sent = by_external.get(answer.external_userid)
                    if sent is None:
                        continue
                    refusal = answer.refusal
                    if refusal is None:
                        outcome[sent.pk] = (TransferStatus.WAITING, 0, "")
                    else:
                        outcome[sent.pk] = (TransferStatus.REJECTED, answer.errcode, _reason(refusal, answer.errcode))
                for c in chunk:  # WeCom left one out of its answer: not accepted
                    outcome.setdefault(c.pk, (TransferStatus.REJECTED, 0, _("WeCom gave no answer for this customer.")))

    user = getattr(membership, "user", None)
    with transaction.atomic():
        rows = CustomerTransfer.unscoped.bulk_create([
            CustomerTransfer(workspace=workspace, customer_id=pk, handover=handover, takeover=takeover,
                             resigned=resigned, status=outcome[pk][0], errcode=outcome[pk][1], note=outcome[pk][2][:200],
                             requested_by=user if getattr(user, "is_authenticated", False) else None,
                             requested_at=now)
            for pk in ids
        ])
        accepted = [r for r in rows if r.status == TransferStatus.WAITING]
        for row in accepted:
            add_timeline(workspace, customers[row.customer_id], TimelineKind.TRANSFER_REQUESTED, now,
                         account_id=handover.pk, detail=f"{handover} → {takeover}",
                         dedupe_key=f"transfer_requested:{row.pk}" if row.pk else "")
        audit(workspace, user if user is not None else "operator", AUDIT_ACTION,
              f"{handover.userid} → {takeover.userid}",
              {"resigned": resigned, "customers": len(ids), "accepted": len(accepted)}, module="customers")
    by_customer = {r.customer_id: r for r in rows}
    results = [TransferResult(customers[pk], outcome[pk][0], outcome[pk][1], outcome[pk][2],
                              by_customer[pk].pk if pk in by_customer else None) for pk in ids]
    return TransferRequest(handover, takeover, resigned, results)


def _reason(refusal: type[WeComError], errcode: int) -> str:
    """Why WeCom did not take this customer, in words (`errcode` only to show)."""
    if issubclass(refusal, NotAFriend):
        return _("Not a customer of the handover account at WeCom.")
    if issubclass(refusal, TransferLimitReached):
        return _("WeCom: transferred too often (twice in 90 days).")
    return _("WeCom did not accept this customer (errcode %(code)s).") % {"code": errcode}


# --- status polling -----------------------------------------------------------------------------

def _when(seconds: int, fallback: dt.datetime) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC) if seconds else fallback


def poll_transfers(workspace: Workspace, membership: Membership | None = None, *,
                   now: dt.datetime | None = None) -> PollReport:
    """Ask WeCom how each waiting transfer ended and record it, once per row (a conditional
    UPDATE from waiting). `membership` None is the scheduler; a member needs edit rights."""
    if membership is not None:
        require(role_of(membership), Module.CUSTOMERS, Action.EDIT)
    now = now or timezone.now()
    waiting = CustomerTransfer.objects.for_workspace(workspace).filter(status=TransferStatus.WAITING)
    pairs = list(waiting.values_list("handover_id", "takeover_id", "resigned").distinct().order_by())
    if not pairs:
        return PollReport()
    accounts = StaffAccount.objects.for_workspace(workspace).in_bulk({pk for pair in pairs for pk in pair[:2]})
    checked = done = failed = errors = 0
    with client_for(workspace) as client:
        for handover_id, takeover_id, resigned in pairs:
            handover, takeover = accounts[handover_id], accounts[takeover_id]
            statuses: dict[str, tuple[TransferState | None, int]] = {}
            cursor = ""
            try:
                while True:
                    page = client.transfer_result(handover.userid, takeover.userid, cursor, resigned=resigned)
                    for row in page.customer:
                        statuses[row.external_userid] = (row.state, row.takeover_time)
                    cursor = page.next_cursor
                    if not cursor:
                        break
            except WeComError as exc:
                logger.warning("transfer_result %s → %s failed: %s", handover.userid, takeover.userid, exc)
                errors += 1
                continue
            rows = list(waiting.filter(handover_id=handover_id, takeover_id=takeover_id, resigned=resigned)
                        .select_related("customer"))
            for transfer in rows:
                checked += 1
                state, takeover_time = statuses.get(transfer.customer.external_userid, (TransferState.WAITING, 0))
                new = WECOM_STATUS.get(state, TransferStatus.WAITING) if state is not None else TransferStatus.WAITING
                if new == TransferStatus.WAITING:
                    CustomerTransfer.unscoped.filter(pk=transfer.pk).update(checked_at=now)
                    continue
                if _settle(workspace, transfer, handover, takeover, new, _when(takeover_time, now), now):
                    if new == TransferStatus.DONE:
                        done += 1
                    else:
                        failed += 1
    return PollReport(len(pairs), checked, done, failed, errors)


def _settle(workspace: Workspace, row: CustomerTransfer, handover: StaffAccount, takeover: StaffAccount,
            status: str, at: dt.datetime, now: dt.datetime) -> bool:
    with transaction.atomic():
        changed = CustomerTransfer.unscoped.filter(pk=row.pk, status=TransferStatus.WAITING).update(
            status=status, checked_at=now, takeover_at=at if status == TransferStatus.DONE else None)
        if not changed:
            return False  # another poll settled it first
        if status == TransferStatus.DONE:
            external = row.customer.external_userid
            # As WeCom's del (Source=DELETE_BY_TRANSFER) and add callbacks would: idempotent with them.
            record_loss(workspace, staff_userid=handover.userid, external_userid=external, at=at,
                        by=DeletedBy.TRANSFER)
            record_add(workspace, staff_userid=takeover.userid, external_userid=external, state="", at=at)
            customers_changed(workspace, [row.customer_id], "transfer")
        elif status == TransferStatus.FULL:
            record_wecom_full(workspace, takeover.pk, now)
    return True


FAIL_REASONS: dict[str, TransferStatus] = {TransferFailReason.CUSTOMER_REFUSED: TransferStatus.REFUSED, TransferFailReason.TAKEOVER_FULL: TransferStatus.FULL}


def record_transfer_failed(workspace: Workspace, *, takeover_userid: str, external_userid: str, reason: str,
                           at: dt.datetime) -> int:
    """WeCom's `transfer_fail` callback (WECOM.md §3) settles the waiting transfer of this
    customer to this takeover at once, without waiting for the poll. Idempotent: only a waiting
    row changes. Returns how many rows changed."""
    status = FAIL_REASONS.get(reason)
    if status is None:
        return 0
    waiting = CustomerTransfer.objects.for_workspace(workspace).filter(
        status=TransferStatus.WAITING, takeover__userid=takeover_userid, customer__external_userid=external_userid)
    takeovers = list(waiting.values_list("takeover_id", flat=True).distinct()) if status == TransferStatus.FULL else []
    changed = waiting.update(status=status, checked_at=at)
    if changed:
        for takeover_id in takeovers:
            record_wecom_full(workspace, takeover_id, at)
    return changed


# --- reading ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TransferFilter:
    status: str = ""
    handover_id: int | None = None
    takeover_id: int | None = None
    customer_id: int | None = None


def transfers_query(workspace: Workspace, membership: Membership | None,
                    flt: TransferFilter | None = None) -> QuerySet[CustomerTransfer]:
    """The brand's transfers, newest first, with customer and accounts."""
    require(role_of(membership), Module.CUSTOMERS, Action.VIEW)
    flt = flt or TransferFilter()
    rows = scoped(CustomerTransfer.objects.for_workspace(workspace), workspace, membership, via="customer_id")
    rows = rows.select_related("customer", "handover", "takeover")
    if flt.status:
        rows = rows.filter(status=flt.status)
    if flt.handover_id:
        rows = rows.filter(handover_id=flt.handover_id)
    if flt.takeover_id:
        rows = rows.filter(takeover_id=flt.takeover_id)
    if flt.customer_id:
        rows = rows.filter(customer_id=flt.customer_id)
    return rows.order_by("-requested_at", "-id")


def transfer_history(workspace: Workspace, membership: Membership | None, flt: TransferFilter | None = None,
                     page: int | str = 1) -> Page:
    return Paginator(transfers_query(workspace, membership, flt), PAGE_SIZE).get_page(page)


def handover_customers(workspace: Workspace, membership: Membership | None, handover_account_id: int,
                       page: int | str = 1, search: str = "") -> Page:
    """The customers an account follows now, to choose from (one account's relations: indexed).
    `search` finds them as the customer list does: by nickname, this account's remark, the exact
    external user ID, or the phone's last digits (4 or more; only for roles that may see phones,
    so a masked phone cannot be probed)."""
    role = role_of(membership)
    require(role, Module.CUSTOMERS, Action.VIEW)
    account = _account(workspace, handover_account_id, "handover")
    relations = scoped(FollowRelation.objects.for_workspace(workspace).filter(account=account, deleted_at__isnull=True),
                       workspace, membership, via="customer_id").select_related("customer").order_by("-added_at", "-id")
    search = (search or "").strip()[:SEARCH_MAX_CHARS]
    if search:
        found = (Q(customer__name__icontains=search) | Q(remark__icontains=search)
                 | Q(customer__external_userid=search))
        digits = search.lstrip("+")
        if may_see_phone(role) and digits.isdigit() and len(digits) >= PHONE_SUFFIX_MIN:
            found |= Q(customer__phone__endswith=digits)
        relations = relations.filter(found)
    return Paginator(relations, PAGE_SIZE).get_page(page)


@dataclass(frozen=True)
class Unassigned:
    """A resigned member's customer WeCom has not given to anyone yet (`get_unassigned_list`)."""

    handover_userid: str
    external_userid: str
    resigned_at: dt.datetime | None
    account: StaffAccount | None
    customer: Customer | None


def unassigned_customers(workspace: Workspace, membership: Membership | None,
                         handover_account_id: int | None = None, limit: int = 10_000) -> list[Unassigned]:
    """Resigned staff's customers not yet inherited, from WeCom (all pages, up to `limit`);
    only those of one account with `handover_account_id`."""
    require(role_of(membership), Module.CUSTOMERS, Action.VIEW)
    only = _account(workspace, handover_account_id, "handover") if handover_account_id else None
    found: list[UnassignedCustomer] = []
    try:
        with client_for(workspace) as client:
            cursor = ""
            while len(found) < limit:
                page = client.list_unassigned(cursor)
                found.extend(r for r in page.info if only is None or r.handover_userid == only.userid)
                cursor = page.next_cursor
                if page.is_last or not cursor:
                    break
    except (WeComError, NotConnected) as exc:
        raise ValidationError({"__all__": [str(exc)]}) from exc
    found = found[:limit]
    accounts = {a.userid: a for a in StaffAccount.objects.for_workspace(workspace)
                .filter(userid__in={r.handover_userid for r in found})}
    customers = {c.external_userid: c for c in scoped(Customer.objects.for_workspace(workspace), workspace, membership)
                 .filter(external_userid__in={r.external_userid for r in found})}
    if scope_of(workspace, membership) == Scope.OWN_ACCOUNTS:  # held to their accounts' customers
        found = [r for r in found if r.external_userid in customers]
    return [Unassigned(r.handover_userid, r.external_userid,
                       dt.datetime.fromtimestamp(r.dimission_time, tz=dt.UTC) if r.dimission_time else None,
                       accounts.get(r.handover_userid), customers.get(r.external_userid)) for r in found]


def transfer_unassigned(workspace: Workspace, membership: Membership | None, handover_account_id: int,
                        takeover_account_id: int, message: str = "", *,
                        now: dt.datetime | None = None) -> TransferRequest:
    """离职继承 of everything WeCom still holds unassigned for one resigned account. A transfer
    needs edit rights, checked before WeCom is asked for the list (viewing it needs only view)."""
    require(role_of(membership), Module.CUSTOMERS, Action.EDIT)
    pending = unassigned_customers(workspace, membership, handover_account_id, limit=MAX_PER_REQUEST)
    ids = [u.customer.pk for u in pending if u.customer is not None]
    return request_transfer(workspace, membership, handover_account_id, takeover_account_id, ids,
                            resigned=True, message=message, now=now)
