"""Enqueue a background task by its name.

A service enqueues its own app's tasks, and the tasks call the service: importing the task
module from the service would make an import cycle. So services name the task instead,
`enqueue("siyu.customers.tasks.run_customer_sync", workspace_id, sync_id)`, and the task is
looked up (`import_string`) only when it is enqueued.

By default the task is enqueued once the current transaction commits (`transaction.on_commit`),
so a worker never picks up work whose rows it cannot see yet; outside a transaction that is at
once. `on_commit=False` enqueues now and returns the task's result handle.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, overload

from django.db import transaction
from django.utils.module_loading import import_string
from django_tasks import TaskResult
from django_tasks.base import Task
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.compat import normalize_json


def task_named(name: str) -> Task[Any, Any]:
    """The task at this dotted path, e.g. "siyu.wecom.tasks.drain_inbox"."""
    found = import_string(name)
    if not isinstance(found, Task):
        raise TypeError(f"{name} is not a task (decorate it with django_tasks.task)")
    return found


@overload
def enqueue(
    name: str,
    *args: Any,
    run_after: dt.datetime | None = ...,
    priority: int | None = ...,
    on_commit: Literal[True] = ...,
    **kwargs: Any,
) -> None: ...


@overload
def enqueue(
    name: str,
    *args: Any,
    run_after: dt.datetime | None = ...,
    priority: int | None = ...,
    on_commit: Literal[False],
    **kwargs: Any,
) -> TaskResult[Any]: ...


def enqueue(
    name: str,
    *args: Any,
    run_after: dt.datetime | None = None,
    priority: int | None = None,
    on_commit: bool = True,
    **kwargs: Any,
) -> TaskResult[Any] | None:
    """Enqueue the task named `name` with these arguments: after the current transaction
    commits (None is returned), or now with `on_commit=False` (its result is returned).
    `run_after` and `priority` override the task's defaults when given. The name is looked up
    at once, so a wrong one fails in the caller, not after the commit."""
    task = task_named(name)
    if run_after is not None or priority is not None:
        task = task.using(run_after=run_after, priority=priority)
    if on_commit:
        transaction.on_commit(lambda: task.enqueue(*args, **kwargs))
        return None
    return task.enqueue(*args, **kwargs)


@dataclass(frozen=True)
class Call:
    """One enqueue of a task in `enqueue_many`; `id` lets the caller record the task's id first."""

    args: tuple[Any, ...]
    priority: int | None = None
    run_after: dt.datetime | None = None
    id: uuid.UUID = field(default_factory=uuid.uuid4)


def enqueue_many(name: str, calls: Sequence[Call]) -> None:
    """Enqueue the task named `name` once per call, now, in one INSERT: the inbox drain fans a
    batch of callbacks out into hundreds of subscriber runs, and a row-by-row enqueue cost more
    than the runs' own work (one round trip each)."""
    from django_tasks_db.models import (  # a model: not before the app registry
        DBTaskResult,
        get_date_max,
    )

    task = task_named(name)
    backend = task.get_backend()
    if not isinstance(backend, DatabaseBackend):
        for call in calls:
            task.using(run_after=call.run_after, priority=call.priority).enqueue(*call.args)
        return
    backend.validate_task(task)
    # What `DatabaseBackend.enqueue` writes, and its pre_save default for "no run_after".
    DBTaskResult.objects.bulk_create(
        DBTaskResult(
            id=call.id, args_kwargs=normalize_json({"args": list(call.args), "kwargs": {}}),
            priority=task.priority if call.priority is None else call.priority, task_path=task.module_path,
            queue_name=task.queue_name, run_after=call.run_after or get_date_max(), backend_name=backend.alias,
        )
        for call in calls
    )
