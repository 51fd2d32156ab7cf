"""The domain event bus.

Apps declare typed events (pydantic models) and subscribe handlers to them. `publish` stores
the event and one `SubscriberRun` per subscriber in the caller's transaction and enqueues each
run after commit; a worker runs each subscriber on its own, with its own attempts, backoff and
visible error. A handler may see the same event again after a crash (at-least-once), so
handlers are written to be idempotent.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from pydantic import BaseModel, ConfigDict

from siyu.core.queue import Call, enqueue, enqueue_many

if TYPE_CHECKING:
    from siyu.core.models import EventRecord, SubscriberRun, Workspace

logger = logging.getLogger("siyu.events")


class DomainEvent(BaseModel):
    """Base of every typed domain event. Subclasses set `name` ("app.what_happened")."""

    model_config = ConfigDict(frozen=True)
    name: ClassVar[str]
    registry: ClassVar[dict[str, type[DomainEvent]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            DomainEvent.registry[cls.name] = cls


E = TypeVar("E", bound=DomainEvent)
# (workspace, event, record), or (workspace, [(event, record), ...]) for a batch subscriber
Handler = Callable[..., None]


@dataclass(frozen=True)
class Subscriber:
    name: str
    event_name: str
    handler: Handler
    max_attempts: int
    priority: int = 0
    batch: bool = False


_subscribers: dict[str, list[Subscriber]] = {}
RUN_TASK = "siyu.core.tasks.run_subscriber"
BATCH_TASK = "siyu.core.tasks.run_subscriber_batch"


def subscribe(
    event_type: type[E], *, max_attempts: int | None = None, priority: int = 0, batch: bool = False
) -> Callable[[Handler], Handler]:
    """Register `handler(workspace, event, record)` for an event type; its name is its import path.

    A higher `priority` (-100..100) is run first by the workers: for work with a deadline, such as
    a welcome message that WeCom accepts only within 20 s, ahead of bookkeeping.

    With `batch`, the handler is `handler(workspace, [(event, record), ...])` and gets the runs of
    one publication batch (an inbox drain: up to a hundred callbacks) in one task, so the work
    per event is not dwarfed by the cost of a task. It is not wrapped in a transaction: it
    commits as it goes, and must be idempotent per event like any handler. A batch that raises
    is retried event by event (a list of one)."""

    def register(handler: Handler) -> Handler:
        name = f"{handler.__module__}.{handler.__qualname__}"
        attempts = max_attempts or settings.SIYU["EVENT_MAX_ATTEMPTS"]
        subscribers = _subscribers.setdefault(event_type.name, [])
        subscribers[:] = [s for s in subscribers if s.name != name]
        subscribers.append(Subscriber(name, event_type.name, handler, attempts, priority, batch))
        return handler

    return register


def subscribers_of(event_name: str) -> list[Subscriber]:
    return list(_subscribers.get(event_name, []))


def find_subscriber(name: str) -> Subscriber | None:
    return next((s for subs in _subscribers.values() for s in subs if s.name == name), None)


@dataclass(frozen=True)
class Publication:
    event: DomainEvent
    dedupe_key: str | None = None
    occurred_at: dt.datetime | None = None


def publish(
    workspace: Workspace,
    event: DomainEvent,
    *,
    dedupe_key: str | None = None,
    occurred_at: dt.datetime | None = None,
) -> EventRecord:
    """Store the event and its subscriber runs; enqueue the runs once the transaction commits.

    With a `dedupe_key` already seen in this workspace, the stored event is returned and
    nothing runs again.
    """
    return publish_many(workspace, [Publication(event, dedupe_key, occurred_at)])[0]


def publish_many(workspace: Workspace, publications: list[Publication]) -> list[EventRecord]:
    """`publish` for a batch, in a handful of queries (the inbox drain publishes hundreds at once)."""
    from siyu.core.models import EventRecord, SubscriberRun

    now = timezone.now()
    keys = [p.dedupe_key for p in publications if p.dedupe_key is not None]
    with transaction.atomic():
        existing = (
            {r.dedupe_key: r for r in EventRecord.unscoped.filter(workspace=workspace, dedupe_key__in=keys)}
            if keys else {}
        )
        seen: dict[str | None, EventRecord] = dict(existing)
        new_records: list[EventRecord] = []
        results: list[EventRecord] = []
        for p in publications:
            if p.dedupe_key is not None and p.dedupe_key in seen:
                results.append(seen[p.dedupe_key])
                continue
            record = EventRecord(
                workspace=workspace, name=p.event.name, payload=p.event.model_dump(mode="json"),
                dedupe_key=p.dedupe_key, occurred_at=p.occurred_at or now,
                processed_at=None if subscribers_of(p.event.name) else now,  # nothing to wait for
            )
            new_records.append(record)
            results.append(record)
            if p.dedupe_key is not None:
                seen[p.dedupe_key] = record
        EventRecord.unscoped.bulk_create(new_records)
        planned: list[tuple[Subscriber, uuid.UUID, list[SubscriberRun]]] = []
        for subscriber, records in _fan_out(new_records):
            for group in [records] if subscriber.batch else [[r] for r in records]:
                task_id = uuid.uuid4()  # known before the task exists, so the runs name it at once
                planned.append((subscriber, task_id, [
                    SubscriberRun(workspace=workspace, event=record, subscriber=subscriber.name, due_at=now,
                                  task_id=str(task_id))
                    for record in group]))
        SubscriberRun.unscoped.bulk_create(run for _, _, runs in planned for run in runs)
        calls: dict[str, list[Call]] = {RUN_TASK: [], BATCH_TASK: []}
        for subscriber, task_id, runs in planned:
            if subscriber.batch:
                calls[BATCH_TASK].append(Call((subscriber.name, [r.pk for r in runs]), subscriber.priority, id=task_id))
            else:
                calls[RUN_TASK].append(Call((runs[0].pk, runs[0].generation), subscriber.priority, id=task_id))
        if planned:
            transaction.on_commit(lambda: _enqueue_all(calls))
        at_once = sum(1 for r in new_records if r.processed_at is not None)
        if at_once:  # events nobody subscribes to: rare, so counted in the publishing transaction
            _tally(workspace.pk, at_once)
    return results


def mark_processed(workspace_id: int, event_ids: list[int]) -> int:
    """Count the events among `event_ids` whose runs are now all done. Call it after the runs'
    DONE is committed: of two runs finishing at once, the later commit then sees both done,
    and the conditional UPDATE lets only one caller count the event."""
    from django.db.models import Exists, OuterRef

    from siyu.core.models import EventRecord, RunStatus, SubscriberRun

    unfinished = SubscriberRun.unscoped.filter(event=OuterRef("pk")).exclude(status=RunStatus.DONE)
    with transaction.atomic():
        claimed = (EventRecord.unscoped.filter(pk__in=event_ids, workspace_id=workspace_id, processed_at=None)
                   .filter(~Exists(unfinished)).update(processed_at=timezone.now()))
        if claimed:
            _tally(workspace_id, claimed)
    return claimed


def _tally(workspace_id: int, n: int) -> None:
    """Add `n` to the brand's processed count: one short UPDATE of one row, after the work's commit."""
    from django.db.models import F

    from siyu.core.models import EventTally

    with transaction.atomic():
        if not EventTally.unscoped.filter(workspace_id=workspace_id).update(processed=F("processed") + n):
            EventTally.unscoped.bulk_create([EventTally(workspace_id=workspace_id)], ignore_conflicts=True)
            EventTally.unscoped.filter(workspace_id=workspace_id).update(processed=F("processed") + n)


def _fan_out(records: list[EventRecord]) -> list[tuple[Subscriber, list[EventRecord]]]:
    """Each subscriber with the new events it must handle, in subscription order."""
    found: dict[str, tuple[Subscriber, list[EventRecord]]] = {}
    for record in records:
        for subscriber in subscribers_of(record.name):
            found.setdefault(subscriber.name, (subscriber, []))[1].append(record)
    return list(found.values())


def _enqueue_all(calls: dict[str, list[Call]]) -> None:
    # One INSERT per task kind, not two statements per run: an inbox batch fans out into hundreds
    # of runs. If this fails, `requeue_lost_runs` finds the runs' tasks missing.
    with transaction.atomic():
        for name, group in calls.items():
            if group:
                enqueue_many(name, group)


def enqueue_run(
    run_id: int, generation: int, *, run_after: dt.datetime | None = None, subscriber: str = ""
) -> None:
    from siyu.core.models import SubscriberRun

    found = find_subscriber(subscriber) if subscriber else None
    result = enqueue(RUN_TASK, run_id, generation, run_after=run_after,
                     priority=found.priority if found else 0, on_commit=False)
    SubscriberRun.unscoped.filter(pk=run_id, generation=generation).update(task_id=str(result.id))


def decode(record: EventRecord) -> DomainEvent:
    event_type = DomainEvent.registry.get(record.name)
    if event_type is None:
        raise LookupError(f"no event type named {record.name!r}")
    return event_type.model_validate(record.payload)


def backoff(attempt: int) -> dt.timedelta:
    """Seconds before retry N: 2, 8, 32, ... capped at one hour."""
    return dt.timedelta(seconds=min(2 * 4 ** (attempt - 1), 3600))


def retry_run(run: SubscriberRun) -> None:
    """Queue a run again now (operator's retry, or a sweep that found its task gone)."""
    from siyu.core.models import RunStatus, SubscriberRun

    generation = run.generation + 1
    with transaction.atomic():
        updated = SubscriberRun.unscoped.filter(pk=run.pk, generation=run.generation).update(
            generation=generation, status=RunStatus.PENDING, due_at=timezone.now(), task_id=""
        )
        if updated:
            transaction.on_commit(lambda: enqueue_run(run.pk, generation, subscriber=run.subscriber))
