"""Background jobs of the core: running subscribers, and the sweeps that keep work from being lost."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import traceback
from collections import Counter

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django_tasks import TaskContext, task
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from siyu.core import events
from siyu.core.models import RunStatus, SubscriberRun, WorkerHeartbeat
from siyu.core.tenancy import workspace_context

logger = logging.getLogger("siyu.tasks")


@task(takes_context=True)
def run_subscriber(context: TaskContext, run_id: int, generation: int) -> str:
    """Run one subscriber on one event. Claimed with a conditional UPDATE, so a stale or
    duplicate task (older generation, or a run already done) does nothing."""
    claimed = (
        SubscriberRun.unscoped.filter(pk=run_id, generation=generation)
        .exclude(status__in=[RunStatus.DONE, RunStatus.FAILED])
        .update(status=RunStatus.RUNNING, attempts=F("attempts") + 1, task_id=str(context.task_result.id))
    )
    if not claimed:
        return "skipped"
    run = SubscriberRun.unscoped.select_related("event", "workspace").get(pk=run_id)
    subscriber = events.find_subscriber(run.subscriber)
    try:
        if subscriber is None:
            raise LookupError(f"subscriber {run.subscriber!r} is not registered in this process")
        with workspace_context(run.workspace):
            if subscriber.batch:  # a batch handler commits as it goes (see `events.subscribe`)
                subscriber.handler(run.workspace, [(events.decode(run.event), run.event)])
                _finish([run])
            else:
                with transaction.atomic():
                    subscriber.handler(run.workspace, events.decode(run.event), run.event)
                    _finish([run])
        return "done"
    except Exception as exc:
        return _failed(run, subscriber, exc)


@task(takes_context=True)
def run_subscriber_batch(context: TaskContext, subscriber_name: str, run_ids: list[int]) -> str:
    """Run a batch subscriber on the events of one publication batch. Only the runs still
    assigned to this task are claimed: a run re-queued on its own (a retry, the sweep) is left to
    its own task. A batch that raises is retried run by run."""
    task_id = str(context.task_result.id)
    mine = SubscriberRun.unscoped.filter(pk__in=run_ids, task_id=task_id)
    mine.exclude(status__in=[RunStatus.DONE, RunStatus.FAILED]).update(
        status=RunStatus.RUNNING, attempts=F("attempts") + 1)
    runs = list(mine.filter(status=RunStatus.RUNNING).select_related("event", "workspace").order_by("id"))
    subscriber = events.find_subscriber(subscriber_name)
    by_workspace: dict[int, list[SubscriberRun]] = {}
    for run in runs:
        by_workspace.setdefault(run.workspace_id, []).append(run)
    outcomes: Counter[str] = Counter()
    for group in by_workspace.values():
        workspace = group[0].workspace
        try:
            if subscriber is None:
                raise LookupError(f"subscriber {subscriber_name!r} is not registered in this process")
            with workspace_context(workspace):
                subscriber.handler(workspace, [(events.decode(run.event), run.event) for run in group])
            _finish(group)
            outcomes["done"] += len(group)
        except Exception as exc:
            for run in group:
                outcomes[_failed(run, subscriber, exc)] += 1
    return ", ".join(f"{n} {outcome}" for outcome, n in sorted(outcomes.items())) or "skipped"


def _finish(runs: list[SubscriberRun]) -> None:
    SubscriberRun.unscoped.filter(pk__in=[r.pk for r in runs], status=RunStatus.RUNNING).update(
        status=RunStatus.DONE, finished_at=timezone.now(), last_error="")
    by_workspace: dict[int, list[int]] = {}
    for run in runs:
        by_workspace.setdefault(run.workspace_id, []).append(run.event_id)
    for workspace_id, event_ids in by_workspace.items():
        # After commit, so the last of an event's runs to finish sees all the others done.
        transaction.on_commit(functools.partial(events.mark_processed, workspace_id, event_ids))


def _failed(run: SubscriberRun, subscriber: events.Subscriber | None, exc: Exception) -> str:
    """Record a run's failure: retried with back-off while it has attempts left, else failed."""
    error = "".join(traceback.format_exception_only(exc)).strip() + "\n\n" + traceback.format_exc(limit=8)
    max_attempts = subscriber.max_attempts if subscriber else 1
    if run.attempts < max_attempts:
        retry_at = timezone.now() + events.backoff(run.attempts)
        next_generation = run.generation + 1
        SubscriberRun.unscoped.filter(pk=run.pk, generation=run.generation).update(
            status=RunStatus.RETRYING, last_error=error, due_at=retry_at, generation=next_generation, task_id=""
        )
        events.enqueue_run(run.pk, next_generation, run_after=retry_at, subscriber=run.subscriber)
        logger.warning("subscriber %s failed (attempt %s), retrying at %s", run.subscriber, run.attempts, retry_at)
        return "retrying"
    SubscriberRun.unscoped.filter(pk=run.pk, generation=run.generation).update(
        status=RunStatus.FAILED, last_error=error, finished_at=timezone.now()
    )
    logger.error("subscriber %s failed for good after %s attempts", run.subscriber, run.attempts)
    return "failed"


def requeue_orphaned_tasks(now: dt.datetime | None = None) -> int:
    """Put back in the queue every task left RUNNING by a worker that has died."""
    now = now or timezone.now()
    dead_before = now - dt.timedelta(seconds=settings.SIYU["WORKER_DEAD_AFTER_SECONDS"])
    alive = set(WorkerHeartbeat.objects.filter(last_seen__gte=dead_before).values_list("worker_id", flat=True))
    requeued = 0
    for result in DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).only("id", "worker_ids"):
        if result.worker_ids and result.worker_ids[-1] in alive:
            continue
        # Conditional on the same worker list, so a task claimed again meanwhile is left alone.
        requeued += DBTaskResult.objects.filter(
            pk=result.pk, status=TaskResultStatus.RUNNING, worker_ids=result.worker_ids
        ).update(status=TaskResultStatus.READY, started_at=None)
    if requeued:
        logger.warning("re-queued %s task(s) orphaned by dead workers", requeued)
    # Their tasks are back in the queue: dead workers leave the health picture. A worker that
    # was only paused beats again and comes back (its heartbeat is an upsert).
    WorkerHeartbeat.objects.filter(last_seen__lt=dead_before).delete()
    return requeued


def requeue_lost_runs(now: dt.datetime | None = None, grace: dt.timedelta = dt.timedelta(seconds=60)) -> int:
    """Re-enqueue subscriber runs whose task is gone: the after-commit enqueue was lost, or the
    task ended without settling the run."""
    now = now or timezone.now()
    stale = SubscriberRun.unscoped.filter(
        status__in=[RunStatus.PENDING, RunStatus.RETRYING, RunStatus.RUNNING], due_at__lt=now - grace
    )
    live_tasks = {
        str(pk)
        for pk in DBTaskResult.objects.filter(
            status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING]
        ).values_list("id", flat=True)
    }
    count = 0
    for run in stale.filter(Q(task_id="") | ~Q(task_id__in=live_tasks)).only("id", "generation"):
        events.retry_run(run)
        count += 1
    return count


@task()
def sweep() -> dict[str, int]:
    """The recovery sweep the scheduler fires every minute."""
    return {"orphaned_tasks": requeue_orphaned_tasks(), "lost_runs": requeue_lost_runs()}


@task()
def prune_finished_tasks(keep_days: int = 3) -> int:
    """Successful task results go after a few days: per-brand fan-out (`core.fanout`) writes one
    result per brand per cron slot (1,440 a day per brand for a job each minute)."""
    cutoff = timezone.now() - dt.timedelta(days=keep_days)
    deleted, _ = DBTaskResult.objects.filter(
        status__in=[TaskResultStatus.SUCCESSFUL], finished_at__lt=cutoff
    ).delete()
    return deleted
