"""The event bus: publish, subscribers run by a real worker from the real queue, retries."""

import datetime as dt

import pytest
from django.utils import timezone

from siyu.core import events, services
from siyu.core.models import EventRecord, RunStatus, SubscriberRun
from siyu.core.tasks import requeue_lost_runs
from siyu.core.worker import HeartbeatWorker
from tests.conftest import seat

seen: list[tuple[str, int]] = []
failures_left = {"n": 0}


class ParcelScanned(events.DomainEvent):
    name = "tests.parcel_scanned"
    parcel: int


@events.subscribe(ParcelScanned)
def count_parcel(workspace, event, record):
    seen.append(("count", event.parcel))


@events.subscribe(ParcelScanned, max_attempts=2)
def flaky_parcel(workspace, event, record):
    if failures_left["n"] > 0:
        failures_left["n"] -= 1
        raise RuntimeError("carrier API timed out")
    seen.append(("flaky", event.parcel))


@pytest.fixture(autouse=True)
def _reset():
    seen.clear()
    failures_left["n"] = 0


def drain() -> None:
    """Run every ready task with a real worker, the way `siyu worker` does."""
    HeartbeatWorker(interval=0, batch=True).run()


def make_due(workspace) -> None:
    """Move retries' run_after into the past, as time passing would."""
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now() - dt.timedelta(seconds=1))


def test_each_subscriber_runs_once_per_event(transactional_db, brand_a):
    events.publish(brand_a.workspace, ParcelScanned(parcel=7))
    drain()
    assert sorted(seen) == [("count", 7), ("flaky", 7)]
    runs = SubscriberRun.objects.for_workspace(brand_a.workspace)
    assert {r.status for r in runs} == {RunStatus.DONE}
    drain()
    assert len(seen) == 2


def test_a_failing_subscriber_retries_on_its_own_and_the_other_is_unaffected(transactional_db, brand_a):
    failures_left["n"] = 1
    events.publish(brand_a.workspace, ParcelScanned(parcel=8))
    drain()
    assert seen == [("count", 8)]
    flaky = SubscriberRun.objects.for_workspace(brand_a.workspace).get(subscriber__endswith="flaky_parcel")
    assert flaky.status == RunStatus.RETRYING
    assert "carrier API timed out" in flaky.last_error
    make_due(brand_a.workspace)
    drain()
    flaky.refresh_from_db()
    assert (flaky.status, flaky.attempts) == (RunStatus.DONE, 2)
    assert sorted(seen) == [("count", 8), ("flaky", 8)]


def test_a_subscriber_out_of_attempts_is_failed_visibly_and_can_be_retried(transactional_db, brand_a):
    failures_left["n"] = 2
    events.publish(brand_a.workspace, ParcelScanned(parcel=9))
    drain()
    make_due(brand_a.workspace)
    drain()
    admin = seat(brand_a.admin, brand_a.workspace)
    failed = services.list_runs(brand_a.workspace, admin, RunStatus.FAILED)
    assert [r.subscriber.rsplit(".", 1)[-1] for r in failed] == ["flaky_parcel"]
    assert services.overview(brand_a.workspace, brand_a.admin).runs_failed == 1

    services.retry_failed_run(brand_a.workspace, admin, failed[0].pk)
    drain()
    failed[0].refresh_from_db()
    assert failed[0].status == RunStatus.DONE
    assert ("flaky", 9) in seen
    assert services.audit_log(brand_a.workspace, admin)[0].action == "task_retried"


def test_a_duplicate_dedupe_key_is_stored_once_and_handled_once(transactional_db, brand_a):
    first = events.publish(brand_a.workspace, ParcelScanned(parcel=1), dedupe_key="wecom:abc")
    second = events.publish(brand_a.workspace, ParcelScanned(parcel=1), dedupe_key="wecom:abc")
    drain()
    assert first.pk == second.pk
    assert EventRecord.objects.for_workspace(brand_a.workspace).filter(name=ParcelScanned.name).count() == 1
    assert sorted(seen) == [("count", 1), ("flaky", 1)]


def test_the_same_dedupe_key_in_two_brands_is_two_events(transactional_db, brand_a, brand_b):
    events.publish(brand_a.workspace, ParcelScanned(parcel=1), dedupe_key="k")
    events.publish(brand_b.workspace, ParcelScanned(parcel=1), dedupe_key="k")
    drain()
    assert len(seen) == 4


def test_a_run_whose_enqueue_was_lost_is_found_by_the_sweep(transactional_db, brand_a, monkeypatch):
    monkeypatch.setattr(events, "_enqueue_all", lambda run_ids: None)  # the process died after commit
    events.publish(brand_a.workspace, ParcelScanned(parcel=5))
    drain()
    assert seen == []
    assert requeue_lost_runs(timezone.now() + dt.timedelta(minutes=5)) == 2
    drain()
    assert sorted(seen) == [("count", 5), ("flaky", 5)]


def test_a_stale_task_of_an_older_generation_does_nothing(transactional_db, brand_a):
    from siyu.core.tasks import run_subscriber

    record = events.publish(brand_a.workspace, ParcelScanned(parcel=3))
    drain()
    run = SubscriberRun.objects.for_workspace(brand_a.workspace).filter(event=record).first()
    run_subscriber.enqueue(run.pk, run.generation)  # a duplicate delivery of a finished run
    drain()
    assert len(seen) == 2


def test_events_are_decoded_back_into_their_type(transactional_db, brand_a):
    record = events.publish(brand_a.workspace, ParcelScanned(parcel=11))
    assert events.decode(record) == ParcelScanned(parcel=11)


def test_publish_many_keeps_order_and_dedupes_within_and_across_batches(transactional_db, brand_a):
    first = events.publish(brand_a.workspace, ParcelScanned(parcel=1), dedupe_key="k1")
    records = events.publish_many(brand_a.workspace, [
        events.Publication(ParcelScanned(parcel=2)),
        events.Publication(ParcelScanned(parcel=1), "k1"),   # seen in an earlier batch
        events.Publication(ParcelScanned(parcel=3), "k3"),
        events.Publication(ParcelScanned(parcel=3), "k3"),   # repeated inside this batch
        events.Publication(ParcelScanned(parcel=4)),
    ])
    assert [events.decode(r).parcel for r in records] == [2, 1, 3, 3, 4]
    assert records[1].pk == first.pk and records[2].pk == records[3].pk
    drain()
    assert sorted(p for kind, p in seen if kind == "count") == [1, 2, 3, 4]


class DeadlineEvent(events.DomainEvent):
    name = "tests.deadline_event"
    n: int


order: list[str] = []


@events.subscribe(DeadlineEvent)
def bookkeeping(workspace, event, record):
    order.append("bookkeeping")


@events.subscribe(DeadlineEvent, priority=50)
def urgent(workspace, event, record):
    order.append("urgent")


def test_a_subscriber_with_a_deadline_runs_before_bookkeeping_queued_earlier(transactional_db, brand_a):
    from django_tasks_db.models import DBTaskResult

    order.clear()
    events.publish(brand_a.workspace, DeadlineEvent(n=1))
    events.publish(brand_a.workspace, DeadlineEvent(n=2))
    priorities = sorted(DBTaskResult.objects.filter(status="READY").values_list("priority", flat=True))
    assert priorities == [0, 0, 50, 50]
    drain()
    assert order == ["urgent", "urgent", "bookkeeping", "bookkeeping"]
