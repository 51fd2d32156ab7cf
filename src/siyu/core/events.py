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
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from pydantic import BaseModel, ConfigDict

from siyu.core.queue import enqueue

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
Handler = Callable[["Workspace", Any, "EventRecord"], None]


@dataclass(frozen=True)
class Subscriber:
    name: str
    event_name: str
    handler: Handler
    max_attempts: int
    priority: int = 0


_subscribers: dict[str, list[Subscriber]] = {}


def subscribe(
    event_type: type[E], *, max_attempts: int | None = None, priority: int = 0
) -> Callable[[Handler], Handler]:
    """Register `handler(workspace, event, record)` for an event type; its name is its import path.

    A higher `priority` (-100..100) is run first by the workers: for work with a deadline, such as
    a welcome message that WeCom accepts only within 20 s, ahead of bookkeeping."""

    def register(handler: Handler) -> Handler:
        name = f"{handler.__module__}.{handler.__qualname__}"
        attempts = max_attempts or settings.SIYU["EVENT_MAX_ATTEMPTS"]
        subscribers = _subscribers.setdefault(event_type.name, [])
        subscribers[:] = [s for s in subscribers if s.name != name]
        subscribers.append(Subscriber(name, event_type.name, handler, attempts, priority))
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
            )
            new_records.append(record)
            results.append(record)
            if p.dedupe_key is not None:
                seen[p.dedupe_key] = record
        EventRecord.unscoped.bulk_create(new_records)
        runs = SubscriberRun.unscoped.bulk_create(
            SubscriberRun(workspace=workspace, event=record, subscriber=s.name, due_at=now)
            for record in new_records
            for s in subscribers_of(record.name)
        )
        if runs:
            run_ids = [(run.pk, run.generation, run.subscriber) for run in runs]
            transaction.on_commit(lambda: _enqueue_all(run_ids))
    return results


def _enqueue_all(run_ids: list[tuple[int, int, str]]) -> None:
    # One commit for the event's tasks, not two per run: a commit is a disk flush, and an add
    # fans out into several runs. If this fails, `requeue_lost_runs` finds the runs taskless.
    with transaction.atomic():
        for run_id, generation, subscriber in run_ids:
            enqueue_run(run_id, generation, subscriber=subscriber)


def enqueue_run(
    run_id: int, generation: int, *, run_after: dt.datetime | None = None, subscriber: str = ""
) -> None:
    from siyu.core.models import SubscriberRun

    found = find_subscriber(subscriber) if subscriber else None
    result = enqueue("siyu.core.tasks.run_subscriber", run_id, generation, run_after=run_after,
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
