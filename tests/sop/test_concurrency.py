"""Two sweeps racing over the same due minute on PostgreSQL: each run is claimed by one of
them, each task made once, and their counts add up to the runs."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, connections

from siyu.sop.models import RunState, StaffTask, StepRun
from siyu.sop.services import enrol, sweep
from tests.sop.conftest import MONDAY, active_sop, make_friends, task_step

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL only")


def test_two_sweeps_racing_fire_each_run_once(transactional_db, brand_a):
    sop = active_sop(brand_a, [task_step(1, window_hours=72), task_step(1, at=dt.time(10, 0, 30), window_hours=72),
                              task_step(2, window_hours=72)])
    customers = make_friends(brand_a, 400)
    enrol(brand_a.workspace, sop, [c.pk for c in customers], MONDAY, MONDAY)
    now = MONDAY + dt.timedelta(days=2, hours=1)
    start = threading.Barrier(2)
    results: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            start.wait()
            results.append(sweep(brand_a.workspace, now)["sent"])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sum(results) == 1200 == StepRun.unscoped.filter(state=RunState.SENT).count()
    assert StaffTask.unscoped.count() == 1200
    assert StaffTask.unscoped.values("ref").distinct().count() == 1200
