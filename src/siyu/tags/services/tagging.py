"""打标签 — tags on customers: marked by hand or in bulk from the console, by rules, and kept from
what staff mark in the WeCom client.

WECOM.md §3: WeCom keeps tags per (staff account, customer), `mark_tag` takes one pair per call;
§0: a change made through the API fires no callback. So a tag we put on a customer is marked at
WeCom through each of the customer's active follow relations first, and recorded here only for
the customers where WeCom accepted it (nothing half-done); a customer with no active follow
relation is tagged here only, and the outcome says so. WeCom is called outside any database
transaction; each chunk of customers is then recorded in one transaction with bulk inserts.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from siyu.core import events
from siyu.core.models import AuditAction, Membership, Workspace
from siyu.core.notifications import notify
from siyu.core.permissions import Action, Module, Seat, require, role_of
from siyu.core.queue import enqueue
from siyu.core.services import audit_change, fact
from siyu.customers import services as customers
from siyu.customers.models import Customer, FollowRelation, TimelineEntry
from siyu.tags.events import TagsRemoved
from siyu.tags.models import CustomerTag, Tag, TagSource
from siyu.tags.services import catalogue, completeness
from siyu.tags.timeline import TagTimeline
from siyu.wecom.client import WeComError
from siyu.wecom.services import NotConnected, client_for

logger = logging.getLogger("siyu.tags")

CHUNK = 500  # customers per recording transaction
MAX_TAGS_PER_CALL = 100  # tags in one bulk request


@dataclass
class TaggingOutcome:
    """What a tag or untag request did: links added or removed, and for how many customers
    only locally (no active follow relation, or the brand not connected to WeCom) or not at all
    (WeCom refused; `errors` says why)."""

    changed: int = 0
    customers: int = 0
    local_only: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = _("%(links)s tag links changed on %(customers)s customers.") % {
            "links": self.changed, "customers": self.customers}
        if self.local_only:
            text += " " + _("%(n)s customers were changed here only, not in WeCom: they have no active staff "
                            "account, or the brand is not connected.") % {"n": len(self.local_only)}
        if self.failed:
            text += " " + _("WeCom refused %(n)s customers: %(why)s") % {
                "n": len(self.failed), "why": "; ".join(self.errors[:3])}
        return text


def _tags(workspace: Workspace, tag_ids: Iterable[int]) -> list[Tag]:
    ids = sorted({int(t) for t in tag_ids})
    if not ids:
        raise ValidationError({"tag_ids": [_("Choose at least one tag.")]})
    if len(ids) > MAX_TAGS_PER_CALL:
        raise ValidationError({"tag_ids": [_("At most %(n)s tags at a time.") % {"n": MAX_TAGS_PER_CALL}]})
    found = list(Tag.objects.for_workspace(workspace).filter(pk__in=ids, deleted_at__isnull=True)
                 .select_related("group"))
    if len(found) != len(ids):
        raise ValidationError({"tag_ids": [_("Some of these tags do not exist (or were deleted).")]})
    return found


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


def _follows_by_customer(workspace: Workspace, ids: list[int]) -> dict[int, list[FollowRelation]]:
    found: dict[int, list[FollowRelation]] = defaultdict(list)
    for relation in (FollowRelation.objects.for_workspace(workspace)
                     .filter(customer_id__in=ids, deleted_at__isnull=True)
                     .select_related("account", "customer").order_by("added_at", "id")):
        found[relation.customer_id].append(relation)
    return found


def _mark_at_wecom(
    workspace: Workspace,
    work: dict[int, list[str]],
    follows: dict[int, list[FollowRelation]],
    outcome: TaggingOutcome,
    *,
    add: bool,
) -> dict[int, int | None]:
    """Mark (or unmark) each customer's WeCom tag ids through every active follow relation.
    Returns, per customer that may be recorded, the account it was marked through (None:
    local only). Customers every WeCom call refused are left out and counted as failed."""
    recordable: dict[int, int | None] = {}
    needs_wecom = {cid: wecom_ids for cid, wecom_ids in work.items() if wecom_ids and follows.get(cid)}
    for cid in work:
        if cid not in needs_wecom:
            recordable[cid] = None
            if not follows.get(cid):
                outcome.local_only.append(cid)
    if not needs_wecom:
        return recordable
    try:
        client = client_for(workspace)
    except NotConnected:
        for cid in needs_wecom:
            recordable[cid] = None
            outcome.local_only.append(cid)
        return recordable
    with client:
        for cid, wecom_ids in needs_wecom.items():
            through: int | None = None
            for relation in follows[cid]:
                try:
                    if add:
                        client.mark_tags(relation.account.userid, relation.customer.external_userid, add=wecom_ids)
                    else:
                        client.mark_tags(relation.account.userid, relation.customer.external_userid, remove=wecom_ids)
                except WeComError as exc:
                    logger.warning("mark_tag for customer %s through %s: %s", cid, relation.account.userid, exc)
                    message = f"{exc.errcode} {exc.errmsg}"
                    if message not in outcome.errors:
                        outcome.errors.append(message)
                    continue
                through = through or relation.account_id
            if through is None:
                outcome.failed.append(cid)
            else:
                recordable[cid] = through
    return recordable


def _timeline(workspace: Workspace, kind: str, at: dt.datetime, entries: dict[int, tuple[int | None, str]]) -> None:
    # `customers.services.add_timeline` inserts one row a call; bulk tagging writes thousands,
    # so the same rows are inserted here in one statement.
    TimelineEntry.unscoped.bulk_create([
        TimelineEntry(workspace=workspace, customer_id=cid, kind=kind, at=at, account_id=account_id,
                      detail=detail[:customers.DETAIL_MAX_CHARS])
        for cid, (account_id, detail) in entries.items()
    ])


def tag_customers_outcome(
    workspace: Workspace,
    membership: Seat | None,
    customer_ids: list[int],
    tag_ids: list[int],
    source: TagSource = TagSource.MANUAL,
) -> TaggingOutcome:
    """`tag_customers`, returning the whole outcome (for pages and the API to explain)."""
    require(role_of(membership), Module.CUSTOMERS, Action.EDIT)
    tags = _tags(workspace, tag_ids)
    by_id = {t.pk: t for t in tags}
    outcome = TaggingOutcome()
    ids = sorted({int(c) for c in customer_ids})
    for chunk in _chunks(ids):
        chunk = list(Customer.objects.for_workspace(workspace).filter(pk__in=chunk).values_list("pk", flat=True))
        have: dict[int, set[int]] = defaultdict(set)
        for cid, tid in CustomerTag.objects.for_workspace(workspace).filter(
                customer_id__in=chunk, tag_id__in=by_id).values_list("customer_id", "tag_id"):
            have[cid].add(tid)
        missing = {cid: [t for t in by_id if t not in have[cid]] for cid in chunk}
        missing = {cid: t for cid, t in missing.items() if t}
        if not missing:
            continue
        follows = _follows_by_customer(workspace, list(missing))
        work = {cid: [by_id[t].wecom_tag_id for t in tids if by_id[t].wecom_tag_id] for cid, tids in missing.items()}
        recordable = _mark_at_wecom(workspace, work, follows, outcome, add=True)
        if not recordable:
            continue
        now = timezone.now()
        with transaction.atomic():
            created = CustomerTag.unscoped.bulk_create(
                [CustomerTag(workspace=workspace, customer_id=cid, tag_id=tid, account_id=through, source=source)
                 for cid, through in recordable.items() for tid in missing[cid]],
                ignore_conflicts=True,
            )
            outcome.changed += len(created)
            outcome.customers += len(recordable)
            local = set(outcome.local_only)
            _timeline(workspace, TagTimeline.TAGGED, now, {
                cid: (through, "、".join(by_id[t].name for t in missing[cid])
                      + (" · " + _("here only, not in WeCom") if cid in local else ""))
                for cid, through in recordable.items()})
            completeness.recompute_for(workspace, recordable)
            customers.customers_changed(workspace, list(recordable), "tags")
    if outcome.customers and source in (TagSource.MANUAL, TagSource.BULK):  # people's changes, not rules'
        _audit_tagging(workspace, membership, tags, gettext_lazy("customers tagged"), outcome.customers)
    return outcome


def _audit_tagging(workspace: Workspace, membership: Seat | None, tags: Iterable[Tag], what: Any, count: int) -> None:
    audit_change(workspace, membership, AuditAction.UPDATED, module="tags", subject=gettext_lazy("customer tags"),
                 name="、".join(t.name for t in tags), facts=[fact(what, count)])


def tag_customers(
    workspace: Workspace,
    membership: Seat | None,
    customer_ids: list[int],
    tag_ids: list[int],
    source: TagSource = TagSource.MANUAL,
) -> int:
    """Put these tags on these customers (by hand, in bulk, by a rule): marked at WeCom through
    each customer's active follow relations, then recorded with a TAGGED timeline entry; tags a
    customer already has are skipped (idempotent). Returns the number of links added."""
    return tag_customers_outcome(workspace, membership, customer_ids, tag_ids, source).changed


def untag_customers_outcome(
    workspace: Workspace,
    membership: Seat | None,
    customer_ids: list[int],
    tag_ids: list[int],
) -> TaggingOutcome:
    """`untag_customers`, returning the whole outcome."""
    require(role_of(membership), Module.CUSTOMERS, Action.EDIT)
    tags = _tags(workspace, tag_ids)
    by_id = {t.pk: t for t in tags}
    outcome = TaggingOutcome()
    ids = sorted({int(c) for c in customer_ids})
    for chunk in _chunks(ids):
        present: dict[int, list[int]] = defaultdict(list)
        for cid, tid in CustomerTag.objects.for_workspace(workspace).filter(
                customer_id__in=chunk, tag_id__in=by_id).values_list("customer_id", "tag_id"):
            present[cid].append(tid)
        if not present:
            continue
        follows = _follows_by_customer(workspace, list(present))
        work = {cid: [by_id[t].wecom_tag_id for t in tids if by_id[t].wecom_tag_id] for cid, tids in present.items()}
        recordable = _mark_at_wecom(workspace, work, follows, outcome, add=False)
        if not recordable:
            continue
        now = timezone.now()
        with transaction.atomic():
            removed, _by_model = CustomerTag.objects.for_workspace(workspace).filter(
                customer_id__in=list(recordable), tag_id__in=by_id).delete()
            outcome.changed += removed
            outcome.customers += len(recordable)
            _timeline(workspace, TagTimeline.UNTAGGED, now, {
                cid: (through, "、".join(by_id[t].name for t in present[cid])) for cid, through in recordable.items()})
            completeness.recompute_for(workspace, recordable)
            customers.customers_changed(workspace, list(recordable), "tags")
            for tag_id in by_id:
                _announce_removed(workspace, tag_id, [cid for cid in recordable if tag_id in present[cid]], now)
    if outcome.customers:
        _audit_tagging(workspace, membership, tags, gettext_lazy("customers untagged"), outcome.customers)
    return outcome


def untag_customers(workspace: Workspace, membership: Membership | None, customer_ids: list[int],
                    tag_ids: list[int]) -> int:
    """Take these tags off these customers: unmarked at WeCom through each active follow
    relation, then removed here with an UNTAGGED timeline entry. Returns the links removed."""
    return untag_customers_outcome(workspace, membership, customer_ids, tag_ids).changed


@dataclass(frozen=True)
class CustomerTagView:
    tag_id: int
    name: str
    group_id: int
    group_name: str
    required_group: bool
    source: str
    account_id: int | None
    created_at: dt.datetime


def customer_tags(workspace: Workspace, customer_id: int) -> list[CustomerTagView]:
    """The customer's live tags, grouped by tag group order, for the profile page."""
    links = (CustomerTag.objects.for_workspace(workspace)
             .filter(customer_id=customer_id, tag__deleted_at__isnull=True, tag__group__deleted_at__isnull=True)
             .select_related("tag", "tag__group").order_by("-tag__group__order", "tag__group_id", "-tag__order", "tag_id"))
    return [CustomerTagView(link.tag_id, link.tag.name, link.tag.group_id, link.tag.group.name,
                            link.tag.group.required, link.source, link.account_id, link.created_at) for link in links]


def keep_wecom_tags(workspace: Workspace, customer_id: int, account_id: int, wecom_tag_ids: Iterable[str]) -> bool:
    """Make the customer's tags marked through this staff account what WeCom says they are
    (`follow_user[].tags` / `follow_info.tag_id` of `externalcontact/get` or `batch/get_by_user`).

    Tags WeCom lists that the customer lacks are added (source WECOM); tags marked through this
    account that WeCom no longer lists are removed. Tag ids we do not know yet (before a tag sync)
    are skipped. True when something changed; the timeline, completeness, segments and
    lifecycle are then told."""
    return _keep(workspace, customer_id, account_id, wecom_tag_ids, TagSource.WECOM, drop_stale=True)


def record_marked_tags(workspace: Workspace, customer_id: int, account_id: int, wecom_tag_ids: Iterable[str],
                       source: TagSource = TagSource.CHANNEL) -> bool:
    """Record tags the platform itself just marked at WeCom outside `tag_customers` (a channel
    code's auto-tags): an API change fires no callback, so this is the only record of it. Tags
    WeCom knows that we do not yet are learnt first. The caller writes its own timeline entry."""
    ids = [str(t) for t in wecom_tag_ids if str(t)]
    catalogue.learn_tags(workspace, ids)
    return _keep(workspace, customer_id, account_id, ids, source, drop_stale=False, timeline=False)


def _keep(workspace: Workspace, customer_id: int, account_id: int, wecom_tag_ids: Iterable[str], source: TagSource,
          *, drop_stale: bool, timeline: bool = True) -> bool:
    wanted_tags = {t.pk: t.name for t in Tag.objects.for_workspace(workspace).filter(
        wecom_tag_id__in=[str(t) for t in wecom_tag_ids], deleted_at__isnull=True)}
    wanted = set(wanted_tags)
    with transaction.atomic():
        links = CustomerTag.objects.for_workspace(workspace).filter(customer_id=customer_id)
        have = dict(links.values_list("tag_id", "account_id"))
        stale = [tag_id for tag_id, via in have.items() if drop_stale and via == account_id and tag_id not in wanted]
        missing = [tag_id for tag_id in wanted if tag_id not in have]
        if stale:
            links.filter(tag_id__in=stale).delete()
        CustomerTag.unscoped.bulk_create(
            [CustomerTag(workspace=workspace, customer_id=customer_id, tag_id=tag_id, account_id=account_id,
                         source=source) for tag_id in missing],
            ignore_conflicts=True,
        )
        changed = bool(stale or missing)
        if changed:
            now = timezone.now()
            if missing and timeline:
                _timeline(workspace, TagTimeline.TAGGED, now, {customer_id: (
                    account_id, _("In WeCom: %(names)s") % {"names": "、".join(wanted_tags[t] for t in missing)})})
            if stale:
                names = dict(Tag.objects.for_workspace(workspace).filter(pk__in=stale).values_list("pk", "name"))
                _timeline(workspace, TagTimeline.UNTAGGED, now, {customer_id: (
                    account_id, _("In WeCom: %(names)s") % {"names": "、".join(names.get(t, "") for t in stale)})})
            completeness.recompute_for(workspace, [customer_id])
            customers.customers_changed(workspace, [customer_id], "tags")
            for tag_id in stale:
                _announce_removed(workspace, tag_id, [customer_id], now)
    return changed


def _announce_removed(workspace: Workspace, tag_id: int, customer_ids: list[int], at: dt.datetime) -> None:
    """`TagsRemoved`, for the SOPs a tag's removal starts (in the caller's transaction)."""
    if customer_ids:
        events.publish(workspace, TagsRemoved(tag_id=tag_id, customer_ids=sorted(customer_ids), at=at))


# --- large requests run in the background ---------------------------------------------------------

BACKGROUND_OVER = 200  # customers: above this, a console or API request is queued (a mark_tag call each)


def queue_tagging(
    workspace: Workspace,
    membership: Membership | None,
    customer_ids: list[int],
    tag_ids: list[int],
    *,
    untag: bool = False,
    source: TagSource = TagSource.BULK,
) -> int:
    """Check the request now (role, tags) and run it in the background after this transaction
    commits; the member is notified of the outcome. Returns the number of customers queued."""
    require(role_of(membership), Module.CUSTOMERS, Action.EDIT)
    tags = _tags(workspace, tag_ids)
    ids = sorted({int(c) for c in customer_ids})
    seat_id = getattr(membership, "pk", None)
    enqueue("siyu.tags.tasks.bulk_tagging", workspace.pk, seat_id, ids, [t.pk for t in tags], untag, str(source))
    return len(ids)


def run_queued_tagging(workspace: Workspace, membership: Seat | None, customer_ids: list[int],
                       tag_ids: list[int], untag: bool, source: str) -> TaggingOutcome:
    """The background half of `queue_tagging`: tag or untag, then tell the member how it went."""
    if untag:
        outcome = untag_customers_outcome(workspace, membership, customer_ids, tag_ids)
    else:
        outcome = tag_customers_outcome(workspace, membership, customer_ids, tag_ids, TagSource(source))
    if isinstance(membership, Membership) and membership.pk:  # a member, not the operator
        from django.urls import reverse

        notify(workspace, membership, "tags.bulk",
               gettext_noop("Bulk untagging finished") if untag else gettext_noop("Bulk tagging finished"),
               outcome.summary(), reverse("tags:home"))
    return outcome
