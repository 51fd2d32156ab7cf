"""The scheduler: cron jobs declared per app, fired by one leader from database state.

Each job's next due time lives in `ScheduledJobState`; firing advances it with a conditional
UPDATE and enqueues the job's task, so a restart never skips or repeats a slot, and two
schedulers never fire the same slot even if both believe they lead. Leadership itself is a
lease row renewed every tick (`SchedulerLease`).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
from dataclasses import dataclass

from cronsim import CronSim
from django.conf import settings
from django.db import IntegrityError, close_old_connections, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks.base import Task

from siyu.core.models import ScheduledJobState, SchedulerLease

logger = logging.getLogger("siyu.scheduler")
LEASE_NAME = "scheduler"


@dataclass(frozen=True)
class ScheduledJob:
    name: str
    cron: str
    task: Task

    def next_after(self, moment: dt.datetime) -> dt.datetime:
        local = timezone.localtime(moment).replace(microsecond=0)
        return next(CronSim(self.cron, local))


_jobs: dict[str, ScheduledJob] = {}


def register_job(name: str, cron: str, task: Task) -> None:
    CronSim(cron, timezone.now())  # validates the expression at import time
    _jobs[name] = ScheduledJob(name, cron, task)


def jobs() -> list[ScheduledJob]:
    return list(_jobs.values())


class Scheduler:
    def __init__(self, holder: str | None = None, lease_seconds: int | None = None) -> None:
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{get_random_string(6)}"
        self.lease = dt.timedelta(seconds=lease_seconds or settings.SIYU["SCHEDULER_LEASE_SECONDS"])

    def try_lead(self, now: dt.datetime) -> bool:
        """Take or renew the lease; True while this scheduler is the leader."""
        expires = now + self.lease
        renewed = SchedulerLease.objects.filter(
            Q(holder=self.holder) | Q(expires_at__lt=now), name=LEASE_NAME
        ).update(holder=self.holder, expires_at=expires)
        if renewed:
            return True
        try:
            with transaction.atomic():
                SchedulerLease.objects.create(name=LEASE_NAME, holder=self.holder, expires_at=expires)
            return True
        except IntegrityError:
            return False

    def resign(self) -> None:
        SchedulerLease.objects.filter(name=LEASE_NAME, holder=self.holder).delete()

    def fire_due(self, now: dt.datetime) -> list[str]:
        fired = []
        for job in jobs():
            state, _ = ScheduledJobState.objects.get_or_create(
                name=job.name, defaults={"next_run_at": job.next_after(now)}
            )
            if state.next_run_at > now:
                continue
            advanced = ScheduledJobState.objects.filter(
                name=job.name, next_run_at=state.next_run_at
            ).update(next_run_at=job.next_after(now), last_fired_at=now, fired_count=state.fired_count + 1)
            if advanced:
                job.task.enqueue()
                fired.append(job.name)
        return fired

    def tick(self, now: dt.datetime | None = None) -> list[str]:
        now = now or timezone.now()
        if not self.try_lead(now):
            return []
        return self.fire_due(now)

    def run_forever(self, stop: threading.Event) -> None:
        interval = settings.SIYU["SCHEDULER_TICK_SECONDS"]
        logger.info("scheduler %s started", self.holder)
        leading = False
        while not stop.is_set():
            close_old_connections()
            try:
                now = timezone.now()
                is_leader = self.try_lead(now)
                if is_leader != leading:
                    logger.info("scheduler %s %s", self.holder, "leads" if is_leader else "follows")
                    leading = is_leader
                if is_leader:
                    for name in self.fire_due(now):
                        logger.info("fired %s", name)
            except Exception:
                logger.exception("scheduler tick failed")
            stop.wait(interval)
        self.resign()
        logger.info("scheduler %s stopped", self.holder)


def _register_platform_jobs() -> None:
    from siyu.core.retention import prune_history
    from siyu.core.tasks import prune_finished_tasks, sweep

    register_job("core.sweep", "* * * * *", sweep)
    register_job("core.prune_finished_tasks", "30 3 * * *", prune_finished_tasks)
    register_job("core.prune_history", "40 3 * * *", prune_history)


_register_platform_jobs()
