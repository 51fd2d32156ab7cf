"""SOP background work: every minute, one sweep per brand with due or stranded step runs; every
five minutes, escalation of overdue staff tasks for each brand that has some, and the enrolment
of birthday and schedule SOPs whose time of day has come (idempotent per occurrence)."""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone
from django_tasks import task

from siyu.core.fanout import brands_of, for_each_brand, open_brand
from siyu.core.queue import enqueue
from siyu.core.schedule import register_job
from siyu.core.tenancy import workspace_context
from siyu.sop.models import (
    SCHEDULED_TRIGGERS,
    RunState,
    Sop,
    SopStatus,
    StaffTask,
    StepRun,
    TaskState,
)
from siyu.sop.services import LEASE, enrol_event_slice, enrol_scheduled, escalate_overdue, sweep

ENROL_TASK = "siyu.sop.tasks.enrol_event_audience"
SLICES_PER_TASK = 10  # then the task queues itself again, so one event never holds a worker for long


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


@task()
def escalate_brand(workspace_id: int) -> int:
    workspace = open_brand(workspace_id)
    if workspace is None:
        return 0
    with workspace_context(workspace):
        return escalate_overdue(workspace)


@task()
def escalate_due() -> int:
    # The same partial index the brand task walks (`staff_task_to_escalate`).
    overdue = StaffTask.unscoped.filter(escalated_at__isnull=True, state__in=[TaskState.OPEN, TaskState.SNOOZED],
                                        breach_at__lte=timezone.now())
    return for_each_brand(escalate_brand, brands_of(overdue))


register_job("sop.escalate", "*/5 * * * *", escalate_due)


@task()
def enrol_scheduled_brand(workspace_id: int) -> int:
    workspace = open_brand(workspace_id)
    if workspace is None:
        return 0
    with workspace_context(workspace):
        enrolled = enrol_scheduled(workspace)
        # A background event enrolment whose worker died: queued again (its cursor says where).
        for sop_id in Sop.unscoped.filter(workspace=workspace, enrol_cursor__isnull=False).values_list("pk", flat=True):
            enqueue(ENROL_TASK, workspace_id, sop_id)
        return enrolled


@task()
def enrol_scheduled_due() -> int:
    # Every five minutes rather than once a day: an SOP activated mid-morning still gets today's
    # occurrence, and a missed run is caught by the next (each occurrence is enrolled once).
    scheduled = Sop.unscoped.filter(Q(status=SopStatus.ACTIVE, trigger__in=SCHEDULED_TRIGGERS)
                                    | Q(enrol_cursor__isnull=False))
    return for_each_brand(enrol_scheduled_brand, brands_of(scheduled))


@task()
def enrol_event_audience(workspace_id: int, sop_id: int) -> int:
    """A large event audience (活动 SOP), enrolled in slices from the SOP's cursor; idempotent."""
    workspace = open_brand(workspace_id)
    if workspace is None:
        return 0
    with workspace_context(workspace):
        for done in range(1, SLICES_PER_TASK + 1):
            if not enrol_event_slice(workspace, sop_id):
                return done
        enqueue(ENROL_TASK, workspace_id, sop_id)
        return SLICES_PER_TASK


register_job("sop.schedules", "*/5 * * * *", enrol_scheduled_due)
