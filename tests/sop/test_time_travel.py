"""A 30-day SOP lived through with time-machine: the every-minute job's sweep run every 15
minutes of the month, and every step fired at its time, quiet hours kept, a holiday skipped."""

from __future__ import annotations

import datetime as dt

import time_machine

from siyu.sop.models import RunState, StaffTask, StepRun
from siyu.sop.services import enrol, sweep
from tests.sop.conftest import SH, active_sop, make_friends, task_step

START = dt.datetime(2026, 9, 25, 9, 0, tzinfo=SH)  # 中秋 (a Friday off); 国庆 runs 10-01..10-07


def test_a_thirty_day_sop_fires_every_step_at_its_time(db, brand_a):
    steps = [task_step(1, at=dt.time(10, 0)),               # Sat 09-26: a weekend day off
             task_step(3, at=dt.time(23, 30)),              # quiet hours: the next morning 08:00
             task_step(7, at=dt.time(11, 0)),               # 10-02, inside 国庆: the next working day
             task_step(14, at=dt.time(9, 30)),
             task_step(30, at=dt.time(16, 0))]
    sop = active_sop(brand_a, steps)
    customers = make_friends(brand_a, 3, added_at=START)
    with time_machine.travel(START, tick=False) as traveller:
        enrol(brand_a.workspace, sop, [c.pk for c in customers], START)
        planned = {r.step.order: r.due_at.astimezone(SH) for r in StepRun.unscoped.select_related("step")}
        fired_at: dict[int, list[dt.datetime]] = {}
        now = START
        while now < START + dt.timedelta(days=32):
            now += dt.timedelta(minutes=15)
            traveller.move_to(now)
            before = set(StepRun.unscoped.filter(state=RunState.SENT).values_list("pk", flat=True))
            sweep(brand_a.workspace)
            for run in StepRun.unscoped.filter(state=RunState.SENT).exclude(pk__in=before).select_related("step"):
                fired_at.setdefault(run.step.order, []).append(now)

    assert planned[1] == dt.datetime(2026, 9, 28, 10, 0, tzinfo=SH)   # 09-26/27 are weekend days off
    assert planned[2] == dt.datetime(2026, 9, 29, 8, 0, tzinfo=SH)    # 23:30 on 09-28 is quiet
    assert planned[3] == dt.datetime(2026, 10, 8, 11, 0, tzinfo=SH)   # 10-02 is 国庆
    assert planned[4] == dt.datetime(2026, 10, 9, 9, 30, tzinfo=SH)
    assert planned[5] == dt.datetime(2026, 10, 26, 16, 0, tzinfo=SH)  # 10-25 is a Sunday
    for order, due in planned.items():
        assert len(fired_at[order]) == 3, order  # each customer's run, once
        assert all(due <= at < due + dt.timedelta(minutes=15) for at in fired_at[order])
        assert not (due.hour < 8 or due.hour >= 22)
    assert StaffTask.unscoped.count() == 15
