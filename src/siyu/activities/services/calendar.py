"""社群日历 — a month of every group's activities and SOP rhythms.

Entries come from small source functions `(workspace, first, last) -> [CalendarEntry]`, listed in
`SOURCES`; another source (the mall's sales, fission campaigns) is one more function there. A
source returns the entries of the days `first..last` (Asia/Shanghai) with the groups each one
concerns (none: the whole brand), so the month view filters them by group and by kind.
"""

from __future__ import annotations

import calendar as month_calendar
import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.urls import reverse
from django.utils.translation import gettext as _

from siyu.activities.models import Activity, ActivityGroup, ActivityStatus
from siyu.activities.services.common import require_view
from siyu.community.models import CustomerGroup
from siyu.core.days import SHANGHAI, day_range, local_day
from siyu.core.models import Workspace
from siyu.core.permissions import Seat
from siyu.sop.models import Sop, SopKind, SopStatus, SopStep
from siyu.sop.services import plan_runs

MAX_ENTRIES_PER_SOP = 60


@dataclass(frozen=True)
class CalendarEntry:
    day: dt.date
    title: str
    kind: str  # "activity", "event_sop", "group_sop", …: what the filter offers
    url: str = ""
    time: str = ""  # "20:00", or "" for the whole day
    group_ids: frozenset[int] = frozenset()  # the groups it concerns; empty: every group
    status: str = ""


Source = Callable[[Workspace, dt.date, dt.date], list[CalendarEntry]]


def activity_entries(workspace: Workspace, first: dt.date, last: dt.date) -> list[CalendarEntry]:
    """Each activity on every day of its window (cancelled ones left out)."""
    start, end = day_range(first, last)
    rows = list(Activity.objects.for_workspace(workspace).filter(starts_at__lt=end, ends_at__gt=start)
                .exclude(status=ActivityStatus.CANCELLED).order_by("starts_at", "pk"))
    groups: dict[int, set[int]] = defaultdict(set)
    for activity_id, group_id in (ActivityGroup.objects.for_workspace(workspace)
                                  .filter(activity_id__in=[a.pk for a in rows]).values_list("activity_id", "group_id")):
        groups[activity_id].add(group_id)
    entries = []
    for activity in rows:
        day, stop = max(local_day(activity.starts_at), first), min(local_day(activity.ends_at), last)
        url = reverse("activities:activity", args=[activity.pk])
        while day <= stop:
            at = activity.starts_at.astimezone(SHANGHAI).strftime("%H:%M") if day == local_day(activity.starts_at) else ""
            entries.append(CalendarEntry(day, activity.name, "activity", url, at, frozenset(groups[activity.pk]),
                                         activity.status))
            day += dt.timedelta(days=1)
    return entries


def event_sop_entries(workspace: Workspace, first: dt.date, last: dt.date) -> list[CalendarEntry]:
    """Each event SOP's day and the days its steps fire (warm-up before, follow-up after)."""
    start, end = day_range(first, last)
    reach = dt.timedelta(days=60)  # steps sit at most weeks around the event
    sops = list(Sop.objects.for_workspace(workspace).filter(kind=SopKind.EVENT, event_at__gte=start - reach,
                                                            event_at__lt=end + reach)
                .exclude(status=SopStatus.STOPPED).order_by("event_at", "pk"))
    steps: dict[int, list[SopStep]] = defaultdict(list)
    for step in SopStep.objects.for_workspace(workspace).filter(version_id__in=[s.current_version_id for s in sops]):
        steps[step.version_id].append(step)
    entries = []
    for sop in sops:
        assert sop.event_at is not None  # filtered
        url = reverse("sop:detail", args=[sop.pk])
        if first <= local_day(sop.event_at) <= last:
            entries.append(CalendarEntry(local_day(sop.event_at), sop.name, "event_sop", url,
                                         sop.event_at.astimezone(SHANGHAI).strftime("%H:%M"), status=sop.status))
        planned, _note = plan_runs(sop, steps[sop.current_version_id or 0], sop.event_at)
        for run in planned[:MAX_ENTRIES_PER_SOP]:
            if first <= local_day(run.due_at) <= last:
                entries.append(CalendarEntry(local_day(run.due_at), _("%(sop)s: step") % {"sop": sop.name},
                                             "event_sop", url, run.due_at.astimezone(SHANGHAI).strftime("%H:%M"),
                                             status=sop.status))
    return entries


def _groups_of(live: list[tuple[int, str, list[str]]], group_type: str, group_tag: str) -> frozenset[int]:
    """The live groups a group SOP applies to; empty (every group) when it names no type or tag."""
    if not (group_type or group_tag):
        return frozenset()
    return frozenset(pk for pk, type_, tags in live
                     if (not group_type or type_ == group_type) and (not group_tag or group_tag in (tags or [])))


def group_sop_entries(workspace: Workspace, first: dt.date, last: dt.date) -> list[CalendarEntry]:
    """Weekly group SOP rhythms (a weekday at a time of day), on each such day of the range, for
    the groups of the SOP's type and tag (every group when it names neither)."""
    sops = list(Sop.objects.for_workspace(workspace).filter(kind=SopKind.GROUP, status=SopStatus.ACTIVE,
                                                            schedule_weekday__isnull=False).order_by("pk"))
    live: list[tuple[int, str, list[str]]] = []
    if any(getattr(sop, "group_type", "") or getattr(sop, "group_tag", "") for sop in sops):
        live = list(CustomerGroup.objects.for_workspace(workspace).filter(dismissed_at__isnull=True)
                    .values_list("pk", "type", "tags"))
    entries = []
    for sop in sops:
        url = reverse("sop:detail", args=[sop.pk])
        groups = _groups_of(live, getattr(sop, "group_type", ""), getattr(sop, "group_tag", ""))
        if (getattr(sop, "group_type", "") or getattr(sop, "group_tag", "")) and not groups:
            continue  # no group of its type or tag: it fires for nobody
        day = first + dt.timedelta(days=(int(sop.schedule_weekday or 0) - first.weekday()) % 7)
        while day <= last:
            entries.append(CalendarEntry(day, sop.name, "group_sop", url,
                                         sop.at_time.strftime("%H:%M") if sop.at_time else "", groups, sop.status))
            day += dt.timedelta(days=7)
    return entries


SOURCES: list[Source] = [activity_entries, event_sop_entries, group_sop_entries]


@dataclass
class CalendarDay:
    day: dt.date
    in_month: bool
    entries: list[CalendarEntry] = field(default_factory=list)


@dataclass(frozen=True)
class Month:
    year: int
    month: int
    weeks: list[list[CalendarDay]]
    count: int

    @property
    def previous(self) -> str:
        return f"{self.year - 1}-12" if self.month == 1 else f"{self.year}-{self.month - 1:02}"

    @property
    def next(self) -> str:
        return f"{self.year + 1}-01" if self.month == 12 else f"{self.year}-{self.month + 1:02}"


def month_view(workspace: Workspace, membership: Seat | None, year: int, month: int, *, group_id: int | None = None,
               kind: str = "", sources: list[Source] | None = None) -> Month:
    """The month's weeks (Monday first) with each day's entries, filtered by group (entries for
    every group stay) and by kind."""
    require_view(membership)
    weeks = month_calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
    first, last = weeks[0][0], weeks[-1][-1]
    by_day: dict[dt.date, list[CalendarEntry]] = defaultdict(list)
    count = 0
    for source in sources if sources is not None else SOURCES:
        for entry in source(workspace, first, last):
            if kind and entry.kind != kind:
                continue
            if group_id is not None and entry.group_ids and group_id not in entry.group_ids:
                continue
            by_day[entry.day].append(entry)
            count += entry.day.month == month
    return Month(year, month, [[CalendarDay(d, d.month == month, sorted(by_day[d], key=lambda e: (e.time, e.title)))
                                for d in week] for week in weeks], count)
