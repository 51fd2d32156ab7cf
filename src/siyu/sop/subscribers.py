"""Triggers of customer SOPs: an add (through given channel codes), a tag added or removed, a
segment entered or left, a lifecycle stage reached. Each enrols the event's customers into every
active SOP it triggers; enrolling is idempotent (one enrolment per SOP, customer and period), so
a re-run adds nothing. An event SOP's audience joining later (its segment entered, its tag added)
is enrolled too, until the event is over. Birthdays and schedules come from the schedule job
(`tasks.enrol_scheduled_due`)."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from siyu.core import events
from siyu.core.models import EventRecord, Workspace
from siyu.customers.events import CustomersChanged, FollowStarted
from siyu.customers.models import Customer
from siyu.segments.events import SegmentEntered, SegmentLeft
from siyu.sop.models import Sop, SopKind, SopStatus, TriggerKind
from siyu.sop.services import enrol, enrol_event
from siyu.tags.events import TagsRemoved
from siyu.tags.models import CustomerTag

# A stage change is announced in the transaction that makes it; older ones (a customer already
# in the stage whose score moved) do not start the SOP again.
STAGE_FRESH = dt.timedelta(hours=1)


def _active(workspace: Workspace, trigger: TriggerKind) -> QuerySet[Sop]:
    return Sop.objects.for_workspace(workspace).filter(status=SopStatus.ACTIVE, kind=SopKind.CUSTOMER,
                                                       trigger=trigger).order_by("pk")


def _events(workspace: Workspace) -> QuerySet[Sop]:
    return Sop.objects.for_workspace(workspace).filter(status=SopStatus.ACTIVE, kind=SopKind.EVENT).order_by("pk")


@events.subscribe(FollowStarted)
def enrol_on_add(workspace: Workspace, event: FollowStarted, record: EventRecord) -> None:
    for sop in _active(workspace, TriggerKind.ADDED):
        if not sop.channel_states or event.state in sop.channel_states:
            enrol(workspace, sop, [event.customer_id], event.at)


@events.subscribe(CustomersChanged)
def enrol_on_tag(workspace: Workspace, event: CustomersChanged, record: EventRecord) -> None:
    if event.reason != "tags":
        return
    for sop in _active(workspace, TriggerKind.TAG_ADDED).filter(tag_id__isnull=False):
        tagged = CustomerTag.objects.for_workspace(workspace).filter(
            tag_id=sop.tag_id or 0, customer_id__in=event.customer_ids).values_list("customer_id", flat=True)
        enrol(workspace, sop, list(tagged), record.occurred_at)
    for sop in _events(workspace).filter(tag_id__isnull=False):
        enrol_event(workspace, sop, event.customer_ids)


@events.subscribe(TagsRemoved)
def enrol_on_tag_removed(workspace: Workspace, event: TagsRemoved, record: EventRecord) -> None:
    for sop in _active(workspace, TriggerKind.TAG_REMOVED).filter(tag_id=event.tag_id):
        # Put back meanwhile (the event is handled after the fact): no longer a removal.
        back = set(CustomerTag.objects.for_workspace(workspace).filter(
            tag_id=event.tag_id, customer_id__in=event.customer_ids).values_list("customer_id", flat=True))
        enrol(workspace, sop, [c for c in event.customer_ids if c not in back], event.at)


@events.subscribe(CustomersChanged)
def enrol_on_stage(workspace: Workspace, event: CustomersChanged, record: EventRecord) -> None:
    """A stage reached starts the SOP each time it is reached: the period is the change's instant."""
    if event.reason != "lifecycle":
        return
    for sop in _active(workspace, TriggerKind.STAGE_REACHED).exclude(stage=""):
        reached = (Customer.objects.for_workspace(workspace)
                   .filter(pk__in=event.customer_ids, stage=sop.stage,
                           stage_changed_at__gte=record.occurred_at - STAGE_FRESH)
                   .values_list("pk", "stage_changed_at"))
        by_change: dict[dt.datetime, list[int]] = {}
        for customer_id, changed_at in reached:
            if changed_at is not None:  # the filter on it says so; the type does not know
                by_change.setdefault(changed_at, []).append(customer_id)
        for changed_at, ids in sorted(by_change.items()):
            enrol(workspace, sop, ids, changed_at, period=f"{changed_at:%Y%m%d%H%M%S}")


def _enrol_segment(workspace: Workspace, trigger: TriggerKind, event: SegmentEntered | SegmentLeft) -> None:
    for sop in _active(workspace, trigger).filter(segment_id=event.segment_id):
        enrol(workspace, sop, event.customer_ids, event.at)


@events.subscribe(SegmentEntered)
def enrol_on_segment_entered(workspace: Workspace, event: SegmentEntered, record: EventRecord) -> None:
    _enrol_segment(workspace, TriggerKind.SEGMENT_ENTERED, event)
    for sop in _events(workspace).filter(segment_id=event.segment_id):
        enrol_event(workspace, sop, event.customer_ids)


@events.subscribe(SegmentLeft)
def enrol_on_segment_left(workspace: Workspace, event: SegmentLeft, record: EventRecord) -> None:
    _enrol_segment(workspace, TriggerKind.SEGMENT_LEFT, event)
