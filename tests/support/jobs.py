"""Running the per-brand tasks of a fanned-out cron job (`siyu.core.fanout`) in the test's process."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django_tasks.base import Task
from django_tasks_db.models import DBTaskResult


def run_queued(*tasks: Task, limit: int = 1000) -> list[Any]:  # type: ignore[type-arg]
    """Run the queued tasks of `tasks` (and the slices they queue) one by one, as a worker
    would, until none is left; other queued tasks stay queued. Returns their return values,
    in the order they ran. A task that raises is marked failed and the error re-raised."""
    paths = [task.module_path for task in tasks]
    values: list[Any] = []
    for _ in range(limit):
        row = DBTaskResult.objects.ready().filter(task_path__in=paths).first()
        if row is None:
            return values
        row.claim("test")
        result = row.task_result
        try:
            value = row.task.call(*result.args, **result.kwargs)
        except Exception as exc:
            row.set_failed(exc)
            raise
        row.set_successful(value)
        values.append(value)
    raise AssertionError(f"still queued after {limit} tasks")


def summed(values: list[dict[str, int]]) -> dict[str, int]:
    """Per-brand totals added up."""
    total: Counter[str] = Counter()
    for value in values:
        total.update(value)
    return dict(total)
