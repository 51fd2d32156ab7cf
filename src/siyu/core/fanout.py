"""Cron work that grows with brands: one task per brand per slot, never one task for all brands.

A brand-wide cron job is two tasks. The per-brand task takes the brand's id (and, when its
work is sliced, a cursor): it does one bounded slice of that brand's work and, if more is left,
enqueues itself with the cursor of the next slice. The cron task the scheduler fires only fans
out, with `for_each_brand`:

    @task()
    def route_codes_brand(workspace_id: int) -> dict[str, int]:
        workspace = open_brand(workspace_id)
        if workspace is None:
            return {}
        with workspace_context(workspace):
            ...

    @task()
    def route_codes() -> int:
        return for_each_brand(route_codes_brand, brands_of(ChannelCode.unscoped.filter(active=True)))

    register_job("channels.route_codes", "* * * * *", route_codes)

So one slow or failing brand holds one worker for one slice and shows as its own failed task,
and the others run in parallel. A slot fires once (see `schedule`); a brand whose task of the
same job is still queued or running (the previous slot's, or a slice chain under way) is not
enqueued again, so the queue does not grow when workers fall behind, and a fan-out task run
twice enqueues each brand once. Per-brand work must still be idempotent: a brand's task that
runs twice anyway (a worker killed mid-task, its task re-queued) changes nothing the first run
did not.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet
from django_tasks.base import Task, TaskResultStatus
from django_tasks_db.models import DBTaskResult

from siyu.core.models import Workspace


def brands_of(queryset: QuerySet[Any]) -> QuerySet[Any]:
    """The ids of the brands that own rows of `queryset` (an `unscoped` one), as a subquery."""
    return queryset.values("workspace_id").distinct().order_by()


def busy_brands(brand_task: Task) -> set[int]:
    """Brands with a task of `brand_task` still queued or running."""
    rows = DBTaskResult.objects.filter(
        task_path=brand_task.module_path, status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING]
    ).values_list("args_kwargs", flat=True)
    busy = set()
    for args_kwargs in rows:
        args, kwargs = args_kwargs.get("args") or [], args_kwargs.get("kwargs") or {}
        workspace_id = args[0] if args else kwargs.get("workspace_id")
        if workspace_id is not None:
            busy.add(int(workspace_id))
    return busy


def for_each_brand(brand_task: Task, workspace_ids: Iterable[int] | QuerySet[Any] | None = None) -> int:
    """Enqueue `brand_task(workspace_id)` once for each brand of `workspace_ids` (every brand
    when None), skipping brands deleted meanwhile and brands whose task of this job is still
    queued or running. Returns how many were enqueued."""
    brands = Workspace.objects.all()
    if workspace_ids is not None:
        brands = brands.filter(pk__in=workspace_ids)
    busy = busy_brands(brand_task)
    ids = [pk for pk in brands.order_by("pk").values_list("pk", flat=True) if pk not in busy]
    for workspace_id in ids:
        brand_task.enqueue(workspace_id)
    return len(ids)


def open_brand(workspace_id: int) -> Workspace | None:
    """The brand a per-brand task works on; None when it was deleted after its slot fired."""
    return Workspace.objects.filter(pk=workspace_id).first()
