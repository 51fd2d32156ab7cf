"""进粉与流失 — the brand's daily movement of friends: adds, losses by who ended the friendship,
and net adds, per Asia/Shanghai day.

Counted from the timeline, which keeps one entry per add (`customers.added`) and per loss (the
customer's deletion, staff's deletion), even after a relation is re-added and its row reused, so
a day's figure never changes later. One grouped query whatever the number of days. A transfer to
another account is not a loss; net = adds − deletions by the customer − deletions by staff, the
channel analytics' definition.

Roles: `Module.CUSTOMERS` view.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from siyu.core.days import SHANGHAI, day_range, local_day
from siyu.core.models import Membership, Workspace
from siyu.core.permissions import Action, Module, require, role_of
from siyu.customers.models import TimelineEntry
from siyu.customers.timeline import TimelineKind

MAX_DAYS = 92


@dataclass(frozen=True)
class DayMovement:
    day: dt.date
    adds: int = 0
    deleted_by_customer: int = 0  # 流失: the customer deleted the staff account
    deleted_by_staff: int = 0

    @property
    def net(self) -> int:
        return self.adds - self.deleted_by_customer - self.deleted_by_staff


_FIELD = {
    TimelineKind.ADDED: "adds",
    TimelineKind.DELETED_STAFF: "deleted_by_customer",
    TimelineKind.DELETED_BY_STAFF: "deleted_by_staff",
}


def daily_movement(workspace: Workspace, membership: Membership | None, days: int = 14,
                   now: dt.datetime | None = None) -> list[DayMovement]:
    """The last `days` days (1..92) up to today, oldest first, a row for every day."""
    require(role_of(membership), Module.CUSTOMERS, Action.VIEW)
    days = min(max(int(days), 1), MAX_DAYS)
    today = local_day(now or timezone.now())
    first = today - dt.timedelta(days=days - 1)
    lo, hi = day_range(first, today)
    counted = (TimelineEntry.objects.for_workspace(workspace)
               .filter(kind__in=list(_FIELD), at__gte=lo, at__lt=hi)
               .annotate(day=TruncDate("at", tzinfo=SHANGHAI))
               .values("day", "kind").annotate(n=Count("id")).order_by())
    figures: dict[dt.date, dict[str, int]] = {}
    for row in counted:
        day = row["day"].date() if isinstance(row["day"], dt.datetime) else row["day"]
        figures.setdefault(day, {})[_FIELD[TimelineKind(row["kind"])]] = row["n"]
    return [DayMovement(first + dt.timedelta(days=i), **figures.get(first + dt.timedelta(days=i), {}))
            for i in range(days)]
