"""SOP background work: every minute, one sweep per brand with due or stranded step runs."""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone
from django_tasks import task

from siyu.core.fanout import brands_of, for_each_brand, open_brand
from siyu.core.schedule import register_job
from siyu.core.tenancy import workspace_context
from siyu.sop.models import RunState, StepRun
from siyu.sop.services import LEASE, sweep


@task()
def sweep_brand(workspace_id: int) -> dict[str, int]:
    workspace = open_brand(workspace_id)
    if workspace is None:
        return {}
    with workspace_context(workspace):
        return dict(sweep(workspace).counts)


@task()
def sweep_due() -> int:
    now = timezone.now()
    waiting = StepRun.unscoped.filter(Q(state=RunState.DUE, due_at__lte=now)
                                      | Q(state=RunState.CLAIMED, claimed_at__lt=now - LEASE))
    return for_each_brand(sweep_brand, brands_of(waiting))


register_job("sop.sweep", "* * * * *", sweep_due)
