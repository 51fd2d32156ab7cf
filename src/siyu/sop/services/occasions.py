"""Enrolments that come round on a clock, not on a customer's event: birthdays (生日) and a
segment's weekday or date schedule (定时), enrolled by the schedule job; and an event SOP's
audience (活动 SOP), enrolled when it is activated and as customers join it until it is over.

A birthday or a schedule comes back, so its enrolments carry a `period` ("2026" for a birthday,
"2026-W49" for a weekly schedule, "2026-12-12" for a date): the unique (version, customer,
period) key makes a re-run of the job enrol nobody twice for the same occurrence. The job runs
every few minutes and enrols an occurrence once its time of day has come (so "members" are the
segment's members at that time); `Sop.last_occurrence` only spares the re-runs the query.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from siyu.core.models import Workspace
from siyu.core.queue import enqueue
from siyu.customers.models import Customer
from siyu.segments.models import Segment
from siyu.segments.services import members_query
from siyu.sop.models import SCHEDULED_TRIGGERS, Sop, SopKind, SopStatus, SopStep, TriggerKind
from siyu.sop.services.calendar import SHANGHAI
from siyu.sop.services.enrolment import enrol, plan_runs
from siyu.sop.services.groups import audience, enrol_groups
from siyu.tags.models import CustomerTag

# An event audience up to this size is enrolled in the activation request; a larger one by the
# background task `sop.tasks.enrol_event_audience`, in slices of ENROL_SLICE customers.
INLINE_AUDIENCE = 2_000
ENROL_SLICE = 5_000
# A slice enrolled later than the activation still writes steps due this recently (the sweep
# fires them within their window), so a slow queue loses no step that was still to come.
SLICE_GRACE = dt.timedelta(hours=1)

# How long after its time an occurrence is still enrolled: a job outage shorter than this loses
# nothing, and an SOP activated in the afternoon does not enrol yesterday's birthdays.
CATCH_UP = dt.timedelta(hours=6)


@dataclass(frozen=True)
class Occurrence:
    day: dt.date  # in Asia/Shanghai
    at: dt.datetime  # the day at the SOP's time of day: the enrolments' clock
    period: str


def occurrence(sop: Sop, now: dt.datetime) -> Occurrence | None:
    """The birthday or schedule SOP's occurrence whose time has come (within `CATCH_UP`), if any."""
    if sop.at_time is None or sop.trigger not in SCHEDULED_TRIGGERS:
        return None
    today = now.astimezone(SHANGHAI).date()
    for day in (today, today - dt.timedelta(days=1)):
        at = dt.datetime.combine(day, sop.at_time, SHANGHAI)
        if not at <= now < at + CATCH_UP:
            continue
        if sop.trigger == TriggerKind.BIRTHDAY:
            return Occurrence(day, at, f"{day.year}")
        if sop.schedule_date is not None:
            if day == sop.schedule_date:
                return Occurrence(day, at, day.isoformat())
        elif sop.schedule_weekday == day.weekday():
            year, week, _weekday = day.isocalendar()
            return Occurrence(day, at, f"{year}-W{week:02}")
    return None


def birthdays_on(workspace: Workspace, day: dt.date) -> QuerySet[Customer]:
    """Customers whose birthday is `day`; in a year without 29 February, theirs is the 28th."""
    match = Q(birthday__month=day.month, birthday__day=day.day)
    if (day.month, day.day) == (2, 28) and not calendar.isleap(day.year):
        match |= Q(birthday__month=2, birthday__day=29)
    return Customer.objects.for_workspace(workspace).filter(match).order_by()


def _segment_members(workspace: Workspace, segment_id: int | None) -> QuerySet[Customer]:
    segment = Segment.objects.for_workspace(workspace).filter(pk=segment_id or 0).first()
    return members_query(workspace, segment) if segment else Customer.objects.none()


def enrol_scheduled(workspace: Workspace, now: dt.datetime | None = None) -> int:
    """Enrol each active birthday or schedule SOP's occurrence whose time has come: the day's
    birthdays, or the segment's current members. Idempotent. Returns how many were enrolled."""
    now = now or timezone.now()
    enrolled = 0
    for sop in (Sop.objects.for_workspace(workspace).filter(status=SopStatus.ACTIVE,
                                                            kind__in=(SopKind.CUSTOMER, SopKind.GROUP),
                                                            trigger__in=SCHEDULED_TRIGGERS).order_by("pk")):
        found = occurrence(sop, now)
        if found is None or sop.last_occurrence == found.day.isoformat():
            continue
        if sop.kind == SopKind.GROUP:  # a weekly rhythm: the audience's live groups at that time
            enrolled += enrol_groups(workspace, sop, audience(workspace, sop), found.at, now, period=found.period)
            Sop.unscoped.filter(pk=sop.pk).update(last_occurrence=found.day.isoformat())
            continue
        who = (birthdays_on(workspace, found.day) if sop.trigger == TriggerKind.BIRTHDAY
               else _segment_members(workspace, sop.segment_id))
        enrolled += enrol(workspace, sop, who.values_list("pk", flat=True), found.at, now, period=found.period)
        Sop.unscoped.filter(pk=sop.pk).update(last_occurrence=found.day.isoformat())
    return enrolled


def event_audience(workspace: Workspace, sop: Sop) -> QuerySet[Customer]:
    """An event SOP's audience: its segment's members, or the customers carrying its tag."""
    if sop.segment_id:
        return _segment_members(workspace, sop.segment_id)
    tagged = CustomerTag.objects.for_workspace(workspace).filter(tag_id=sop.tag_id or 0).values("customer_id")
    return Customer.objects.for_workspace(workspace).filter(pk__in=tagged).order_by()


def event_over(workspace: Workspace, sop: Sop, now: dt.datetime) -> bool:
    """Over once its last step's time has passed (or it has no date)."""
    if sop.event_at is None:
        return True
    steps = list(SopStep.objects.for_workspace(workspace).filter(version_id=sop.current_version_id))
    planned, _note = plan_runs(sop, steps, sop.event_at)
    return not planned or max(run.due_at for run in planned) < now


def enrol_event(workspace: Workspace, sop: Sop, customer_ids: Iterable[int] | None = None,
                now: dt.datetime | None = None) -> int:
    """Enrol an active event SOP's audience (or those of `customer_ids` in it) on the event's
    clock, until the event is over. A customer joining late gets only the steps still to come."""
    now = now or timezone.now()
    if sop.kind != SopKind.EVENT or sop.status != SopStatus.ACTIVE or sop.event_at is None:
        return 0
    if event_over(workspace, sop, now):
        return 0
    audience = event_audience(workspace, sop)
    if customer_ids is not None:
        audience = audience.filter(pk__in=list(customer_ids))
    return enrol(workspace, sop, audience.values_list("pk", flat=True), sop.event_at, now, not_before=now)


def start_event_enrolment(workspace: Workspace, sop: Sop, now: dt.datetime | None = None) -> bool:
    """An event SOP activated (or resumed): a small audience is enrolled now; a large one is left
    to the background task, which walks it by customer id from `Sop.enrol_cursor`. Returns True
    when the enrolment went to the background."""
    now = now or timezone.now()
    if sop.kind != SopKind.EVENT or sop.status != SopStatus.ACTIVE or sop.event_at is None:
        return False
    if event_audience(workspace, sop).count() <= INLINE_AUDIENCE:
        enrol_event(workspace, sop, now=now)
        return False
    Sop.unscoped.filter(pk=sop.pk).update(enrol_cursor=0)
    enqueue("siyu.sop.tasks.enrol_event_audience", workspace.pk, sop.pk)
    return True


def enrol_event_slice(workspace: Workspace, sop_id: int, now: dt.datetime | None = None,
                      size: int | None = None) -> bool:
    """Enrol the next slice of a background event enrolment. Idempotent: enrolment is ON
    CONFLICT DO NOTHING, and the cursor moves by a conditional UPDATE from the value read, so
    two workers on one SOP never skip a slice (at worst both enrol it, once). Returns True while
    more remain."""
    now = now or timezone.now()
    sop = Sop.objects.for_workspace(workspace).filter(pk=sop_id).first()
    if sop is None or sop.enrol_cursor is None:
        return False
    cursor = sop.enrol_cursor
    if sop.status != SopStatus.ACTIVE or sop.event_at is None or event_over(workspace, sop, now):
        Sop.unscoped.filter(pk=sop.pk, enrol_cursor=cursor).update(enrol_cursor=None)  # paused, stopped or over
        return False
    size = size or ENROL_SLICE
    ids = list(event_audience(workspace, sop).filter(pk__gt=cursor).order_by("pk").values_list("pk", flat=True)[:size])
    if ids:
        enrol(workspace, sop, ids, sop.event_at, now, not_before=now - SLICE_GRACE)
    following = ids[-1] if len(ids) == size else None
    Sop.unscoped.filter(pk=sop.pk, enrol_cursor=cursor).update(enrol_cursor=following)
    return following is not None
