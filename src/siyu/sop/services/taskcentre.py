"""任务中心 — the staff task centre: a member's tasks for today, and doing, snoozing or skipping
them. Roles: the `sop` column's view lets a member work on tasks assigned to them; edit lets
them act on any task of the brand."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from siyu.core.auditing import audit
from siyu.core.models import AuditAction, Workspace
from siyu.core.permissions import Action, Seat, allows, require, role_of
from siyu.sop.models import StaffTask, TaskState
from siyu.sop.services.calendar import SHANGHAI

SNOOZE_HOURS = (1, 3, 24)


def today_tasks(workspace: Workspace, membership: Seat | None, now: dt.datetime | None = None,
                *, everyone: bool = False) -> QuerySet[StaffTask]:
    """Open tasks due by the end of today (Asia/Shanghai) and snoozed ones whose time came back,
    the member's own (or the brand's, for an editor asking for everyone's)."""
    require(role_of(membership), "sop", Action.VIEW)
    now = now or timezone.now()
    end = dt.datetime.combine(now.astimezone(SHANGHAI).date() + dt.timedelta(days=1), dt.time(0), SHANGHAI)
    tasks = StaffTask.objects.for_workspace(workspace).filter(
        Q(state=TaskState.OPEN, due_at__lt=end) | Q(state=TaskState.SNOOZED, snoozed_until__lte=now))
    if not (everyone and allows(role_of(membership) or "", "sop", Action.EDIT)):
        tasks = tasks.filter(operator_id=getattr(membership, "pk", None))
    return tasks.select_related("customer", "assignee").order_by("-priority", "due_at", "pk")


def _task(workspace: Workspace, membership: Seat | None, task_id: int) -> StaffTask:
    require(role_of(membership), "sop", Action.VIEW)
    task = StaffTask.objects.for_workspace(workspace).select_for_update().get(pk=task_id)
    if task.operator_id != getattr(membership, "pk", None) and not allows(role_of(membership) or "", "sop", Action.EDIT):
        raise PermissionDenied(_("This task is assigned to someone else."))
    if task.state in (TaskState.DONE, TaskState.SKIPPED):
        raise ValidationError(_("This task is already closed."))
    return task


def _record(workspace: Workspace, membership: Seat | None, task: StaffTask, what: str) -> None:
    audit(workspace, membership, AuditAction.UPDATED, target=f"task {task.pk}",
          detail={"task": task.pk, "state": what, "ref": task.ref}, module="sop")


def complete_task(workspace: Workspace, membership: Seat | None, task_id: int, outcome: str) -> StaffTask:
    """Done, with what happened (for a 1:1 send: sent, or why not)."""
    outcome = outcome.strip()
    if not outcome:
        raise ValidationError({"outcome": [_("Say what happened.")]})
    with transaction.atomic():
        task = _task(workspace, membership, task_id)
        task.state, task.outcome, task.done_at = TaskState.DONE, outcome[:300], timezone.now()
        task.save(update_fields=["state", "outcome", "done_at"])
        _record(workspace, membership, task, "done")
    return task


def snooze_task(workspace: Workspace, membership: Seat | None, task_id: int, hours: int) -> StaffTask:
    if hours not in SNOOZE_HOURS:
        raise ValidationError({"hours": [_("Snooze for 1, 3 or 24 hours.")]})
    with transaction.atomic():
        task = _task(workspace, membership, task_id)
        task.state, task.snoozed_until = TaskState.SNOOZED, timezone.now() + dt.timedelta(hours=hours)
        task.save(update_fields=["state", "snoozed_until"])
        _record(workspace, membership, task, "snoozed")
    return task


def skip_task(workspace: Workspace, membership: Seat | None, task_id: int, reason: str) -> StaffTask:
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why the task is skipped.")]})
    with transaction.atomic():
        task = _task(workspace, membership, task_id)
        task.state, task.reason, task.done_at = TaskState.SKIPPED, reason[:120], timezone.now()
        task.save(update_fields=["state", "reason", "done_at"])
        _record(workspace, membership, task, "skipped")
    return task
