"""复盘 — a finished activity's review: targets against the actuals computed from the data
(`numbers`), what worked and what did not, and short lessons that the next plan of the same type
shows. Exported to Excel with every number the page shows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from siyu.activities.models import Activity, ActivityStatus, Lesson
from siyu.activities.services.common import MODULE, SUBJECT, require_edit
from siyu.activities.services.numbers import numbers_by_group, numbers_of, review_rows
from siyu.activities.services.plans import MAX_LESSONS, format_offset, get_activity
from siyu.core.auditing import audit, audit_change, fact
from siyu.core.bounds import problem
from siyu.core.days import SHANGHAI
from siyu.core.exports import Sheet, xlsx_bytes
from siyu.core.models import AuditAction, Workspace
from siyu.core.permissions import Action, Seat, require, role_of

MAX_NOTE_CHARS = 2000
MAX_LESSON_CHARS = 200


def save_review(workspace: Workspace, membership: Seat | None, activity_id: int, *, worked: str, did_not_work: str,
                lessons: list[str], now: dt.datetime | None = None) -> Activity:
    """Write (or rewrite) the review of a finished activity."""
    require_edit(membership)
    activity = Activity.objects.for_workspace(workspace).get(pk=activity_id)
    kept = [text.strip() for text in lessons if text.strip()]
    errors: dict[str, list[str]] = {}
    if activity.status != ActivityStatus.DONE:
        errors["__all__"] = [_("An activity is reviewed once it is done.")]
    for name, text in (("worked", worked), ("did_not_work", did_not_work)):
        if len(text) > MAX_NOTE_CHARS:
            errors[name] = [_("At most %(n)d characters.") % {"n": MAX_NOTE_CHARS}]
    bad_text = next((why for text in (worked, did_not_work, *kept) if (why := problem(text)) is not None), None)
    if bad_text is not None:
        errors.setdefault("__all__", []).append(bad_text)
    if len(kept) > MAX_LESSONS:
        errors["lessons"] = [_("At most %(n)d lessons: keep the ones worth carrying forward.") % {"n": MAX_LESSONS}]
    elif any(len(text) > MAX_LESSON_CHARS for text in kept):
        errors["lessons"] = [_("A lesson is short: at most %(n)d characters.") % {"n": MAX_LESSON_CHARS}]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        activity.worked, activity.did_not_work = worked.strip(), did_not_work.strip()
        activity.reviewed_at = now or timezone.now()
        activity.reviewed_by = getattr(membership, "user", None)
        activity.save(update_fields=["worked", "did_not_work", "reviewed_at", "reviewed_by", "updated_at"])
        Lesson.objects.for_workspace(workspace).filter(activity=activity).delete()
        Lesson.unscoped.bulk_create([Lesson(workspace=workspace, activity=activity, order=n, text=text)
                                     for n, text in enumerate(kept)])
        audit_change(workspace, membership, AuditAction.UPDATED, module=MODULE, subject=SUBJECT, name=activity.name,
                     facts=[fact(_("Lessons"), len(kept))], data={"activity": activity.pk, "review": True})
    return activity


@dataclass(frozen=True)
class Export:
    filename: str
    content: bytes


def _local(moment: dt.datetime | None) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if moment else ""


def export_review(workspace: Workspace, membership: Seat | None, activity_id: int, *, ip_address: str | None = None,
                  now: dt.datetime | None = None) -> Export:
    """The review as .xlsx (targets and actuals, each group, the run sheet, the budget, the
    notes), audit-logged as an export."""
    require(role_of(membership), MODULE, Action.EXPORT)
    activity = get_activity(workspace, membership, activity_id)
    numbers = numbers_of(workspace, activity, now)
    rows: list[list[Any]] = [[_("Number"), _("Target"), _("Actual"), _("Attainment")]]
    rows += [[r.label, r.target, r.actual, r.attainment] for r in review_rows(activity, numbers)]
    if numbers is not None:
        rows += [[_("Leaves"), None, numbers.leaves, None], [_("Net joins"), None, numbers.net, None]]
    groups: list[list[Any]] = [[_("Group"), _("Members"), _("Joins"), _("Leaves"), _("Net joins"), _("Messages")]]
    groups += [[g.group.name or g.group.chat_id, g.group.member_count, g.joins, g.leaves, g.net, g.messages]
               for g in numbers_by_group(workspace, activity, now)]
    sheet: list[list[Any]] = [[_("Time"), _("From the start"), _("Item"), _("Owner"), _("Done at"), _("Done by")]]
    sheet += [[_local(activity.starts_at + dt.timedelta(minutes=i.offset_minutes)), format_offset(i.offset_minutes),
               i.title, (i.owner.name or i.owner.userid) if i.owner else "", _local(i.done_at),
               i.done_by.get_username() if i.done_by else ""] for i in activity.run_items.all()]
    budget: list[list[Any]] = [[_("Item"), _("Amount (yuan)")]]
    budget += [[b.item, b.amount] for b in activity.budget_lines.all()]
    budget += [[pgettext("budget", "Total budget"), activity.budget]]
    notes: list[list[Any]] = [
        [pgettext("activity", "Name"), activity.name], [pgettext("activity", "Type"), activity.get_type_display()],
        [_("Status"), activity.get_status_display()],
        [_("Window"), f"{_local(activity.starts_at)} – {_local(activity.ends_at)} (Asia/Shanghai)"],
        [pgettext("activity", "Goal"), activity.goal], [_("What worked"), activity.worked],
        [_("What did not work"), activity.did_not_work],
        *[[_("Lesson"), lesson.text] for lesson in activity.lessons.all()],
        [_("Counted"), _("Joins and leaves from the groups' members; messages from WeCom's daily group statistics; "
                         "check-ins and conversions (rewards redeemed) by the audience, in the window.")],
        [_("Generated at"), _local(now or timezone.now())]]
    content = xlsx_bytes([
        Sheet(_("Review"), rows, widths=[18, 12, 12, 12], number_formats={3: "0.0%"}),
        Sheet(_("Groups"), groups, widths=[30, 10, 10, 10, 10, 10]),
        Sheet(_("Run sheet"), sheet, widths=[18, 12, 50, 16, 18, 16]),
        Sheet(_("Budget"), budget, widths=[30, 14], number_formats={1: "0.00"}),
        Sheet(_("Notes"), notes, header=False, widths=[18, 100]),
    ])
    audit(workspace, membership, AuditAction.EXPORT, f"activity {activity.pk} review",
          {"activity": activity.pk, "rows": len(rows) - 1}, ip_address, module=MODULE)
    return Export(f"activity-{activity.pk}-review.xlsx", content)
