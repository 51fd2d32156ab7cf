"""Retention: the nightly pruning of history that grows with traffic and time.

`core.prune_history` deletes domain events older than `SIYU_RETAIN_EVENTS_DAYS` whose
subscriber runs all finished, with those runs; an event with a failed run (an operator may retry
it) is kept for `SIYU_RETAIN_FAILED_EVENTS_DAYS`, and one with a run still to do (pending,
retrying, running) is never deleted. Apps prune their own tables with the same helpers (the
connector's callbacks and API-call log: `wecom.prune_history`), so core imports no app.

Rows go in primary-key chunks of `BATCH_SIZE`, each chunk one short transaction committed before
the next, so pruning a large backlog never holds a long lock; each chunk's DELETE re-checks the
conditions, so a row that changed since it was picked (a failed run retried) stays.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django_tasks import task

from siyu.core import lockout
from siyu.core.models import EventRecord, RunStatus, SubscriberRun

BATCH_SIZE = 2000
UNFINISHED = (RunStatus.PENDING, RunStatus.RETRYING, RunStatus.RUNNING)


@dataclass(frozen=True)
class Cutoffs:
    """Rows older than these go; None keeps them forever (a setting of 0 days)."""

    events: dt.datetime | None  # processed callbacks, events whose runs all finished
    failed: dt.datetime | None  # failed/unknown callbacks, events with a failed run
    api_calls: dt.datetime | None  # the outbound API-call log


def cutoffs(now: dt.datetime | None = None) -> Cutoffs:
    """From the settings. Failed rows are kept at least as long as the others."""
    now = now or timezone.now()
    events_days = settings.SIYU["RETAIN_EVENTS_DAYS"]
    failed_days = settings.SIYU["RETAIN_FAILED_EVENTS_DAYS"]
    api_days = settings.SIYU["RETAIN_API_CALLS_DAYS"]

    def before(days: int) -> dt.datetime | None:
        return now - dt.timedelta(days=days) if days > 0 else None

    keep_failed = 0 if events_days <= 0 or failed_days <= 0 else max(events_days, failed_days)
    return Cutoffs(before(events_days), before(keep_failed), before(api_days))


def delete_in_batches(queryset: QuerySet[Any], batch_size: int = BATCH_SIZE) -> Counter[str]:
    """Delete the rows of `queryset` (an `unscoped` one) in ascending primary-key chunks of
    `batch_size`, each in its own transaction. Returns the rows deleted per model label
    (cascaded rows included)."""
    deleted: Counter[str] = Counter()
    after: Any = None
    while True:
        page = queryset if after is None else queryset.filter(pk__gt=after)
        ids = list(page.order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            return deleted
        with transaction.atomic():
            _, per_model = queryset.filter(pk__in=ids).delete()
        deleted.update({label: count for label, count in per_model.items() if count})
        if len(ids) < batch_size:
            return deleted
        after = ids[-1]


def prunable_events(limits: Cutoffs) -> QuerySet[EventRecord]:
    """Domain events old enough to go: no run still to do, and no failed run unless the event
    is also past the failed rows' age."""
    if limits.events is None:
        return EventRecord.unscoped.none()
    runs = SubscriberRun.unscoped.filter(event=OuterRef("pk"))
    events = EventRecord.unscoped.filter(published_at__lt=limits.events).exclude(
        Exists(runs.filter(status__in=UNFINISHED))
    )
    failed = Exists(runs.filter(status=RunStatus.FAILED))
    if limits.failed is None:
        return events.exclude(failed)
    return events.filter(Q(published_at__lt=limits.failed) | ~failed)


def prune_events(now: dt.datetime | None = None, batch_size: int = BATCH_SIZE) -> dict[str, int]:
    """Delete the old domain events (and their runs) the settings let go."""
    return dict(delete_in_batches(prunable_events(cutoffs(now)), batch_size))


@task()
def prune_history(batch_size: int = BATCH_SIZE) -> dict[str, int]:
    """Nightly: prune old domain events and their subscriber runs (see the module docstring),
    and sign-in lockout counters whose window ran out."""
    pruned = prune_events(batch_size=batch_size)
    counters = lockout.prune_expired()
    return {**pruned, "core.SignInCounter": counters} if counters else pruned
