"""What the moderation services share: the module they answer to, and tasks for group owners."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext

from siyu.community.models import CustomerGroup
from siyu.core.models import Workspace
from siyu.core.permissions import Action, Seat, allows, require, role_of
from siyu.sop.models import StaffTask, TaskKind, TaskPriority
from siyu.sop.services import tell_assignees

MODULE = "community"  # moderation pages are a section of 社群 and answer to its column
SOURCE = "moderation"  # StaffTask.source
REMOVAL_KIND: str = TaskKind.REMOVE
REMOVAL_SLA_HOURS = 4
NOTICE_SLA_HOURS = 24


def worded(msgid: str, **params: Any) -> str:
    """A task's text in the console's language (staff read it there and in the sidebar)."""
    with translation.override(settings.LANGUAGE_CODE):
        return gettext(msgid) % params if params else gettext(msgid)


def owner_task(workspace: Workspace, group: CustomerGroup, *, ref: str, text: str, now: dt.datetime,
               kind: str = TaskKind.SEND, customer_id: int | None = None, sla_hours: int = REMOVAL_SLA_HOURS,
               priority: int = TaskPriority.HIGH, reason: str = "") -> StaffTask:
    """A task for the group's owner (the staff account; its operator sees it in the today view),
    once per `ref`: a repeat returns the task already made."""
    held = StaffTask.objects.for_workspace(workspace).filter(source=SOURCE, ref=ref).first()
    if held is not None:
        return held
    owner = group.owner
    task = StaffTask(workspace=workspace, assignee=owner, operator_id=owner.operator_id if owner else None,
                     customer_id=customer_id, group_id=group.pk, subject=(group.name or group.chat_id)[:200],
                     kind=kind, text=text, due_at=now, sla_hours=sla_hours,
                     breach_at=now + dt.timedelta(hours=sla_hours), priority=priority, reason=reason[:120],
                     source=SOURCE, ref=ref[:64])
    with transaction.atomic():
        StaffTask.unscoped.bulk_create([task], ignore_conflicts=True)
        task = StaffTask.objects.for_workspace(workspace).get(source=SOURCE, ref=ref[:64])
        tell_assignees(workspace, [task], now)
    return task


def require_view(membership: Seat | None) -> None:
    require(role_of(membership), MODULE, Action.VIEW)


def require_edit(membership: Seat | None) -> None:
    require(role_of(membership), MODULE, Action.EDIT)


def can_edit(membership: Seat | None) -> bool:
    return allows(role_of(membership) or "", MODULE, Action.EDIT)
