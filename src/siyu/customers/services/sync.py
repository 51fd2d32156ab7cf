"""全量同步 — bring the brand's customers in line with WeCom: `batch/get_by_user` paged for every
staff account (WECOM.md §3: at most 100 staff a call, 100 rows a page).

Each page is applied in one transaction together with the sync's progress (staff chunk and
cursor), so a sync cut off by a crash or a WeCom error resumes at the page it stopped at, and
re-applying a page changes nothing. A follow relation new to us is counted on its account
once (`record_follow_change`), whether the add event or the sync saw it first: the relation's
unique constraint decides, as in `record_add`. One running sync per brand.

A friendship we hold that a complete sync no longer finds ended while its callback was missed:
it is ended then (`DeletedBy.UNLISTED`), except for staff WeCom reports as unlicensed, whose
customers it does not list at all.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from siyu.accounts.models import StaffAccount
from siyu.accounts.services import account_for_userid, record_follow_change, sync_accounts
from siyu.core import events, queue
from siyu.core.models import Membership, Workspace
from siyu.core.permissions import Action, Module, Seat, require, role_of
from siyu.core.services import OPERATOR
from siyu.customers.events import FollowTagsListed
from siyu.customers.models import (
    Customer,
    CustomerSync,
    DeletedBy,
    FollowRelation,
    SyncStatus,
)
from siyu.customers.services.common import add_timeline, customers_changed
from siyu.customers.services.follows import _stamp, record_loss
from siyu.customers.timeline import TimelineKind
from siyu.wecom.client import WeComError
from siyu.wecom.services import NotConnected, client_for

logger = logging.getLogger("siyu.customers")

STAFF_PER_CALL = 100  # WECOM.md §3 batch/get_by_user userid_list
ROWS_PER_PAGE = 100  # WECOM.md §3 batch/get_by_user limit
# A running sync whose worker has not saved a page for this long is taken as dead and may be resumed.
STALE_AFTER = dt.timedelta(minutes=10)
HISTORY = 20



def _enqueue(sync: CustomerSync) -> None:
    queue.enqueue("siyu.customers.tasks.run_customer_sync", sync.workspace_id, sync.pk)


def running_sync(workspace: Workspace) -> CustomerSync | None:
    return CustomerSync.objects.for_workspace(workspace).filter(status=SyncStatus.RUNNING).first()


def is_stale(sync: CustomerSync, now: dt.datetime | None = None) -> bool:
    return sync.status == SyncStatus.RUNNING and (now or timezone.now()) - sync.updated_at > STALE_AFTER


def start_sync(workspace: Workspace, membership: Membership | None, *, enqueue: bool = True) -> CustomerSync:
    """Start a full sync (run by a worker: `customers.tasks.run_customer_sync`). Refused while
    another sync of the brand runs."""
    require(role_of(membership), Module.CUSTOMERS, Action.EDIT)
    with transaction.atomic():
        # The brand's row is the lock: two clicks cannot both find no running sync.
        Workspace.objects.select_for_update().filter(pk=workspace.pk).first()
        if running_sync(workspace) is not None:
            raise ValidationError(_("A sync is already running; wait for it or resume it."))
        sync = CustomerSync.objects.create(workspace=workspace, started_by=getattr(membership, "user", None))
        if enqueue:
            _enqueue(sync)
    return sync


def resume_sync(workspace: Workspace, membership: Seat | None, sync_id: int, *,
                enqueue: bool = True) -> CustomerSync:
    """Continue a failed sync (or one whose worker died) from the page it stopped at."""
    require(role_of(membership), Module.CUSTOMERS, Action.EDIT)
    with transaction.atomic():
        Workspace.objects.select_for_update().filter(pk=workspace.pk).first()
        sync = CustomerSync.objects.for_workspace(workspace).select_for_update().get(pk=sync_id)
        if sync.status == SyncStatus.DONE:
            raise ValidationError(_("This sync is finished; start a new one."))
        if sync.status == SyncStatus.RUNNING and not is_stale(sync):
            raise ValidationError(_("This sync is still running."))
        other = running_sync(workspace)
        if other is not None and other.pk != sync.pk:
            raise ValidationError(_("A sync is already running; wait for it or resume it."))
        CustomerSync.unscoped.filter(pk=sync.pk).update(status=SyncStatus.RUNNING, error="", finished_at=None,
                                                         updated_at=timezone.now())
        sync.refresh_from_db()
        if enqueue:
            _enqueue(sync)
    return sync


def sync_history(workspace: Workspace, membership: Membership | None) -> list[CustomerSync]:
    require(role_of(membership), Module.CUSTOMERS, Action.VIEW)
    return list(CustomerSync.objects.for_workspace(workspace).select_related("started_by")[:HISTORY])


def get_sync(workspace: Workspace, membership: Membership | None, sync_id: int) -> CustomerSync:
    require(role_of(membership), Module.CUSTOMERS, Action.VIEW)
    return CustomerSync.objects.for_workspace(workspace).get(pk=sync_id)


# --- running ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PageResult:
    customers_seen: int
    relations_seen: int
    new_follows: int
    changed_ids: list[int]


def _staff_userids(workspace: Workspace) -> list[str]:
    accounts = StaffAccount.objects.for_workspace(workspace)
    if not accounts.filter(synced_at__isnull=False).exists():
        # No account list from WeCom yet (at most the accounts add events created): the sync
        # needs every staff member, and reading the address book is harmless, so it does it
        # for whoever started the sync.
        sync_accounts(workspace, OPERATOR)
    return list(accounts.filter(active=True).order_by("userid").values_list("userid", flat=True))


def _at(createtime: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(createtime, tz=dt.UTC) if createtime else timezone.now().replace(microsecond=0)


def apply_page(workspace: Workspace, rows: list, sync_id: int | None = None) -> PageResult:
    """Upsert one `batch/get_by_user` page (call inside a transaction): customers (nickname,
    avatar, gender, unionid, corp), follow relations (remark, description, state, add time)
    and the tags marked through each relation. New follows are counted once; every listed
    relation is marked as seen by `sync_id`. The tags WeCom lists go to the tags app as one
    `FollowTagsListed` event per page."""
    now = timezone.now()
    if not rows:
        return PageResult(0, 0, 0, [])
    contacts = {row.external_contact.external_userid: row.external_contact for row in rows}
    earliest: dict[str, dt.datetime] = {}
    for row in rows:
        at = _at(row.follow_info.createtime)
        key = row.external_contact.external_userid
        earliest[key] = min(earliest.get(key, at), at)
    customers = Customer.objects.for_workspace(workspace)
    Customer.unscoped.bulk_create(
        [Customer(workspace=workspace, external_userid=e, first_added_at=earliest[e]) for e in contacts],
        ignore_conflicts=True)
    by_external = {c.external_userid: c for c in customers.filter(external_userid__in=list(contacts))}
    changed: set[int] = set()
    for external_userid, contact in contacts.items():
        customer = by_external[external_userid]
        values = {
            "name": contact.name[:64], "avatar_url": contact.avatar[:500], "unionid": contact.unionid[:64],
            "gender": contact.gender if contact.gender in Customer.Gender.values else Customer.Gender.UNKNOWN,
            "corp_name": contact.corp_name[:64],
        }
        if customer.first_added_at is None or earliest[external_userid] < customer.first_added_at:
            values["first_added_at"] = earliest[external_userid]
        if any(getattr(customer, k) != v for k, v in values.items()):
            changed.add(customer.pk)
        Customer.unscoped.filter(pk=customer.pk).update(profile_synced_at=now, **values)
        for name, value in values.items():
            setattr(customer, name, value)

    accounts: dict[str, StaffAccount] = {}
    new_follows = 0
    seen: list[int] = []
    marks: list[tuple[int, int, list[str]]] = []
    for row in rows:
        info = row.follow_info
        account = accounts.get(info.userid) or account_for_userid(workspace, info.userid)
        accounts[info.userid] = account
        customer = by_external[row.external_contact.external_userid]
        at = _at(info.createtime)
        facts = {"remark": info.remark[:20], "description": info.description[:150]}
        relation, created = FollowRelation.objects.for_workspace(workspace).get_or_create(
            workspace=workspace, account=account, customer=customer,
            defaults={"added_at": at, "state": info.state[:64], "add_way": info.add_way, **facts})
        counted = created
        if not created and relation.deleted_at is not None and at > relation.deleted_at:
            # A re-add whose event we missed: reactivate once (conditional on the deletion seen).
            counted = bool(FollowRelation.unscoped.filter(pk=relation.pk, deleted_at=relation.deleted_at).update(
                deleted_at=None, deleted_by="", added_at=at, state=info.state[:64], add_way=info.add_way,
                times_added=F("times_added") + 1, **facts))
            relation.refresh_from_db()
        elif not created and any(getattr(relation, k) != v for k, v in facts.items()):
            FollowRelation.unscoped.filter(pk=relation.pk).update(**facts)
        if counted:
            new_follows += 1
            changed.add(customer.pk)
            record_follow_change(account, relation.added_at, added=True)
            add_timeline(workspace, customer, TimelineKind.ADDED, relation.added_at, account_id=account.pk,
                         detail=relation.state, dedupe_key=f"added:{relation.pk}:{_stamp(relation.added_at)}")
        marks.append((customer.pk, account.pk, [str(t) for t in info.tag_id]))
        seen.append(relation.pk)
    if sync_id is not None:
        FollowRelation.unscoped.filter(pk__in=seen).update(last_sync_id=sync_id)
    if marks:
        events.publish(workspace, FollowTagsListed(marks=marks))
    return PageResult(len(contacts), len(rows), new_follows, sorted(changed))


def end_unlisted_follows(workspace: Workspace, sync: CustomerSync) -> int:
    """After a complete sync: a friendship we hold as active that WeCom no longer listed ended
    while its callback was missed. Only for staff the sync read in full (licensed), and only
    for relations older than the sync, since newer ones may have been added behind the cursor.
    Idempotent: an ended relation is not active any more."""
    unlicensed = set(sync.unlicensed_userids)
    userids = [u for u in sync.staff_userids if u not in unlicensed]
    stale = (FollowRelation.objects.for_workspace(workspace)
             .filter(account__userid__in=userids, deleted_at__isnull=True, added_at__lt=sync.started_at)
             .exclude(last_sync_id=sync.pk)
             .values_list("account__userid", "customer__external_userid"))
    now = timezone.now().replace(microsecond=0)
    ended = 0
    for userid, external_userid in stale.iterator(chunk_size=500):
        relation = record_loss(workspace, staff_userid=userid, external_userid=external_userid, at=now,
                               by=DeletedBy.UNLISTED)
        ended += relation.deleted_by == DeletedBy.UNLISTED and relation.deleted_at == now
    return ended


def run_sync(workspace: Workspace, sync_id: int, *, max_pages: int | None = None) -> CustomerSync:
    """Work a running sync until it is done, fails, or `max_pages` pages were applied. Each page
    and the progress are saved together; if another worker saved a page first (a doubled
    resume), this one stops."""
    sync = CustomerSync.objects.for_workspace(workspace).get(pk=sync_id)
    if sync.status != SyncStatus.RUNNING:
        return sync
    try:
        if not sync.staff_userids and sync.pages == 0 and sync.staff_index == 0:
            userids = _staff_userids(workspace)
            if not CustomerSync.unscoped.filter(pk=sync.pk, pages=0, staff_index=0).update(staff_userids=userids):
                return sync
            sync.staff_userids = userids
        done_pages = 0
        with client_for(workspace) as client:
            while sync.staff_index < len(sync.staff_userids):
                if max_pages is not None and done_pages >= max_pages:
                    return sync
                chunk = sync.staff_userids[sync.staff_index:sync.staff_index + STAFF_PER_CALL]
                page = client.customers_of_staff(chunk, cursor=sync.cursor, limit=ROWS_PER_PAGE)
                next_cursor = page.next_cursor if page.next_cursor != sync.cursor else ""
                progress = {"pages": sync.pages + 1, "cursor": next_cursor,
                            "staff_index": sync.staff_index if next_cursor else sync.staff_index + len(chunk)}
                unlicensed = page.fail_info.unlicensed_userid_list
                if unlicensed:
                    progress["unlicensed_userids"] = sorted(set(sync.unlicensed_userids) | set(unlicensed))
                with transaction.atomic():
                    result = apply_page(workspace, page.external_contact_list, sync.pk)
                    saved = CustomerSync.unscoped.filter(
                        pk=sync.pk, status=SyncStatus.RUNNING, pages=sync.pages, staff_index=sync.staff_index,
                        cursor=sync.cursor,
                    ).update(customers_seen=F("customers_seen") + result.customers_seen,
                             relations_seen=F("relations_seen") + result.relations_seen,
                             updated_at=timezone.now(), **progress)
                    if not saved:
                        transaction.set_rollback(True)
                        logger.info("sync %s advanced by another worker; this one stops", sync.pk)
                        return sync
                    customers_changed(workspace, result.changed_ids, "sync")
                sync.refresh_from_db()
                done_pages += 1
    except (WeComError, NotConnected) as exc:
        message = str(exc)[:300]
        logger.warning("customer sync %s stopped: %s", sync.pk, message)
        CustomerSync.unscoped.filter(pk=sync.pk, status=SyncStatus.RUNNING).update(
            status=SyncStatus.FAILED, error=message, finished_at=timezone.now())
        sync.refresh_from_db()
        return sync
    ended = end_unlisted_follows(workspace, sync)
    CustomerSync.unscoped.filter(pk=sync.pk, status=SyncStatus.RUNNING).update(
        status=SyncStatus.DONE, finished_at=timezone.now(), cursor="", follows_ended=F("follows_ended") + ended)
    sync.refresh_from_db()
    return sync


def progress_of(sync: CustomerSync) -> float:
    """How far the sync is through the staff accounts, 0..1 (pages within a chunk are unknown)."""
    if sync.status == SyncStatus.DONE:
        return 1.0
    total = len(sync.staff_userids)
    return min(sync.staff_index / total, 1.0) if total else 0.0
