"""跟进关系 — the customer record and its follow relations kept from WeCom's contact events: adds,
losses (churn, staff deletions, transfers), customer-group joins and engagement."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from siyu.accounts.models import StaffAccount
from siyu.accounts.services import account_for_userid, record_follow_change
from siyu.core import events
from siyu.core.models import Workspace
from siyu.customers.events import FollowEnded, FollowStarted
from siyu.customers.models import (
    Customer,
    DeletedBy,
    FollowRelation,
    TimelineEntry,
)
from siyu.customers.services.common import (
    DETAIL_MAX_CHARS,
    add_timeline,
    customers_changed,
)
from siyu.customers.timeline import TimelineKind

logger = logging.getLogger("siyu.customers")

_LOSS_KIND = {
    DeletedBy.CUSTOMER: TimelineKind.DELETED_STAFF,
    DeletedBy.STAFF: TimelineKind.DELETED_BY_STAFF,
    DeletedBy.TRANSFER: TimelineKind.TRANSFERRED,
    DeletedBy.UNLISTED: TimelineKind.UNLISTED,
}


def _stamp(at: dt.datetime) -> str:
    return str(int(at.timestamp()))


# --- adds and losses ---------------------------------------------------------------------------

def _customer(workspace: Workspace, external_userid: str, at: dt.datetime) -> Customer:
    customer, created = Customer.objects.for_workspace(workspace).get_or_create(
        workspace=workspace, external_userid=external_userid, defaults={"first_added_at": at})
    if not created and (customer.first_added_at is None or at < customer.first_added_at):
        Customer.unscoped.filter(pk=customer.pk).update(first_added_at=at)
        customer.first_added_at = at
    return customer


def record_add(
    workspace: Workspace,
    *,
    staff_userid: str,
    external_userid: str,
    state: str,
    at: dt.datetime,
    add_way: int = 0,
) -> FollowRelation:
    """Keep a customer's add of a staff account: upsert the customer and the follow relation.

    Idempotent: the same add recorded twice (a replay, or both subscribers of the add) changes
    nothing the second time. A re-add after a deletion reactivates the row (`times_added` + 1,
    a new `added_at`, so the channels app opens a new welcome for it). The account's friend
    counter moves exactly once per real new or reactivated follow, in this transaction, and
    `customers.follow_started` is published."""
    with transaction.atomic():
        account = account_for_userid(workspace, staff_userid)
        customer = _customer(workspace, external_userid, at)
        relation, created = FollowRelation.objects.for_workspace(workspace).get_or_create(
            workspace=workspace, account=account, customer=customer,
            defaults={"added_at": at, "state": state, "add_way": add_way})
        if created:
            _follow_started(workspace, relation, reactivated=False)
            return relation
        if relation.deleted_at is not None and at > relation.deleted_at:
            # Conditional on the deletion we saw, so two workers reactivate (and count) once.
            reactivated = FollowRelation.unscoped.filter(pk=relation.pk, deleted_at=relation.deleted_at).update(
                deleted_at=None, deleted_by="", added_at=at, state=state, add_way=add_way,
                times_added=F("times_added") + 1)
            relation.refresh_from_db()
            if reactivated:
                _follow_started(workspace, relation, reactivated=relation.times_added > 1)
        elif relation.times_added == 0 and at <= (relation.deleted_at or at):
            # The loss arrived before this add (see `record_loss`): the pair cancels out, so
            # only the add's facts are kept; nothing is counted.
            FollowRelation.unscoped.filter(pk=relation.pk, times_added=0).update(
                added_at=at, state=state, add_way=add_way, times_added=1)
            relation.refresh_from_db()
        return relation


@dataclass(frozen=True)
class NewAdd:
    """One add for `record_adds`."""

    staff_userid: str
    external_userid: str
    state: str
    at: dt.datetime


def record_adds(workspace: Workspace, adds: Sequence[NewAdd]) -> list[FollowRelation]:
    """`record_add` for a batch (the welcome lane's: a burst of adds, most of them new), with the
    same effects: relations that do not exist yet are created together, with their customers,
    counters, ADDED timeline entries and `customers.follow_started` in a few statements instead of
    some twenty each; every other add (a re-add, a repeat) goes through `record_add`. Returns each
    add's relation, in order. Call inside a transaction."""
    if not adds:
        return []
    with transaction.atomic():
        accounts = {a.userid: a for a in StaffAccount.objects.for_workspace(workspace)
                    .filter(userid__in={add.staff_userid for add in adds})}
        external_ids = {add.external_userid for add in adds}
        first_seen: dict[str, dt.datetime] = {}
        for add in adds:
            first_seen[add.external_userid] = min(add.at, first_seen.get(add.external_userid, add.at))
        Customer.unscoped.bulk_create(
            [Customer(workspace=workspace, external_userid=e, first_added_at=first_seen[e]) for e in external_ids],
            ignore_conflicts=True)
        customers = {c.external_userid: c for c in Customer.objects.for_workspace(workspace)
                     .filter(external_userid__in=external_ids)}
        taken = set(FollowRelation.objects.for_workspace(workspace)
                    .filter(customer__in=customers.values(), account__in=accounts.values())
                    .values_list("account_id", "customer_id"))
        fresh: dict[tuple[int, int], FollowRelation] = {}
        for add in adds:
            account, customer = accounts.get(add.staff_userid), customers[add.external_userid]
            pair = (account.pk, customer.pk) if account else None
            if pair is None or pair in taken or pair in fresh or customer.first_added_at is None \
                    or customer.first_added_at > add.at:
                continue  # to `record_add` below: a new account, a re-add, a repeat, an earlier first add
            fresh[pair] = FollowRelation(workspace=workspace, account=account, customer=customer,
                                         added_at=add.at, state=add.state)
        try:
            with transaction.atomic():  # a worker that created one of them meanwhile: each on its own
                created = FollowRelation.unscoped.bulk_create(fresh.values())
        except IntegrityError:
            created, fresh = [], {}
        _follows_started(workspace, created)
        relations = []
        for add in adds:
            account = accounts.get(add.staff_userid)
            relation = fresh.get((account.pk, customers[add.external_userid].pk)) if account else None
            relations.append(relation or record_add(
                workspace, staff_userid=add.staff_userid, external_userid=add.external_userid, state=add.state,
                at=add.at))
        return relations


def _follows_started(workspace: Workspace, relations: list[FollowRelation]) -> None:
    """`_follow_started` for relations created together: one counter update per account and day."""
    by_account: dict[tuple[int, dt.date], list[FollowRelation]] = {}
    for relation in relations:
        by_account.setdefault((relation.account_id, timezone.localdate(relation.added_at)), []).append(relation)
    for group in by_account.values():
        record_follow_change(group[0].account, group[0].added_at, added=True, count=len(group))
    TimelineEntry.unscoped.bulk_create([
        TimelineEntry(workspace=workspace, customer=r.customer, kind=TimelineKind.ADDED, at=r.added_at,
                      account_id=r.account_id, detail=r.state[:DETAIL_MAX_CHARS],
                      dedupe_key=f"added:{r.pk}:{_stamp(r.added_at)}")
        for r in relations], ignore_conflicts=True)
    events.publish_many(workspace, [events.Publication(
        FollowStarted(relation_id=r.pk, customer_id=r.customer_id, account_id=r.account_id, state=r.state,
                      at=r.added_at, reactivated=False),
        f"customers.follow_started:{r.pk}:{_stamp(r.added_at)}", r.added_at) for r in relations])


def _follow_started(workspace: Workspace, relation: FollowRelation, *, reactivated: bool) -> None:
    record_follow_change(relation.account, relation.added_at, added=True)
    key = f"{relation.pk}:{_stamp(relation.added_at)}"
    add_timeline(workspace, relation.customer, TimelineKind.ADDED, relation.added_at,
                 account_id=relation.account_id, detail=relation.state, dedupe_key=f"added:{key}")
    events.publish(workspace, FollowStarted(
        relation_id=relation.pk, customer_id=relation.customer_id, account_id=relation.account_id,
        state=relation.state, at=relation.added_at, reactivated=reactivated,
    ), dedupe_key=f"customers.follow_started:{key}", occurred_at=relation.added_at)


def record_loss(
    workspace: Workspace,
    *,
    staff_userid: str,
    external_userid: str,
    at: dt.datetime,
    by: DeletedBy,
) -> FollowRelation:
    """Keep the end of a friendship: churn (the customer deleted the account), staff deleting
    the customer, or a transfer. Counted once (`record_follow_change(added=False)`) and
    `customers.follow_ended` published, only when an active relation really ended.

    A loss seen before its add (events out of order) leaves a relation that was never counted
    (`times_added` 0, already deleted); the add then arrives and cancels out."""
    with transaction.atomic():
        account = account_for_userid(workspace, staff_userid)
        customer = _customer(workspace, external_userid, at)
        relation, created = FollowRelation.objects.for_workspace(workspace).get_or_create(
            workspace=workspace, account=account, customer=customer,
            defaults={"added_at": at, "times_added": 0, "deleted_at": at, "deleted_by": by})
        if created:
            logger.info("loss of %s/%s seen before its add; nothing counted", staff_userid, external_userid)
            return relation
        ended = FollowRelation.unscoped.filter(
            pk=relation.pk, deleted_at__isnull=True, added_at__lte=at).update(deleted_at=at, deleted_by=by)
        relation.refresh_from_db()
        if ended:
            record_follow_change(account, at, added=False)
            add_timeline(workspace, customer, _LOSS_KIND[DeletedBy(by)], at, account_id=account.pk,
                         dedupe_key=f"lost:{relation.pk}:{_stamp(at)}")
            events.publish(workspace, FollowEnded(
                relation_id=relation.pk, customer_id=customer.pk, account_id=account.pk,
                state=relation.state, at=at, deleted_by=str(by),
            ), dedupe_key=f"customers.follow_ended:{relation.pk}:{_stamp(at)}", occurred_at=at)
        return relation


def record_group_change(workspace: Workspace, *, chat_id: str, member_userids: list[str], joined: bool,
                        at: dt.datetime) -> list[int]:
    """Customers joining or leaving a customer group (客户群): a timeline entry each, and a join
    counts as engagement (`last_engaged_at`). Staff among the members are not customers and are
    skipped. Idempotent per customer, group and moment. Returns the customers concerned."""
    customers = list(Customer.objects.for_workspace(workspace).filter(external_userid__in=member_userids))
    kind = TimelineKind.GROUP_JOINED if joined else TimelineKind.GROUP_LEFT
    for customer in customers:
        add_timeline(workspace, customer, kind, at, detail=chat_id,
                     dedupe_key=f"{kind}:{chat_id}:{customer.pk}:{_stamp(at)}")
    ids = [c.pk for c in customers]
    if joined:
        mark_engaged(workspace, ids, at)
    else:
        customers_changed(workspace, ids, "group")
    return ids


def mark_engaged(workspace: Workspace, customer_ids: list[int], at: dt.datetime) -> None:
    """The customers did something themselves at `at` (joined a group, redeemed a welfare...):
    `last_engaged_at` moves forward, never back, and lifecycle and segments hear of it."""
    if not customer_ids:
        return
    Customer.objects.for_workspace(workspace).filter(pk__in=customer_ids).filter(
        Q(last_engaged_at__isnull=True) | Q(last_engaged_at__lt=at)).update(last_engaged_at=at)
    customers_changed(workspace, customer_ids, "engaged")
