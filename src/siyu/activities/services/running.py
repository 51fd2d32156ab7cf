"""执行 — an activity's state (planned → running → done | cancelled) and its run sheet's
checklist, ticked by staff. Each move is a conditional UPDATE on the state it leaves, so two
clicks (or two people) move it once."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from siyu.activities.models import Activity, ActivityStatus, RunItem
from siyu.activities.services.common import MODULE, SUBJECT, require_edit
from siyu.activities.services.plans import refresh_groups
from siyu.core.auditing import audit_change, change
from siyu.core.models import AuditAction, Workspace
from siyu.core.permissions import Seat

MOVES: dict[str, tuple[str, ...]] = {  # to: the states it may come from
    ActivityStatus.RUNNING: (ActivityStatus.PLANNED,),
    ActivityStatus.DONE: (ActivityStatus.RUNNING,),
    ActivityStatus.CANCELLED: (ActivityStatus.PLANNED, ActivityStatus.RUNNING),
}


def move(workspace: Workspace, membership: Seat | None, activity_id: int, to: str,
         now: dt.datetime | None = None) -> Activity:
    """Start, finish or cancel. Starting re-resolves the audience's groups (those of a type or
    label may have changed since the plan); the window's numbers then count those groups."""
    require_edit(membership)
    now = now or timezone.now()
    activity = Activity.objects.for_workspace(workspace).get(pk=activity_id)
    if to not in MOVES:
        raise ValidationError(_("Unknown state."))
    stamp = {"started_at": now} if to == ActivityStatus.RUNNING else {"finished_at": now}
    with transaction.atomic():
        moved = (Activity.objects.for_workspace(workspace).filter(pk=activity.pk, status__in=MOVES[to])
                 .update(status=to, updated_at=now, **stamp))
        if not moved:
            raise ValidationError(_("This activity is %(status)s: it cannot become %(to)s.") % {
                "status": activity.get_status_display(), "to": ActivityStatus(to).label})
        if to == ActivityStatus.RUNNING:
            refresh_groups(workspace, activity)
        audit_change(workspace, membership, AuditAction.UPDATED, module=MODULE, subject=SUBJECT, name=activity.name,
                     changes=[change(_("Status"), activity.get_status_display(), ActivityStatus(to).label)],
                     data={"activity": activity.pk})
    activity.refresh_from_db()
    return activity


def tick(workspace: Workspace, membership: Seat | None, activity_id: int, item_id: int, done: bool,
         now: dt.datetime | None = None) -> RunItem:
    """Tick (or untick) a run sheet item of a running activity, recording who and when. Ticking
    a ticked item keeps the first tick."""
    require_edit(membership)
    item = RunItem.objects.for_workspace(workspace).select_related("activity").get(pk=item_id, activity_id=activity_id)
    if item.activity.status != ActivityStatus.RUNNING:
        raise ValidationError(_("The checklist is ticked while the activity runs."))
    rows = RunItem.objects.for_workspace(workspace).filter(pk=item.pk)
    if done:
        rows.filter(done_at__isnull=True).update(done_at=now or timezone.now(), done_by=getattr(membership, "user", None))
    else:
        rows.update(done_at=None, done_by=None)
    item.refresh_from_db()
    return item
