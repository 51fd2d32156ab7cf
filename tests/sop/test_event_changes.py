"""Event SOPs (活动 SOP) after activation: a changed event date moves the steps not yet fired
(fired ones stay), and a large audience is enrolled in the background in slices, idempotently."""

from __future__ import annotations

import datetime as dt

import time_machine

from siyu.segments.models import Segment, SegmentKind, SegmentMember
from siyu.sop import services, tasks
from siyu.sop.models import Enrolment, RunState, Sop, SopKind, SopStatus, StepRun
from siyu.sop.services import occasions
from tests.sop.conftest import SH, admin_seat, make_friends, task_step

EVENT = dt.datetime(2026, 12, 12, 19, 0, tzinfo=SH)
START = dt.datetime(2026, 12, 6, 9, 0, tzinfo=SH)


def _everyone(brand, customers):
    segment = Segment.objects.create(workspace=brand.workspace, name="全部", kind=SegmentKind.STATIC)
    SegmentMember.unscoped.bulk_create([SegmentMember(workspace=brand.workspace, segment=segment, customer=c,
                                                     added_at=START) for c in customers])
    return segment


def _steps():
    return [task_step(-3, at=dt.time(20, 0)), task_step(0, at=None), task_step(1, at=dt.time(10, 0))]


def _data(segment, event_at):
    return services.SopInput(name="双十二", kind=SopKind.EVENT, segment_id=segment.pk, event_at=event_at,
                             working_days_only=False)


def test_a_changed_event_date_moves_the_steps_not_yet_fired(db, brand_a):
    ws, admin = brand_a.workspace, admin_seat(brand_a)
    with time_machine.travel(START, tick=False) as traveller:
        segment = _everyone(brand_a, make_friends(brand_a, 3, added_at=START))
        sop = services.create_sop(ws, admin, _data(segment, EVENT), _steps())
        services.set_status(ws, admin, sop.pk, SopStatus.ACTIVE)
        traveller.move_to(dt.datetime(2026, 12, 9, 20, 5, tzinfo=SH))
        assert services.sweep(ws)["sent"] == 3  # the warm-up fired for everyone
        warm_up = {r.pk: r.due_at for r in StepRun.unscoped.filter(sop=sop, state=RunState.SENT)}

        # The event moves two days later, to 12-14 19:00.
        later = EVENT + dt.timedelta(days=2)
        services.edit_sop(ws, admin, sop.pk, _data(segment, later), _steps())
        runs = StepRun.unscoped.filter(sop=sop).select_related("step")
        due = {(r.step.order, r.state) for r in runs}
        assert due == {(1, RunState.SENT), (2, RunState.DUE), (3, RunState.DUE)}
        # Fired runs keep their time; the others moved with the event (the enrolments' version).
        assert {r.pk: r.due_at for r in runs if r.state == RunState.SENT} == warm_up
        moved = {r.step.order: r.due_at.astimezone(SH) for r in runs if r.state == RunState.DUE}
        assert moved == {2: later, 3: dt.datetime(2026, 12, 15, 10, 0, tzinfo=SH)}
        assert set(Enrolment.unscoped.filter(sop=sop).values_list("anchor_at", flat=True)) == {later}

        # Nothing fires at the old time; everything fires at the new one.
        traveller.move_to(EVENT + dt.timedelta(minutes=5))
        assert services.sweep(ws)["sent"] == 0
        traveller.move_to(later + dt.timedelta(minutes=5))
        assert services.sweep(ws)["sent"] == 3


def test_a_large_audience_is_enrolled_in_the_background_in_slices(db, brand_a, monkeypatch):
    ws, admin = brand_a.workspace, admin_seat(brand_a)
    monkeypatch.setattr(occasions, "INLINE_AUDIENCE", 5)
    monkeypatch.setattr(occasions, "ENROL_SLICE", 4)
    with time_machine.travel(START, tick=True):
        segment = _everyone(brand_a, make_friends(brand_a, 11, added_at=START))
        sop = services.create_sop(ws, admin, _data(segment, EVENT), _steps())
        services.set_status(ws, admin, sop.pk, SopStatus.ACTIVE)
        # Not in the request: the activation only queued the task and set the cursor.
        assert Enrolment.unscoped.filter(sop=sop).count() == 0
        assert Sop.unscoped.get(pk=sop.pk).enrol_cursor == 0

        # One slice at a time (what a worker killed between slices leaves), then the rest.
        assert occasions.enrol_event_slice(ws, sop.pk, size=4) is True
        assert Enrolment.unscoped.filter(sop=sop).count() == 4
        # The task: a slice per round (one round per task here), then it queues itself again.
        monkeypatch.setattr(tasks, "SLICES_PER_TASK", 1)
        queued: list[tuple[int, int]] = []
        monkeypatch.setattr(tasks, "enqueue", lambda name, *args: queued.append(args))
        tasks.enrol_event_audience.call(ws.pk, sop.pk)
        assert queued == [(ws.pk, sop.pk)] and Enrolment.unscoped.filter(sop=sop).count() == 8
        tasks.enrol_event_audience.call(ws.pk, sop.pk)  # the queued one: the last three, the cursor cleared
        assert Sop.unscoped.get(pk=sop.pk).enrol_cursor is None and len(queued) == 1
        assert Enrolment.unscoped.filter(sop=sop).count() == 11
        assert StepRun.unscoped.filter(sop=sop).count() == 33
        # Run again (a duplicate task): nothing more.
        Sop.unscoped.filter(pk=sop.pk).update(enrol_cursor=0)
        tasks.enrol_event_audience.call(ws.pk, sop.pk)
        assert Enrolment.unscoped.filter(sop=sop).count() == 11 and StepRun.unscoped.filter(sop=sop).count() == 33


def test_a_small_audience_is_enrolled_at_once(db, brand_a):
    ws, admin = brand_a.workspace, admin_seat(brand_a)
    with time_machine.travel(START, tick=False):
        segment = _everyone(brand_a, make_friends(brand_a, 3, added_at=START))
        sop = services.create_sop(ws, admin, _data(segment, EVENT), _steps())
        services.set_status(ws, admin, sop.pk, SopStatus.ACTIVE)
        assert Enrolment.unscoped.filter(sop=sop).count() == 3
        assert Sop.unscoped.get(pk=sop.pk).enrol_cursor is None
