"""The task worker: django-tasks-db's worker plus a heartbeat, so that a task left running by
a killed worker is found by the sweep and run again instead of being lost."""

from __future__ import annotations

import logging
import os
import socket
import threading

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands.db_worker import Worker

from siyu.core.models import WorkerHeartbeat

logger = logging.getLogger("siyu.worker")


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
            super().run()
        finally:
            self._stop_heartbeat.set()
            WorkerHeartbeat.objects.filter(worker_id=self.worker_id).delete()
            logger.info("worker %s stopped", self.worker_id)
