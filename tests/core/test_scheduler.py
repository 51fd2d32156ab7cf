"""The scheduler: one leader at a time, each cron slot fired once."""

import datetime as dt
import signal
import time

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from siyu.core.models import ScheduledJobState, SchedulerLease
from siyu.core.schedule import Scheduler, jobs
from tests.conftest import siyu_process, wait_for

T0 = dt.datetime(2026, 11, 23, 10, 0, 30, tzinfo=dt.UTC)


def test_only_one_of_two_schedulers_leads(db):
    a, b = Scheduler("a", lease_seconds=15), Scheduler("b", lease_seconds=15)
    assert a.try_lead(T0) is True
    assert b.try_lead(T0) is False
    assert a.try_lead(T0 + dt.timedelta(seconds=10)) is True  # renews
    assert b.try_lead(T0 + dt.timedelta(seconds=20)) is False  # lease renewed at +10 runs to +25


def test_a_follower_takes_over_when_the_leader_stops_renewing(db):
    a, b = Scheduler("a", lease_seconds=15), Scheduler("b", lease_seconds=15)
    a.try_lead(T0)
    assert b.try_lead(T0 + dt.timedelta(seconds=16)) is True
    assert a.try_lead(T0 + dt.timedelta(seconds=17)) is False
    assert SchedulerLease.objects.get().holder == "b"


def test_two_schedulers_ticking_together_fire_each_slot_once(db):
    a, b = Scheduler("a", lease_seconds=5), Scheduler("b", lease_seconds=5)
    fired: list[str] = []
    for second in range(0, 600, 1):  # ten minutes, both ticking every second
        now = T0 + dt.timedelta(seconds=second)
        if second == 200:
            a = Scheduler("a2", lease_seconds=5)  # leader restarts under a new identity
        fired += a.tick(now) + b.tick(now)
    sweeps = [name for name in fired if name == "core.sweep"]
    # Every minute boundary from 10:01 to 10:10 fired exactly once.
    assert len(sweeps) == 10
    assert ScheduledJobState.objects.get(name="core.sweep").fired_count == 10
    assert DBTaskResult.objects.filter(task_path="siyu.core.tasks.sweep").count() == 10


def test_a_due_slot_is_fired_once_even_if_two_leaders_overlap(db):
    # Both believe they lead (e.g. a paused process resumes after its lease expired).
    a, b = Scheduler("a"), Scheduler("b")
    a.fire_due(T0)
    later = T0 + dt.timedelta(minutes=1)
    fired = a.fire_due(later) + b.fire_due(later)
    assert fired.count("core.sweep") == 1


def test_platform_jobs_are_registered_with_cron_expressions():
    names = {job.name: job.cron for job in jobs()}
    assert names["core.sweep"] == "* * * * *"
    assert "core.prune_finished_tasks" in names


@pytest.mark.slow
def test_two_scheduler_processes_elect_one_leader_and_fail_over(process_env, tmp_path):
    env = {**process_env, "SIYU_SCHEDULER_LEASE_SECONDS": "3", "SIYU_SCHEDULER_TICK_SECONDS": "1"}
    first = siyu_process(["scheduler"], env, tmp_path / "s1.log")
    second = siyu_process(["scheduler"], env, tmp_path / "s2.log")
    try:
        lease = wait_for(lambda: SchedulerLease.objects.filter(expires_at__gt=timezone.now()).first(), timeout=60)
        pids = {first.pid: first, second.pid: second}
        leader_pid = int(lease.holder.split(":")[1])
        leader, follower = pids[leader_pid], pids[({*pids} - {leader_pid}).pop()]
        holders = set()
        for _ in range(20):  # for a few seconds the same process keeps the lease
            holders.add(SchedulerLease.objects.get().holder)
            time.sleep(0.2)
        assert holders == {lease.holder}

        leader.send_signal(signal.SIGKILL)
        leader.wait()
        new = wait_for(
            lambda: SchedulerLease.objects.exclude(holder=lease.holder).filter(expires_at__gt=timezone.now()).first(),
            timeout=30,
        )
        assert int(new.holder.split(":")[1]) == follower.pid
    finally:
        for p in (first, second):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                p.wait(timeout=20)
