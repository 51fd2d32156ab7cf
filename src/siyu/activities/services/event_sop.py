"""活动 SOP from the run sheet — a draft event SOP (sop app) whose mass messages are the run
sheet's messages, each at its item's time around the activity's start. The SOP engine enrols an
event's audience by segment or tag (not by group), so the plan needs a segment; the SOP is left a
draft for the operator to check and activate in the SOP pages, and is linked to the activity."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from siyu.activities.models import Activity, ActivityStatus, RunItem
from siyu.activities.services.common import require_edit
from siyu.core.days import SHANGHAI, local_day
from siyu.core.models import Workspace
from siyu.core.permissions import Seat
from siyu.sop.models import Sop, SopKind, StepChannel
from siyu.sop.services import SopInput, StepInput, create_sop


def create_event_sop(workspace: Workspace, membership: Seat | None, activity_id: int) -> Sop:
    """Make and link the draft event SOP; the sop column's edit right is checked by `create_sop`."""
    require_edit(membership)
    activity = Activity.objects.for_workspace(workspace).get(pk=activity_id)
    items = [i for i in RunItem.objects.for_workspace(workspace).filter(activity=activity).order_by("order")
             if i.message.strip()]
    problems = []
    if activity.status not in (ActivityStatus.PLANNED, ActivityStatus.RUNNING):
        problems.append(_("This activity is over: it needs no event SOP now."))
    if activity.sop_id is not None:
        problems.append(_("This activity already has an event SOP."))
    if activity.segment_id is None:
        problems.append(_("An event SOP reaches its audience by a segment: give the plan a segment first."))
    if not items:
        problems.append(_("No run sheet item has a message for the audience."))
    if problems:
        raise ValidationError(problems)
    start = activity.starts_at.astimezone(SHANGHAI)
    steps = []
    for item in items:
        due = activity.starts_at + dt.timedelta(minutes=item.offset_minutes)
        local = due.astimezone(SHANGHAI)
        # An event step is "N days from the event's day, at a time of day" (sop: plan_runs).
        steps.append(StepInput(days=(local_day(due) - start.date()).days, at_time=local.time().replace(second=0, microsecond=0),
                               channel=StepChannel.MASS, text=item.message.strip()))
    with transaction.atomic():
        sop = create_sop(workspace, membership, SopInput(name=activity.name, kind=SopKind.EVENT,
                                                         event_at=activity.starts_at, segment_id=activity.segment_id,
                                                         working_days_only=False), steps)
        Activity.objects.for_workspace(workspace).filter(pk=activity.pk, sop__isnull=True).update(sop=sop)
    return sop
