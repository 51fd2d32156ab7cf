"""The Tasks page's "events processed" is a counter kept as events finish, not a count of the
whole event history: the page's queries read the last 24 hours and the open part of the queue."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from siyu.core import events, services
from siyu.core.models import EventRecord, EventTally, RunStatus, SubscriberRun
from siyu.core.worker import HeartbeatWorker
from tests.conftest import seat

failing = {"n": 0}


class ShelfRestocked(events.DomainEvent):
    name = "tests.shelf_restocked"
    shelf: int


class Heartbeat(events.DomainEvent):
    name = "tests.heartbeat_nobody_hears"


@events.subscribe(ShelfRestocked)
def note_restock(workspace, event, record):
    pass


@events.subscribe(ShelfRestocked, max_attempts=1)
def restock_report(workspace, event, record):
    if failing["n"] > 0:
        failing["n"] -= 1
        raise RuntimeError("report service down")


@pytest.fixture(autouse=True)
def _reset():
    failing["n"] = 0


def drain() -> None:
    HeartbeatWorker(interval=0, batch=True).run()


def processed(workspace) -> int:
    return EventTally.objects.for_workspace(workspace).values_list("processed", flat=True).first() or 0


def test_an_event_counts_once_when_its_last_run_is_done(transactional_db, brand_a):
    events.publish(brand_a.workspace, ShelfRestocked(shelf=1))
    events.publish(brand_a.workspace, ShelfRestocked(shelf=2))
    assert processed(brand_a.workspace) == 0
    drain()
    assert processed(brand_a.workspace) == 2
    drain()  # nothing left to run: nothing counted again
    assert processed(brand_a.workspace) == 2


def test_an_event_with_a_failed_run_is_open_until_the_retry_succeeds(transactional_db, brand_a):
    failing["n"] = 1
    events.publish(brand_a.workspace, ShelfRestocked(shelf=3))
    drain()
    figures = services.overview(brand_a.workspace, brand_a.admin)
    assert (figures.events_processed, figures.events_waiting, figures.runs_failed) == (0, 1, 1)
    failed = SubscriberRun.objects.for_workspace(brand_a.workspace).get(status=RunStatus.FAILED)
    services.retry_failed_run(brand_a.workspace, seat(brand_a.admin, brand_a.workspace), failed.pk)
    drain()
    figures = services.overview(brand_a.workspace, brand_a.admin)
    assert (figures.events_processed, figures.events_waiting, figures.runs_failed) == (1, 0, 0)


def test_an_event_nobody_subscribes_to_counts_at_once(db, brand_a, brand_b):
    events.publish(brand_a.workspace, Heartbeat())
    assert processed(brand_a.workspace) == 1 and processed(brand_b.workspace) == 0
    assert EventRecord.objects.for_workspace(brand_a.workspace).get().processed_at is not None


def test_marking_an_event_twice_counts_it_once(db, brand_a):
    record = events.publish(brand_a.workspace, ShelfRestocked(shelf=4))
    SubscriberRun.objects.for_workspace(brand_a.workspace).update(status=RunStatus.DONE)
    assert events.mark_processed(brand_a.workspace.pk, [record.pk]) == 1
    assert events.mark_processed(brand_a.workspace.pk, [record.pk]) == 0
    assert processed(brand_a.workspace) == 1


def test_the_tasks_page_never_reads_the_whole_event_history(db, brand_a, login):
    for shelf in range(3):
        events.publish(brand_a.workspace, ShelfRestocked(shelf=shelf))
    SubscriberRun.objects.for_workspace(brand_a.workspace).update(status=RunStatus.DONE)
    client = login(brand_a.admin)
    with CaptureQueriesContext(connection) as captured:
        html = client.get("/tasks/").content.decode()
    assert re.search(r'data-testid="fig-events">\s*0\b', html)  # counted by the worker, not here
    events_sql = [q["sql"] for q in captured if '"core_eventrecord"' in q["sql"]]
    runs_sql = [q["sql"] for q in captured if re.search(r'FROM "core_subscriberrun"', q["sql"])]
    assert events_sql and runs_sql
    # Events only through the last-24-hours window (or by the runs listed); runs only where
    # their status is filtered in WHERE, so the done history is never scanned.
    for sql in events_sql:
        where = sql.split(" WHERE ", 1)[1] if " WHERE " in sql else ""
        assert '"published_at" >=' in where or '"core_subscriberrun"."event_id"' in sql, sql
    for sql in runs_sql:
        where = sql.split(" WHERE ", 1)[1] if " WHERE " in sql else ""
        assert '"status"' in where, sql
