"""Background work of the connector: turning stored callbacks into domain events, and pruning
the old callbacks and API-call logs (see `core.retention`)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from django.conf import settings
from django.db.models import Count, QuerySet
from django.utils import timezone
from django_tasks import task

from siyu.core import retention
from siyu.core.schedule import register_job
from siyu.wecom.services import drain, requeue_unprocessed


# Ahead of subscriber runs: a callback must become an event before anything (a welcome message
# with WeCom's 20 s window, WECOM.md §3) can react to it.
@task(priority=60)
def drain_inbox() -> int:
    return drain()


@task()
def sweep_inbox() -> int:
    return requeue_unprocessed()


register_job("wecom.sweep_inbox", "* * * * *", sweep_inbox)


@task()
def prune_history(batch_size: int = retention.BATCH_SIZE) -> dict[str, int]:
    """Nightly: delete processed callbacks older than `SIYU_RETAIN_EVENTS_DAYS`, failed and
    unknown ones older than `SIYU_RETAIN_FAILED_EVENTS_DAYS`, refused callbacks older than
    `SIYU_RETAIN_REJECTIONS_DAYS` or beyond a brand's newest `SIYU_RETAIN_REJECTIONS_MAX_ROWS`,
    and API-call logs older than `SIYU_RETAIN_API_CALLS_DAYS`, in short batches. A callback not
    yet processed is never deleted."""
    from siyu.wecom.models import ApiCall, InboundEvent, InboundStatus

    limits = retention.cutoffs()
    prunable: list[QuerySet[Any]] = []
    if limits.events is not None:
        prunable.append(InboundEvent.unscoped.filter(status=InboundStatus.PROCESSED, received_at__lt=limits.events))
    if limits.failed is not None:
        prunable.append(InboundEvent.unscoped.filter(
            status__in=[InboundStatus.FAILED, InboundStatus.UNKNOWN], received_at__lt=limits.failed))
    prunable += _prunable_rejections()
    if limits.api_calls is not None:
        prunable.append(ApiCall.unscoped.filter(at__lt=limits.api_calls))
    deleted: Counter[str] = Counter()
    for queryset in prunable:
        deleted += retention.delete_in_batches(queryset, batch_size)
    return dict(deleted)


def _prunable_rejections() -> list[QuerySet[Any]]:
    """Refused callbacks past their age, and each brand's beyond its newest `max_rows`."""
    from siyu.wecom.models import CallbackRejection

    days, max_rows = settings.SIYU["RETAIN_REJECTIONS_DAYS"], settings.SIYU["RETAIN_REJECTIONS_MAX_ROWS"]
    prunable: list[QuerySet[Any]] = []
    if days > 0:
        prunable.append(CallbackRejection.unscoped.filter(at__lt=timezone.now() - dt.timedelta(days=days)))
    if max_rows > 0:
        # Only brands over the cap (a flood), so one grouped query and a query per such brand.
        flooded = (CallbackRejection.unscoped.order_by().values("workspace_id").annotate(rows=Count("id"))
                   .filter(rows__gt=max_rows).values_list("workspace_id", flat=True))
        for workspace_id in flooded:
            rows = CallbackRejection.unscoped.filter(workspace_id=workspace_id)
            oldest_kept = rows.order_by("-id").values_list("id", flat=True)[max_rows - 1]
            prunable.append(rows.filter(id__lt=oldest_kept))
    return prunable


register_job("wecom.prune_history", "50 3 * * *", prune_history)
