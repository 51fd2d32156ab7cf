"""Nightly pruning of domain events and their subscriber runs: old finished ones go, young ones,
failed-but-young-enough ones and unfinished ones stay, in short batches."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from siyu.core.models import EventRecord, RunStatus, SubscriberRun
from siyu.core.retention import delete_in_batches, prune_events, prune_history
from siyu.core.schedule import jobs


def event(workspace, days_old: float, *statuses: str) -> EventRecord:
    now = timezone.now()
    record = EventRecord.unscoped.create(workspace=workspace, name="tests.parcel_scanned", payload={}, occurred_at=now)
    for i, status in enumerate(statuses):
        SubscriberRun.unscoped.create(workspace=workspace, event=record, subscriber=f"tests.sub{i}", status=status,
                                      due_at=now)
    EventRecord.unscoped.filter(pk=record.pk).update(published_at=now - dt.timedelta(days=days_old))
    return record


def kept(*records: EventRecord) -> list[bool]:
    return [EventRecord.unscoped.filter(pk=r.pk).exists() for r in records]


def test_old_finished_events_go_with_their_runs_and_the_rest_stay(db, brand_a, brand_b):
    ws = brand_a.workspace
    old_done = event(ws, 31, RunStatus.DONE, RunStatus.DONE)
    old_bare = event(brand_b.workspace, 40)
    young_done = event(ws, 29, RunStatus.DONE)
    failed_young_enough = event(ws, 60, RunStatus.DONE, RunStatus.FAILED)
    failed_too_old = event(ws, 91, RunStatus.FAILED)
    unfinished = [event(ws, 400, RunStatus.DONE, status) for status in (RunStatus.PENDING, RunStatus.RETRYING,
                                                                       RunStatus.RUNNING)]
    deleted = prune_history.call()
    assert deleted == {"core.EventRecord": 3, "core.SubscriberRun": 3}
    assert kept(old_done, old_bare, failed_too_old) == [False, False, False]
    assert kept(young_done, failed_young_enough, *unfinished) == [True] * 5
    assert SubscriberRun.unscoped.filter(event__in=unfinished).count() == 6  # the done run of each stays too
    assert not SubscriberRun.unscoped.filter(event_id=old_done.pk).exists()


def test_the_ages_come_from_the_settings_and_zero_keeps_forever(db, brand_a, settings):
    ws = brand_a.workspace
    done, failed = event(ws, 8, RunStatus.DONE), event(ws, 8, RunStatus.FAILED)
    settings.SIYU = {**settings.SIYU, "RETAIN_EVENTS_DAYS": 7, "RETAIN_FAILED_EVENTS_DAYS": 0}
    prune_events()
    assert kept(done, failed) == [False, True]  # failed ones kept forever
    old = event(ws, 1000, RunStatus.DONE)
    settings.SIYU = {**settings.SIYU, "RETAIN_EVENTS_DAYS": 0, "RETAIN_FAILED_EVENTS_DAYS": 1}
    assert prune_events() == {}
    assert kept(old, failed) == [True, True]
    # Failed ones are kept at least as long as the others, whatever their own setting says.
    settings.SIYU = {**settings.SIYU, "RETAIN_EVENTS_DAYS": 10, "RETAIN_FAILED_EVENTS_DAYS": 5}
    prune_events()
    assert kept(old, failed) == [False, True]


def test_pruning_deletes_in_primary_key_chunks(db, brand_a):
    ws = brand_a.workspace
    old = [event(ws, 45, RunStatus.DONE) for _ in range(5)]
    young = event(ws, 1, RunStatus.DONE)
    with CaptureQueriesContext(connection) as queries:
        deleted = prune_events(batch_size=2)
    assert deleted == {"core.EventRecord": 5, "core.SubscriberRun": 5}
    table = EventRecord._meta.db_table
    name = connection.ops.quote_name(table)
    deletes = [q["sql"] for q in queries if q["sql"].startswith("DELETE") and q["sql"].split()[2] == name]
    assert len(deletes) == 3  # 2 + 2 + 1
    assert kept(*old, young) == [False] * 5 + [True]


def test_a_second_run_finds_nothing_left(db, brand_a):
    ws = brand_a.workspace
    records = [event(ws, 45, RunStatus.DONE) for _ in range(3)]
    queryset = EventRecord.unscoped.filter(pk__in=[r.pk for r in records], published_at__lt=timezone.now())
    assert delete_in_batches(queryset, batch_size=1) == {"core.EventRecord": 3, "core.SubscriberRun": 3}
    assert delete_in_batches(queryset, batch_size=1) == {}


@pytest.mark.parametrize("name", ["core.prune_history", "wecom.prune_history"])
def test_the_pruning_jobs_run_nightly(name):
    cron = {job.name: job.cron for job in jobs()}[name]
    minute, hour, *rest = cron.split()
    assert minute.isdigit() and hour.isdigit() and rest == ["*", "*", "*"]
