"""Telling people about staff tasks (任务提醒): a card to the assignee's WeCom when a task is made
(应用消息, queued through messaging's paced outbox), and a console notification to the brand's ops
leads when a task is still open past its SLA (超时升级), once per task."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from siyu.accounts.models import StaffAccount
from siyu.core.auditing import audit_change, fact
from siyu.core.models import AuditAction, Workspace
from siyu.core.notifications import Notice, leads_of, notify_many
from siyu.messaging import services as messaging
from siyu.sop.models import StaffTask, TaskState

NOTICE_SOURCE = "sop-task"
ESCALATION_KIND = "sop.task_overdue"
ESCALATE_SLICE = 500  # overdue tasks escalated per look at the index


def today_url() -> str:
    return settings.SIYU_PUBLIC_URL + reverse("sop:today")


def tell_assignees(workspace: Workspace, tasks: Iterable[StaffTask], now: dt.datetime) -> int:
    """One card per task to its assignee's WeCom, linking to the today view; ref the task id, so a
    repeat queues nothing. Returns how many were queued."""
    queued = 0
    for task in tasks:
        if task.assignee_id is None:
            continue  # no friendship left to say whose it is: the editors' today view still shows it
        queued += messaging.notify_staff(
            workspace, accounts=[StaffAccount(pk=task.assignee_id, workspace_id=workspace.pk)],
            source=NOTICE_SOURCE, ref=str(task.pk), now=now, title=_("A new task for you"),
            text=_("%(kind)s: %(text)s") % {"kind": task.get_kind_display(), "text": task.text or "—"},
            url=today_url())
    return queued


def overdue(workspace: Workspace, now: dt.datetime) -> list[StaffTask]:
    """Tasks still to do past their SLA and not yet escalated (the `staff_task_to_escalate` index)."""
    return list(StaffTask.unscoped.filter(workspace=workspace, escalated_at__isnull=True,
                                          state__in=[TaskState.OPEN, TaskState.SNOOZED], breach_at__lte=now)
                .select_related("customer", "assignee").order_by("breach_at", "pk")[:ESCALATE_SLICE])


def escalate_overdue(workspace: Workspace, now: dt.datetime | None = None) -> int:
    """Tell the brand's ops leads (or admins) about each overdue task, once: the task is marked by
    a conditional UPDATE in the transaction that writes the notifications. Returns how many."""
    now = now or timezone.now()
    escalated = 0
    while tasks := overdue(workspace, now):
        leads = leads_of(workspace)
        for task in tasks:
            with transaction.atomic():
                if not StaffTask.unscoped.filter(pk=task.pk, escalated_at__isnull=True).update(escalated_at=now):
                    continue  # another job got it first
                notify_many(workspace, leads, Notice(
                    ESCALATION_KIND, gettext_noop("Task overdue: %(customer)s"),
                    gettext_noop("%(assignee)s has not done “%(text)s” within %(sla)s hours."),
                    reverse("sop:today") + "?all=1", f"sop-task-overdue:{task.pk}",
                    {"customer": str(task.customer or task.subject), "assignee": str(task.assignee or "—"),
                     "text": task.text[:80], "sla": task.sla_hours}))
                escalated += 1
        if len(tasks) < ESCALATE_SLICE:
            break
    if escalated:
        audit_change(workspace, None, AuditAction.UPDATED, module="sop", subject=gettext_lazy("overdue tasks"),
                     name=_("escalated to the ops leads"), facts=[fact(gettext_lazy("tasks"), escalated)],
                     data={"escalated": escalated})
    return escalated
