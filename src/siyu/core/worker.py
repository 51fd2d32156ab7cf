"""The task worker: django-tasks-db's worker plus a heartbeat, so that a task left running by
a killed worker is found by the sweep and run again instead of being lost."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks.base import TaskResultStatus
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from siyu.core.models import WorkerHeartbeat

logger = logging.getLogger("siyu.worker")


def _claim_in_queue_order(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
    """Run the claim query (the first READY task by priority, `FOR UPDATE SKIP LOCKED`) on
    PostgreSQL as a walk of the queue's ordering index, stopping at the first task.

    During a burst the READY rows grow from a few to tens of thousands within seconds, faster than
    autovacuum refreshes the table's statistics. Planned with the stale ones, the claim fetched
    every READY row and sorted them on disk: 126 ms per claim at 38,000 rows instead of 0.5 ms,
    and the welcome lane waited on it."""
    if context["connection"].vendor == "postgresql" and "SKIP LOCKED" in sql and _TASK_TABLE in sql:
        cursor = context["cursor"]
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
    return execute(sql, params, many, context)


_TASK_TABLE = DBTaskResult._meta.db_table


class HeartbeatWorker(Worker):
    def __init__(
        self, *, interval: float = 0.5, max_tasks: int | None = None, worker_id: str | None = None, batch: bool = False
    ) -> None:
        super().__init__(
            queue_names=["*"],
            interval=interval,
            batch=batch,
            backend_name="default",
            startup_delay=False,
            max_tasks=max_tasks,
            worker_id=worker_id or f"{socket.gethostname()[:30]}-{os.getpid()}-{get_random_string(8)}",
            excluded_queue_names=[],
        )
        self._stop_heartbeat = threading.Event()

    def beat(self) -> None:
        now = timezone.now()
        WorkerHeartbeat.objects.update_or_create(
            worker_id=self.worker_id,
            defaults={"pid": os.getpid(), "hostname": socket.gethostname()[:200], "last_seen": now},
            create_defaults={
                "pid": os.getpid(), "hostname": socket.gethostname()[:200], "started_at": now, "last_seen": now,
            },
        )

    def _heartbeat_loop(self) -> None:
        period = settings.SIYU["WORKER_HEARTBEAT_SECONDS"]
        try:
            while not self._stop_heartbeat.wait(period):
                try:
                    self.beat()
                except Exception:
                    logger.exception("heartbeat failed")
                finally:
                    close_old_connections()
        finally:
            connection.close()

    def run(self) -> None:
        self.beat()
        thread = threading.Thread(target=self._heartbeat_loop, name="heartbeat", daemon=True)
        thread.start()
        logger.info("worker %s started", self.worker_id)
        try:
            self._run_through_outages()
        finally:
            self._stop_heartbeat.set()
            try:
                WorkerHeartbeat.objects.filter(worker_id=self.worker_id).delete()
            except DatabaseError:
                logger.warning("worker %s could not remove its heartbeat; the sweep will", self.worker_id)
            logger.info("worker %s stopped", self.worker_id)

    def _run_through_outages(self) -> None:
        with connection.execute_wrapper(_claim_in_queue_order):
            self._loop_through_outages()

    def _loop_through_outages(self) -> None:
        """django-tasks-db's loop, started again after the database goes away (a restart, a
        failover): its loop and `run_task` let a connection error escape and end the process."""
        pause = 0.5
        while True:
            try:
                super().run()
                return  # batch mode found nothing, or max_tasks was reached
            except DatabaseError as exc:
                if not self.running:
                    raise
                logger.warning("database unavailable (%s); retrying in %.1f s", exc, pause)
                connection.close()  # the next query opens a new connection
                time.sleep(pause)
                pause = min(pause * 2, 5.0)
                try:
                    self._requeue_own_running()
                    pause = 0.5
                except DatabaseError:
                    continue

    def _requeue_own_running(self) -> None:
        """A task this worker was running when the database went away lost its outcome: put it
        back in the queue (tasks are idempotent). The sweep would not, as this worker still beats."""
        for result in DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).only("id", "worker_ids"):
            if result.worker_ids and result.worker_ids[-1] == self.worker_id:
                DBTaskResult.objects.filter(pk=result.pk, status=TaskResultStatus.RUNNING,
                                            worker_ids=result.worker_ids).update(
                    status=TaskResultStatus.READY, started_at=None)
                logger.warning("re-queued task %s, whose outcome the database outage lost", result.pk)
