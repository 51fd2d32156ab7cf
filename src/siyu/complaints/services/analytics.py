"""客诉分析 — how fast complaints are acknowledged and resolved (median and p90), how many missed
their SLA, who complains again and again, and complaints by day for the chart."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from django.db.models import Count
from django.utils import timezone

from siyu.complaints.models import Complaint, Priority
from siyu.complaints.services.tickets import require_view
from siyu.core import days as sh_days
from siyu.core.models import Workspace
from siyu.core.permissions import Seat
from siyu.customers.models import Customer

REPEAT_AT = 2  # complaints in the window that make a repeat complainer
MAX_DAYS = 365


def percentile(values: list[float], share: float) -> float | None:
    """Nearest-rank percentile (the p90 of 10 values is the 9th smallest); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def median(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


@dataclass(frozen=True)
class Repeat:
    customer: Customer
    complaints: int


@dataclass
class ComplaintStats:
    days: int
    total: int = 0
    vip: int = 0
    still_open: int = 0
    ack_median_minutes: float | None = None
    ack_p90_minutes: float | None = None
    resolve_median_hours: float | None = None
    resolve_p90_hours: float | None = None
    ack_late: int = 0
    resolve_late: int = 0
    repeats: list[Repeat] = field(default_factory=list)
    chart: dict[str, list[object]] = field(default_factory=dict)


def complaint_stats(workspace: Workspace, membership: Seat | None, days: int = 30,
                    now: dt.datetime | None = None) -> ComplaintStats:
    require_view(membership)
    days = max(1, min(days, MAX_DAYS))
    now = now or timezone.now()
    first_day = sh_days.local_day(now) - dt.timedelta(days=days - 1)
    since = sh_days.day_start(first_day)
    rows = list(Complaint.objects.for_workspace(workspace).filter(opened_at__gte=since).values_list(
        "opened_at", "acknowledged_at", "resolved_at", "ack_due_at", "resolve_due_at", "priority", "status"))
    stats = ComplaintStats(days=days, total=len(rows))
    acks = [(a - o).total_seconds() / 60 for o, a, *_ in rows if a]
    resolves = [(r - o).total_seconds() / 3600 for o, _a, r, *_ in rows if r]
    stats.vip = sum(1 for row in rows if row[5] == Priority.VIP)
    stats.still_open = sum(1 for row in rows if row[6] in ("open", "acked"))
    stats.ack_median_minutes, stats.ack_p90_minutes = median(acks), percentile(acks, 0.9)
    stats.resolve_median_hours, stats.resolve_p90_hours = median(resolves), percentile(resolves, 0.9)
    stats.ack_late = sum(1 for o, a, _r, ack_due, *_ in rows if (a or now) > ack_due)
    stats.resolve_late = sum(1 for o, _a, r, _ad, resolve_due, *_ in rows if (r or now) > resolve_due)
    counts = dict(Complaint.objects.for_workspace(workspace).filter(opened_at__gte=since, customer__isnull=False)
                  .values_list("customer").annotate(n=Count("pk")).filter(n__gte=REPEAT_AT).values_list("customer", "n"))
    customers = Customer.objects.for_workspace(workspace).in_bulk(list(counts))
    stats.repeats = sorted((Repeat(customers[pk], n) for pk, n in counts.items() if pk in customers),
                           key=lambda r: (-r.complaints, r.customer.pk))[:20]
    labels = [(first_day + dt.timedelta(days=i)) for i in range(days)]
    per_day = {d: 0 for d in labels}
    late_per_day = {d: 0 for d in labels}
    for o, a, _r, ack_due, *_ in rows:
        day = sh_days.local_day(o)
        if day in per_day:
            per_day[day] += 1
            late_per_day[day] += (a or now) > ack_due
    stats.chart = {"days": [d.isoformat() for d in labels], "complaints": [per_day[d] for d in labels],
                   "late": [late_per_day[d] for d in labels]}
    return stats
