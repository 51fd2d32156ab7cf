"""策划 — an activity's plan: goal as numbers, audience, window, roles, budget, run sheet and an
optional event SOP. Saving checks everything at once and explains each problem by its field; a
plan is edited while it is still planned (a running activity is ticked, not re-planned)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from siyu.accounts.models import StaffAccount
from siyu.activities.models import (
    Activity,
    ActivityGroup,
    ActivityRole,
    ActivityStatus,
    ActivityType,
    BudgetLine,
    Lesson,
    RunItem,
)
from siyu.activities.services.common import MODULE, SUBJECT, require_edit, require_view
from siyu.community.models import CustomerGroup, GroupType
from siyu.core.auditing import audit_change, fact
from siyu.core.bounds import problem
from siyu.core.models import AuditAction, Workspace
from siyu.core.permissions import Seat
from siyu.segments.models import Segment
from siyu.sop.models import Sop, SopKind, SopStatus

MAX_DAYS = 366  # an activity is a campaign, not a standing routine (those are SOPs)
MAX_OFFSET_DAYS = 60
MAX_TARGET = 10_000_000
MAX_BUDGET = Decimal("100000000")
MAX_ITEMS = 50
MAX_ROLES = 20
MAX_LINES = 30
MAX_LESSONS = 10
MAX_TAG_CHARS = 12
MAX_MESSAGE_CHARS = 1000
TARGETS = ("joins", "checkins", "messages", "conversions")
_OFFSET = re.compile(r"^(?P<sign>[-+])?\s*(?:(?P<d>\d+)\s*d)?\s*(?:(?P<h>\d+)\s*h)?\s*(?:(?P<m>\d+)\s*m?)?$")


@dataclass(frozen=True)
class RoleInput:
    label: str
    staff_id: int | None


@dataclass(frozen=True)
class BudgetInput:
    item: str
    amount: Decimal | None


@dataclass(frozen=True)
class ItemInput:
    offset: str  # "-1d", "+30m", "2h", "0": from the start
    title: str
    owner_id: int | None = None
    message: str = ""  # sent to the audience then, by an event SOP made from the run sheet


@dataclass
class ActivityInput:
    name: str
    type: str
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None
    goal: str = ""
    targets: dict[str, int | None] = field(default_factory=dict)
    group_ids: list[int] = field(default_factory=list)
    group_types: list[str] = field(default_factory=list)
    group_tags: list[str] = field(default_factory=list)
    segment_id: int | None = None
    budget: Decimal | None = Decimal(0)
    budget_lines: list[BudgetInput] = field(default_factory=list)
    roles: list[RoleInput] = field(default_factory=list)
    run_sheet: list[ItemInput] = field(default_factory=list)
    sop_id: int | None = None


def parse_offset(text: str) -> int | None:
    """Minutes from the start for "-1d", "+1h30m", "30m", "90" (minutes), "0"; None if unreadable."""
    found = _OFFSET.match(text.strip().lower().replace("分", "m").replace("时", "h").replace("天", "d"))
    if not text.strip() or found is None or not any(found.group(k) for k in ("d", "h", "m")):
        return None
    minutes = int(found.group("d") or 0) * 1440 + int(found.group("h") or 0) * 60 + int(found.group("m") or 0)
    return -minutes if found.group("sign") == "-" else minutes


def format_offset(minutes: int) -> str:
    """The inverse of `parse_offset`: -1500 → "-1d1h"; 0 → "0"."""
    if minutes == 0:
        return "0"
    sign, rest = ("-" if minutes < 0 else "+"), abs(minutes)
    days, rest = divmod(rest, 1440)
    hours, mins = divmod(rest, 60)
    return sign + "".join(f"{n}{unit}" for n, unit in ((days, "d"), (hours, "h"), (mins, "m")) if n)


def _staff(workspace: Workspace) -> dict[int, StaffAccount]:
    return {s.pk: s for s in StaffAccount.objects.for_workspace(workspace).filter(active=True)}


def _check_targets(data: ActivityInput, errors: dict[str, list[str]]) -> None:
    for key in TARGETS:
        value = data.targets.get(key)
        if value is not None and not 0 <= value <= MAX_TARGET:
            errors.setdefault(f"target_{key}", []).append(
                _("A target is a whole number from 0 to %(n)d.") % {"n": MAX_TARGET})


def _check_window(data: ActivityInput, errors: dict[str, list[str]]) -> None:
    if data.starts_at is None:
        errors.setdefault("starts_at", []).append(_("Give the date and time the activity starts."))
    if data.ends_at is None:
        errors.setdefault("ends_at", []).append(_("Give the date and time the activity ends."))
    if data.starts_at is None or data.ends_at is None:
        return
    for name, value in (("starts_at", data.starts_at), ("ends_at", data.ends_at)):
        if (why := problem(value)) is not None:
            errors.setdefault(name, []).append(why)
    if data.ends_at <= data.starts_at:
        errors.setdefault("ends_at", []).append(_("The end must come after the start."))
    elif data.ends_at - data.starts_at > dt.timedelta(days=MAX_DAYS):
        errors.setdefault("ends_at", []).append(
            _("An activity lasts at most %(n)d days; a standing routine is an SOP.") % {"n": MAX_DAYS})


def _check_audience(workspace: Workspace, data: ActivityInput, errors: dict[str, list[str]]) -> None:
    if not (data.group_ids or data.group_types or data.group_tags or data.segment_id):
        errors.setdefault("group_ids", []).append(
            _("Choose the audience: groups, group types, group labels or a segment."))
    known = set(CustomerGroup.objects.for_workspace(workspace).filter(pk__in=data.group_ids).values_list("pk", flat=True))
    unknown = [str(i) for i in data.group_ids if i not in known]
    if unknown:
        errors.setdefault("group_ids", []).append(_("Not a group of this brand: %(ids)s.") % {"ids": ", ".join(unknown)})
    wrong_types = [t for t in data.group_types if t not in GroupType.values or not t]
    if wrong_types:
        errors.setdefault("group_types", []).append(_("Unknown group type: %(t)s.") % {"t": ", ".join(wrong_types)})
    if any(len(t) > MAX_TAG_CHARS for t in data.group_tags):
        errors.setdefault("group_tags", []).append(_("A group label has at most %(n)d characters.") % {"n": MAX_TAG_CHARS})
    if data.segment_id is not None and not Segment.objects.for_workspace(workspace).filter(pk=data.segment_id).exists():
        errors.setdefault("segment_id", []).append(_("Choose a segment of this brand."))


def _check_budget(data: ActivityInput, errors: dict[str, list[str]]) -> None:
    if data.budget is None or not Decimal(0) <= data.budget <= MAX_BUDGET:
        errors.setdefault("budget", []).append(_("The budget is an amount from 0 to %(n)s yuan.") % {"n": MAX_BUDGET})
    if len(data.budget_lines) > MAX_LINES:
        errors.setdefault("budget_lines", []).append(_("At most %(n)d budget lines.") % {"n": MAX_LINES})
    for number, line in enumerate(data.budget_lines, start=1):
        if not line.item.strip() or len(line.item.strip()) > 60:
            errors.setdefault("budget_lines", []).append(
                _("Line %(n)d: name the item (at most 60 characters).") % {"n": number})
        if line.amount is None or not Decimal(0) <= line.amount <= MAX_BUDGET:
            errors.setdefault("budget_lines", []).append(
                _("Line %(n)d: the amount is 0 or more yuan.") % {"n": number})
    total = sum((line.amount for line in data.budget_lines if line.amount is not None), Decimal(0))
    if data.budget is not None and "budget_lines" not in errors and total > data.budget:
        errors.setdefault("budget_lines", []).append(
            _("The lines add up to %(total)s yuan, more than the budget of %(budget)s yuan: raise the budget or "
              "cut a line.") % {"total": total, "budget": data.budget})


def _check_roles(data: ActivityInput, staff: dict[int, StaffAccount], errors: dict[str, list[str]]) -> None:
    if len(data.roles) > MAX_ROLES:
        errors.setdefault("roles", []).append(_("At most %(n)d roles.") % {"n": MAX_ROLES})
    for number, role in enumerate(data.roles, start=1):
        if not role.label.strip() or len(role.label.strip()) > 20:
            errors.setdefault("roles", []).append(
                _("Role %(n)d: name the role (at most 20 characters), e.g. host.") % {"n": number})
        if role.staff_id not in staff:
            errors.setdefault("roles", []).append(
                _("Role %(n)d: choose a member of this brand's staff (an active WeCom account).") % {"n": number})


def _check_run_sheet(data: ActivityInput, staff: dict[int, StaffAccount], errors: dict[str, list[str]]) -> None:
    if len(data.run_sheet) > MAX_ITEMS:
        errors.setdefault("run_sheet", []).append(_("At most %(n)d run sheet items.") % {"n": MAX_ITEMS})
    for number, item in enumerate(data.run_sheet, start=1):
        offset = parse_offset(item.offset)
        if offset is None:
            errors.setdefault("run_sheet", []).append(
                _("Item %(n)d: write the time from the start as -1d, +2h, 30m or 0.") % {"n": number})
        elif abs(offset) > MAX_OFFSET_DAYS * 1440:
            errors.setdefault("run_sheet", []).append(
                _("Item %(n)d: at most %(d)d days from the start.") % {"n": number, "d": MAX_OFFSET_DAYS})
        if not item.title.strip() or len(item.title.strip()) > 120:
            errors.setdefault("run_sheet", []).append(
                _("Item %(n)d: say what happens (at most 120 characters).") % {"n": number})
        if len(item.message) > MAX_MESSAGE_CHARS:
            errors.setdefault("run_sheet", []).append(
                _("Item %(n)d: a message has at most %(m)d characters.") % {"n": number, "m": MAX_MESSAGE_CHARS})
        if item.owner_id is not None and item.owner_id not in staff:
            errors.setdefault("run_sheet", []).append(
                _("Item %(n)d: the owner must be a member of this brand's staff.") % {"n": number})


def _check(workspace: Workspace, data: ActivityInput) -> None:
    errors: dict[str, list[str]] = {}
    name = data.name.strip()
    if not name or len(name) > 60:
        errors["name"] = [_("Give the activity a name (at most 60 characters).")]
    if data.type not in ActivityType.values:
        errors["type"] = [_("Choose the type of activity.")]
    if len(data.goal) > 2000:
        errors["goal"] = [_("At most %(n)d characters.") % {"n": 2000}]
    texts = [data.name, data.goal, *data.group_tags, *(r.label for r in data.roles), *(b.item for b in data.budget_lines),
             *(i.title for i in data.run_sheet), *(i.offset for i in data.run_sheet),
             *(i.message for i in data.run_sheet)]
    bad_text = next((why for text in texts if (why := problem(text)) is not None), None)
    if bad_text is not None:
        errors.setdefault("__all__", []).append(bad_text)
    _check_targets(data, errors)
    _check_window(data, errors)
    _check_audience(workspace, data, errors)
    _check_budget(data, errors)
    staff = _staff(workspace)
    _check_roles(data, staff, errors)
    _check_run_sheet(data, staff, errors)
    if data.sop_id is not None and not Sop.objects.for_workspace(workspace).filter(
            pk=data.sop_id, kind=SopKind.EVENT).exclude(status=SopStatus.STOPPED).exists():
        errors["sop_id"] = [_("Choose an event SOP of this brand that is not stopped.")]
    if errors:
        raise ValidationError(errors)


def resolve_groups(workspace: Workspace, activity: Activity) -> list[int]:
    """The audience's groups now: those picked, and the live groups of the chosen types or
    carrying a chosen label (labels are matched in Python: JSON containment is not portable)."""
    groups = CustomerGroup.objects.for_workspace(workspace)
    picked = set(groups.filter(pk__in=activity.group_ids).values_list("pk", flat=True))
    live = groups.filter(dismissed_at__isnull=True)
    typed = set(live.filter(type__in=activity.group_types).values_list("pk", flat=True)) if activity.group_types else set()
    labelled: set[int] = set()
    if activity.group_tags:
        wanted = set(activity.group_tags)
        labelled = {pk for pk, tags in live.exclude(tags=[]).values_list("pk", "tags") if wanted & set(tags or [])}
    return sorted(picked | typed | labelled)


def refresh_groups(workspace: Workspace, activity: Activity) -> int:
    """Store the audience's groups as resolved now (plan saved, activity started)."""
    ids = resolve_groups(workspace, activity)
    ActivityGroup.objects.for_workspace(workspace).filter(activity=activity).exclude(group_id__in=ids).delete()
    ActivityGroup.unscoped.bulk_create([ActivityGroup(workspace=workspace, activity=activity, group_id=i) for i in ids],
                                       ignore_conflicts=True)
    return len(ids)


def _write(workspace: Workspace, activity: Activity, data: ActivityInput) -> None:
    activity.name = data.name.strip()
    activity.type = data.type
    activity.goal = data.goal.strip()
    for key in TARGETS:
        setattr(activity, f"target_{key}", data.targets.get(key))
    assert data.starts_at is not None and data.ends_at is not None and data.budget is not None  # checked
    activity.starts_at, activity.ends_at = data.starts_at, data.ends_at
    activity.group_ids = sorted(set(data.group_ids))
    activity.group_types = sorted(set(data.group_types))
    activity.group_tags = sorted({t.strip() for t in data.group_tags if t.strip()})
    activity.segment_id = data.segment_id
    activity.budget = data.budget
    activity.sop_id = data.sop_id
    activity.save()
    for model in (ActivityRole, BudgetLine, RunItem):
        model.objects.for_workspace(workspace).filter(activity=activity).delete()
    ActivityRole.unscoped.bulk_create([
        ActivityRole(workspace=workspace, activity=activity, label=r.label.strip(), staff_id=r.staff_id, order=n)
        for n, r in enumerate(data.roles) if r.staff_id is not None])  # checked: every role has its staff
    BudgetLine.unscoped.bulk_create([
        BudgetLine(workspace=workspace, activity=activity, item=line.item.strip(), amount=line.amount, order=n)
        for n, line in enumerate(data.budget_lines) if line.amount is not None])  # checked: every line has one
    # Kept in time order: the run sheet is read top to bottom while the activity runs.
    items = sorted(data.run_sheet, key=lambda i: parse_offset(i.offset) or 0)
    RunItem.unscoped.bulk_create([
        RunItem(workspace=workspace, activity=activity, order=n, offset_minutes=parse_offset(i.offset) or 0,
                title=i.title.strip(), owner_id=i.owner_id, message=i.message.strip())
        for n, i in enumerate(items, start=1)])
    refresh_groups(workspace, activity)


def create_activity(workspace: Workspace, membership: Seat | None, data: ActivityInput) -> Activity:
    require_edit(membership)
    _check(workspace, data)
    with transaction.atomic():
        activity = Activity(workspace=workspace, created_by=getattr(membership, "user", None))
        _write(workspace, activity, data)
        audit_change(workspace, membership, AuditAction.CREATED, module=MODULE, subject=SUBJECT, name=activity.name,
                     data={"activity": activity.pk})
    return activity


def update_activity(workspace: Workspace, membership: Seat | None, activity_id: int, data: ActivityInput) -> Activity:
    require_edit(membership)
    with transaction.atomic():
        activity = Activity.objects.for_workspace(workspace).select_for_update().get(pk=activity_id)
        if activity.status != ActivityStatus.PLANNED:
            raise ValidationError(_("Only a planned activity can be re-planned; this one is %(status)s.")
                                  % {"status": activity.get_status_display()})
        _check(workspace, data)
        _write(workspace, activity, data)
        audit_change(workspace, membership, AuditAction.UPDATED, module=MODULE, subject=SUBJECT, name=activity.name,
                     facts=[fact(gettext_lazy("Run sheet items"), len(data.run_sheet))], data={"activity": activity.pk})
    return activity


def input_of(activity: Activity) -> ActivityInput:
    """The saved plan as the form's input (to edit it, or to copy it into a new plan)."""
    return ActivityInput(
        name=activity.name, type=activity.type, starts_at=activity.starts_at, ends_at=activity.ends_at,
        goal=activity.goal, targets={k: getattr(activity, f"target_{k}") for k in TARGETS},
        group_ids=list(activity.group_ids), group_types=list(activity.group_types),
        group_tags=list(activity.group_tags), segment_id=activity.segment_id, budget=activity.budget,
        budget_lines=[BudgetInput(b.item, b.amount) for b in activity.budget_lines.all()],
        roles=[RoleInput(r.label, r.staff_id) for r in activity.roles.all()],
        run_sheet=[ItemInput(format_offset(i.offset_minutes), i.title, i.owner_id, i.message)
                   for i in activity.run_items.all()],
        sop_id=activity.sop_id)


def list_activities(workspace: Workspace, membership: Seat | None, *, status: str = "",
                    type: str = "") -> QuerySet[Activity]:
    require_view(membership)
    rows = Activity.objects.for_workspace(workspace)
    if status in ActivityStatus.values:
        rows = rows.filter(status=status)
    if type in ActivityType.values:
        rows = rows.filter(type=type)
    return rows.order_by("-starts_at", "-pk")


def get_activity(workspace: Workspace, membership: Seat | None, activity_id: int) -> Activity:
    require_view(membership)
    return (Activity.objects.for_workspace(workspace).select_related("segment", "sop")
            .prefetch_related(
                Prefetch("roles", ActivityRole.objects.for_workspace(workspace).select_related("staff")),
                Prefetch("budget_lines", BudgetLine.objects.for_workspace(workspace)),
                Prefetch("run_items", RunItem.objects.for_workspace(workspace).select_related("owner", "done_by")),
                Prefetch("lessons", Lesson.objects.for_workspace(workspace)))
            .get(pk=activity_id))


@dataclass(frozen=True)
class CarriedLessons:
    activity: Activity
    lessons: list[str]


def last_lessons(workspace: Workspace, type: str, exclude_id: int | None = None) -> CarriedLessons | None:
    """The lessons of the latest reviewed activity of this type, for the next plan of the type."""
    done = (Activity.objects.for_workspace(workspace).filter(type=type, reviewed_at__isnull=False)
            .filter(Q(lessons__isnull=False)).exclude(pk=exclude_id or 0).order_by("-ends_at", "-pk").distinct())
    latest = done.first()
    if latest is None:
        return None
    return CarriedLessons(latest, list(Lesson.objects.for_workspace(workspace).filter(activity=latest)
                                       .values_list("text", flat=True)))


def event_sops(workspace: Workspace) -> QuerySet[Sop]:
    """Event SOPs a plan may link (not stopped)."""
    return (Sop.objects.for_workspace(workspace).filter(kind=SopKind.EVENT).exclude(status=SopStatus.STOPPED)
            .order_by("-pk"))
