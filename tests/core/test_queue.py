"""Enqueueing a task by its name (`siyu.core.queue.enqueue`): after commit unless told otherwise."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from siyu.core.queue import enqueue, task_named
from siyu.wecom.tasks import drain_inbox

NAME = "siyu.wecom.tasks.drain_inbox"


def queued() -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path=NAME))


def test_a_name_is_resolved_to_its_task():
    assert task_named(NAME) is drain_inbox


def test_a_wrong_name_fails_in_the_caller(db):
    with pytest.raises(ImportError):
        enqueue("siyu.wecom.tasks.no_such_task")
    with pytest.raises(TypeError):
        enqueue("siyu.wecom.services.drain")  # a function, not a task
    assert queued() == []


def test_by_default_the_task_is_enqueued_once_the_transaction_commits(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert enqueue(NAME) is None
        assert queued() == []
    assert len(callbacks) == 1
    [row] = queued()
    assert row.priority == drain_inbox.priority


def test_a_rolled_back_transaction_enqueues_nothing(db, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        enqueue(NAME)
        raise RuntimeError("rolled back")
    assert callbacks == [] and queued() == []


def test_now_with_run_after_and_priority(db):
    later = timezone.now() + dt.timedelta(minutes=5)
    result = enqueue(NAME, run_after=later, priority=-10, on_commit=False)
    [row] = queued()
    assert str(row.id) == str(result.id)
    assert (row.priority, row.run_after) == (-10, later)


def test_arguments_reach_the_task(db):
    enqueue("siyu.lifecycle.tasks.recompute_brand", 7, after_id=42, on_commit=False)
    [row] = DBTaskResult.objects.filter(task_path="siyu.lifecycle.tasks.recompute_brand")
    assert (row.args_kwargs["args"], row.args_kwargs["kwargs"]) == ([7], {"after_id": 42})


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner; SQLite walks the index anyway")
def test_the_worker_claims_by_walking_the_queue_index_even_with_stale_statistics(transactional_db):
    from siyu.core.queue import Call, enqueue_many
    from siyu.core.worker import _claim_in_queue_order

    # A new database's queue has no statistics when a burst fills it (autovacuum analyzes it a
    # minute later at best): as if none had been taken for the columns the claim filters on.
    table = DBTaskResult._meta.db_table
    unmeasured = ("status", "backend_name")
    with connection.cursor() as cursor:
        for column in unmeasured:
            cursor.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET STATISTICS 0")
        cursor.execute(f"ANALYZE {table}")
    try:
        enqueue_many(NAME, [Call(args=(), priority=0) for _ in range(20_000)])
        claim = DBTaskResult.objects.ready().filter(backend_name="default").select_for_update(skip_locked=True)[:1]
        with transaction.atomic(), connection.execute_wrapper(_claim_in_queue_order):
            plan = claim.explain()
    finally:
        with connection.cursor() as cursor:
            for column in unmeasured:
                cursor.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET STATISTICS -1")
    # Planned with the stale statistics, the claim fetched every READY row and sorted them.
    assert "Index Scan using tasks_db_new_ordering_idx" in plan and "Sort" not in plan, plan
