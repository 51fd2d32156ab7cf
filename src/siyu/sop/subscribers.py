"""Triggers of customer SOPs: an add (through given channel codes), a tag added, a segment
entered or left. Each enrols the event's customers into every active SOP it triggers;
enrolling is idempotent (one enrolment per SOP and customer), so a re-run adds nothing."""

from __future__ import annotations

from django.db.models import QuerySet

from siyu.core import events
from siyu.core.models import EventRecord, Workspace
from siyu.customers.events import CustomersChanged, FollowStarted
from siyu.segments.events import SegmentEntered, SegmentLeft
from siyu.sop.models import Sop, SopKind, SopStatus, TriggerKind
from siyu.sop.services import enrol
from siyu.tags.models import CustomerTag


def _active(workspace: Workspace, trigger: TriggerKind) -> QuerySet[Sop]:
    return Sop.objects.for_workspace(workspace).filter(status=SopStatus.ACTIVE, kind=SopKind.CUSTOMER,
                                                       trigger=trigger).order_by("pk")


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


def _enrol_segment(workspace: Workspace, trigger: TriggerKind, event: SegmentEntered | SegmentLeft) -> None:
    for sop in _active(workspace, trigger).filter(segment_id=event.segment_id):
        enrol(workspace, sop, event.customer_ids, event.at)


@events.subscribe(SegmentEntered)
def enrol_on_segment_entered(workspace: Workspace, event: SegmentEntered, record: EventRecord) -> None:
    _enrol_segment(workspace, TriggerKind.SEGMENT_ENTERED, event)


@events.subscribe(SegmentLeft)
def enrol_on_segment_left(workspace: Workspace, event: SegmentLeft, record: EventRecord) -> None:
    _enrol_segment(workspace, TriggerKind.SEGMENT_LEFT, event)
