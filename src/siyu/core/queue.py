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
from typing import Any, Literal, overload

from django.db import transaction
from django.utils.module_loading import import_string
from django_tasks import TaskResult
from django_tasks.base import Task


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
