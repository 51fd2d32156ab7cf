"""人群成员 — keeping each dynamic segment's stored members equal to what its rule selects.

Two paths, both under a lock on the segment row (so an event's update and a recompute never
interleave and `member_count` stays exact):
- `refresh_customers`: after an event changed some customers, one query per dynamic segment
  re-evaluates just those ids and inserts or deletes their member rows. Idempotent.
- `recompute`: the whole segment in set-based SQL (delete the members the rule no longer
  selects, insert the missing ones), for a new or edited rule, the console's "recompute"
  action and the nightly job, which also moves time-relative conditions ("added within the
  last 7 days") on.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import BooleanField, Case, Exists, F, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone

from siyu.core import events
from siyu.core.models import Membership, Workspace
from siyu.core.permissions import Action, Module, require, role_of
from siyu.customers.models import Customer
from siyu.customers.segmentation import Context, fields_for
from siyu.segments.events import SegmentEntered, SegmentLeft
from siyu.segments.models import Segment, SegmentKind, SegmentMember
from siyu.segments.services.rules import rule_q

logger = logging.getLogger("siyu.segments")
BATCH_SIZE = 1000
EVENT_IDS = 10_000  # customer ids per entered/left event


# --- reading the stored members ----------------------------------------------------------------

def segment_members(workspace: Workspace, segment: Segment) -> QuerySet[SegmentMember]:
    """The segment's member rows. Filtered by the segment alone (it is the brand's, checked
    here), so PostgreSQL walks the (segment, customer) index instead of the brand-wide one."""
    if segment.workspace_id != workspace.pk:
        return SegmentMember.unscoped.none()
    return SegmentMember.unscoped.filter(segment_id=segment.pk)


def iter_member_ids(workspace: Workspace, segment: Segment, batch_size: int = BATCH_SIZE) -> Iterator[list[int]]:
    """The segment's member customer ids in ascending batches (keyset pagination on the
    (segment, customer) index): constant cost per batch however large the segment. Members
    added or removed while iterating are seen or not depending on where the cursor is."""
    after = 0
    while True:
        batch = member_ids_after(workspace, segment, after, batch_size)
        if not batch:
            return
        yield batch
        if len(batch) < batch_size:
            return
        after = batch[-1]


def member_ids_after(workspace: Workspace, segment: Segment, after: int, limit: int) -> list[int]:
    return list(segment_members(workspace, segment).filter(customer_id__gt=after)
                .order_by("customer_id").values_list("customer_id", flat=True)[:limit])


# --- keeping them in step ----------------------------------------------------------------------


def _announce(workspace: Workspace, changes: dict[int, tuple[list[int], list[int]]], at: dt.datetime) -> None:
    """Publish who entered and who left each segment ({segment id: (entered, left)}): one bulk
    write for the whole refresh, in the caller's transaction, with the member rows."""
    publications = [
        events.Publication(kind(segment_id=pk, customer_ids=ids[i:i + EVENT_IDS], at=at), occurred_at=at)
        for pk, (entered, left) in sorted(changes.items())
        for kind, ids in ((SegmentEntered, entered), (SegmentLeft, left))
        for i in range(0, len(ids), EVENT_IDS)]
    if publications:
        events.publish_many(workspace, publications)


@dataclass(frozen=True)
class Refreshed:
    segments: int = 0
    added: int = 0
    removed: int = 0


def _locked(workspace: Workspace, segment_id: int) -> Segment | None:
    return Segment.objects.for_workspace(workspace).select_for_update().filter(pk=segment_id).first()


def _diff(workspace: Workspace, ids: list[int], ctx: Context, segments: list[Segment]) -> dict[int, tuple[set[int], set[int]]]:
    """{segment id: (customer ids to add, to remove)} for these customers: every rule evaluated
    in one SELECT (one boolean column per segment), the current member rows in another."""
    fields = fields_for(workspace) if segments else {}
    rules: dict[int, Q] = {}
    for segment in segments:
        try:
            rules[segment.pk] = rule_q(ctx, segment.rule, fields)
        except (KeyError, ValidationError):
            logger.warning("segment %s has a rule that no longer applies; skipped", segment.pk)
    if not rules:
        return {}
    columns = {f"in_{pk}": Case(When(q, then=Value(True)), default=Value(False), output_field=BooleanField())
               for pk, q in rules.items()}
    matched: dict[int, set[int]] = {pk: set() for pk in rules}
    for row in (Customer.objects.for_workspace(workspace).filter(pk__in=ids).order_by()
                .annotate(**columns).values("pk", *columns)):
        for pk in rules:
            if row[f"in_{pk}"]:
                matched[pk].add(row["pk"])
    existing: dict[int, set[int]] = {pk: set() for pk in rules}
    # By segment ids, all the brand's (see `segment_members`): the (segment, customer) index.
    for segment_id, customer_id in SegmentMember.unscoped.filter(
            segment_id__in=list(rules), customer_id__in=ids).values_list("segment_id", "customer_id"):
        existing[segment_id].add(customer_id)
    return {pk: (matched[pk] - existing[pk], existing[pk] - matched[pk]) for pk in rules}


def _dynamic(workspace: Workspace) -> QuerySet[Segment]:
    # Not yet computed: its first recompute will see these changes.
    return Segment.objects.for_workspace(workspace).filter(kind=SegmentKind.DYNAMIC, computed_at__isnull=False)


def refresh_customers(workspace: Workspace, customer_ids: Iterable[int], now: dt.datetime | None = None) -> Refreshed:
    """Re-evaluate these customers against every dynamic segment of the brand.

    A handful of queries whatever the number of segments. Most events change no segment: that
    first, lock-free look writes nothing (no commit to wait for). Segments that do change are
    then locked (in id order: two workers never deadlock), the difference read again under the
    lock, and member rows and counts changed together."""
    ids = sorted(set(customer_ids))
    if not ids:
        return Refreshed()
    ctx = Context(workspace, now or timezone.now())
    first = _diff(workspace, ids, ctx, list(_dynamic(workspace).order_by("pk")))
    changed = [pk for pk, (add, drop) in first.items() if add or drop]
    added = removed = 0
    if changed:
        with transaction.atomic():
            locked = list(_dynamic(workspace).select_for_update().filter(pk__in=changed).order_by("pk"))
            new_rows = []
            changes: dict[int, tuple[list[int], list[int]]] = {}
            for pk, (add, drop) in _diff(workspace, ids, ctx, locked).items():
                gone = SegmentMember.unscoped.filter(segment_id=pk, customer_id__in=drop).delete()[0] if drop else 0
                changes[pk] = (sorted(add), sorted(drop))
                new_rows += [SegmentMember(workspace=workspace, segment_id=pk, customer_id=customer_id,
                                           added_at=ctx.now) for customer_id in sorted(add)]
                if add or gone:
                    Segment.unscoped.filter(pk=pk).update(member_count=F("member_count") + len(add) - gone)
                added, removed = added + len(add), removed + gone
            SegmentMember.unscoped.bulk_create(new_rows)
            _announce(workspace, changes, ctx.now)
    return Refreshed(len(first), added, removed)


def recompute(workspace: Workspace, segment: Segment, now: dt.datetime | None = None) -> int:
    """Make the stored members exactly the rule's customers; returns the member count."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked(workspace, segment.pk)
        if locked is None:
            return 0
        members = SegmentMember.unscoped.filter(segment_id=locked.pk)  # the brand's segment, locked above
        if locked.kind == SegmentKind.DYNAMIC:
            matching = Customer.objects.for_workspace(workspace).filter(rule_q(Context(workspace, now), locked.rule))
            leaving = members.filter(~Exists(matching.filter(pk=OuterRef("customer_id"))))
            left = sorted(leaving.values_list("customer_id", flat=True))
            if left:
                leaving.delete()
            entered = _insert_members(workspace, locked, matching.order_by().values("pk"), now)
            _announce(workspace, {locked.pk: (sorted(entered), left)}, now)
        total = members.count()
        Segment.unscoped.filter(pk=locked.pk).update(member_count=total, computed_at=now)
    segment.member_count, segment.computed_at = total, now
    return total


def _insert_members(workspace: Workspace, segment: Segment, customer_ids: QuerySet[Any, Any],
                    now: dt.datetime) -> list[int]:
    """INSERT ... SELECT: the database copies the ids, and returns those it inserted (for the
    segment-entered events). Members
    already there are skipped by the (segment, customer) unique index (ON CONFLICT), not by an
    anti-join, whose plan PostgreSQL may get badly wrong right after a segment fills up."""
    sql, params = customer_ids.query.get_compiler(connection=connection).as_sql()
    table = SegmentMember._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "{table}" ("workspace_id", "segment_id", "customer_id", "added_at") '  # noqa: S608
            # "WHERE true" tells SQLite's parser the ON CONFLICT belongs to the INSERT.
            f'SELECT %s, %s, m.*, %s FROM ({sql}) m WHERE true ON CONFLICT DO NOTHING RETURNING "customer_id"',
            [workspace.pk, segment.pk, connection.ops.adapt_datetimefield_value(now), *params],
        )
        return [row[0] for row in cursor.fetchall()]


def recompute_segment(workspace: Workspace, membership: Membership | None, segment_id: int) -> Segment:
    """The console's and the API's "recompute" action."""
    require(role_of(membership), Module.CUSTOMERS, Action.EDIT)
    segment = Segment.objects.for_workspace(workspace).get(pk=segment_id)
    recompute(workspace, segment)
    segment.refresh_from_db()
    return segment


def recompute_all(workspace: Workspace, now: dt.datetime | None = None) -> int:
    """Every dynamic segment of the brand (nightly); one failing rule does not stop the rest."""
    done = 0
    for segment in Segment.objects.for_workspace(workspace).filter(kind=SegmentKind.DYNAMIC).order_by("pk"):
        try:
            recompute(workspace, segment, now)
        except (KeyError, ValidationError):
            logger.warning("segment %s has a rule that no longer applies; not recomputed", segment.pk)
            continue
        done += 1
    return done
