"""Brand-wide cron jobs fan out: a slot enqueues one task per brand, each brand's work is sliced
and done once, and a doubled fan-out enqueues nothing twice."""

from __future__ import annotations

import datetime as dt

import pytest
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from siyu.core.fanout import brands_of, for_each_brand
from siyu.core.models import Membership, ScheduledJobState, Workspace
from siyu.core.schedule import Scheduler, _jobs, jobs, register_job
from siyu.core.worker import HeartbeatWorker
from tests.conftest import make_brand

T0 = dt.datetime(2026, 11, 23, 10, 0, 30, tzinfo=dt.UTC)
ITEMS = range(1, 6)  # each brand has five items of work, done two per slice
done: list[tuple[int, int]] = []


@task()
def tally_brand(workspace_id: int, after: int = 0) -> int:
    items = [i for i in ITEMS if i > after][:2]
    done.extend((workspace_id, i) for i in items)
    if len(items) == 2:
        tally_brand.enqueue(workspace_id, items[-1])
    return len(items)


@task()
def tally() -> int:
    return for_each_brand(tally_brand)


@pytest.fixture
def tally_job():
    done.clear()
    register_job("tests.tally", "* * * * *", tally)
    yield
    _jobs.pop("tests.tally", None)


def drain() -> None:
    HeartbeatWorker(interval=0, batch=True).run()


def brand_tasks(**filters) -> list[list]:
    rows = DBTaskResult.objects.filter(task_path=tally_brand.module_path, **filters)
    return sorted(row.args_kwargs["args"] for row in rows)


def set_status(workspace, status: str) -> None:
    for row in DBTaskResult.objects.filter(task_path=tally_brand.module_path):
        if row.args_kwargs["args"] == [workspace.pk]:
            DBTaskResult.objects.filter(pk=row.pk).update(status=status)


def test_a_slot_enqueues_one_task_per_brand_and_each_brand_is_done_once(transactional_db, tally_job):
    brands = [make_brand(slug).workspace for slug in ("alpha", "beta", "gamma")]
    scheduler = Scheduler("a")
    scheduler.fire_due(T0)  # first sight of the job: its first slot is the next minute
    slot = T0 + dt.timedelta(minutes=1)
    assert scheduler.fire_due(slot).count("tests.tally") == 1
    assert Scheduler("b").fire_due(slot).count("tests.tally") == 0  # the slot fires once
    drain()
    # One task per brand from the slot, then each brand's own next slices (after 2, after 4).
    assert DBTaskResult.objects.filter(task_path=tally.module_path).get().return_value == 3
    firsts = [args for args in brand_tasks() if len(args) == 1]
    assert firsts == sorted([ws.pk] for ws in brands)
    assert len(brand_tasks()) == 9
    assert sorted(done) == sorted((ws.pk, i) for ws in brands for i in ITEMS)
    assert ScheduledJobState.objects.get(name="tests.tally").fired_count == 1


def test_a_doubled_fan_out_enqueues_each_brand_once(transactional_db, tally_job):
    brands = [make_brand(slug).workspace for slug in ("alpha", "beta")]
    tally.enqueue()
    tally.enqueue()  # e.g. the fan-out task re-run after its worker died
    drain()
    assert sorted(DBTaskResult.objects.filter(task_path=tally.module_path).values_list("return_value", flat=True)) == [0, 2]
    assert sorted(done) == sorted((ws.pk, i) for ws in brands for i in ITEMS)


def test_a_brand_still_busy_is_not_enqueued_again(db):
    a, b = make_brand("alpha").workspace, make_brand("beta").workspace
    assert for_each_brand(tally_brand) == 2
    assert for_each_brand(tally_brand) == 0  # both still queued
    set_status(a, "RUNNING")
    set_status(b, "SUCCESSFUL")
    assert for_each_brand(tally_brand) == 1  # b finished: its next slot runs; a is still running
    assert brand_tasks(status="READY") == [[b.pk]]


def test_only_the_brands_given_are_enqueued_and_a_deleted_brand_is_skipped(db):
    a, b, c = (make_brand(slug).workspace for slug in ("alpha", "beta", "gamma"))
    assert for_each_brand(tally_brand, brands_of(Membership.unscoped.filter(workspace__in=[a, c]))) == 2
    assert brand_tasks() == sorted([[a.pk], [c.pk]])
    assert for_each_brand(tally_brand, [b.pk, 999_999]) == 1


def test_every_brand_looping_cron_job_fans_out():
    """Each of these cron tasks only enqueues per-brand tasks (they are checked one by one in
    their apps' tests); listed here so that a new brand-wide job is added with its fan-out."""
    fanned_out = {
        "channels.route_codes", "channels.reconcile_contact_ways", "channels.sweep_stuck_welcomes",
        "tags.nightly", "tags.first_sync", "segments.recompute", "customers.poll_transfers",
        "accounts.recheck_capacity_alerts", "customers.resume_stale_syncs", "lifecycle.recompute_nightly",
    }
    registered = {job.name: job.task for job in jobs()}
    assert fanned_out <= set(registered)
    for name in fanned_out:
        source = registered[name].func.__code__.co_names
        assert "for_each_brand" in source, name


def test_a_brand_task_of_a_deleted_brand_does_nothing(db):
    from siyu.accounts.tasks import recheck_capacity_alerts_brand

    ws = Workspace.objects.create(name="Gone", slug="gone")
    pk = ws.pk
    ws.delete()
    assert recheck_capacity_alerts_brand.call(pk) == {}
