"""今日概况 — the numbers an operations team looks at first each day, for the console's home
page: adds, net adds, churn (customers who deleted the account) and missed welcome messages,
today against yesterday and the last 7 days against the 7 before, with each day for trends.

Adds, churn and net come from `customers.daily_movement` (the timeline); misses are the welcome
records settled "missed" (WeCom's 20 s window passed, or WeCom refused), on the day of their add.
Two grouped queries whatever the number of days.

Roles: `Module.CUSTOMERS` view; the welcome misses also need `Module.CHANNELS` view and are None
for a role without it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count
from django.db.models.functions import TruncDate

from siyu.channels.models import WelcomeRecord, WelcomeStatus
from siyu.core.days import SHANGHAI, day_range
from siyu.core.models import Membership, Workspace
from siyu.core.permissions import Action, Module, allows, role_of
from siyu.customers import services as customers

DAYS = 14  # two weeks: this week against the one before


@dataclass(frozen=True)
class Figure:
    """One number's days, oldest first (the last is today)."""

    key: str
    series: list[int]

    @property
    def today(self) -> int:
        return self.series[-1]

    @property
    def yesterday(self) -> int:
        return self.series[-2] if len(self.series) > 1 else 0

    @property
    def last_week(self) -> int:
        return sum(self.series[-7:])

    @property
    def previous_week(self) -> int:
        return sum(self.series[-14:-7])

    @property
    def change(self) -> int:
        """The last 7 days less the 7 before."""
        return self.last_week - self.previous_week

    @property
    def change_percent(self) -> int | None:
        """The change as a whole percentage of the 7 days before; None when those were 0."""
        if not self.previous_week:
            return None
        return round(self.change * 100 / abs(self.previous_week))


@dataclass(frozen=True)
class DailyFigures:
    days: list[dt.date]
    adds: Figure
    net: Figure
    churn: Figure
    welcome_missed: Figure | None  # None: the role may not see the channels module


def daily_figures(workspace: Workspace, membership: Membership | None, now: dt.datetime | None = None,
                  days: int = DAYS) -> DailyFigures:
    movement = customers.daily_movement(workspace, membership, days, now)  # checks Module.CUSTOMERS view
    dates = [m.day for m in movement]
    missed = None
    role = role_of(membership)
    if role is not None and allows(role, Module.CHANNELS, Action.VIEW):
        lo, hi = day_range(dates[0], dates[-1])
        per_day = {
            (row["day"].date() if isinstance(row["day"], dt.datetime) else row["day"]): row["n"]
            for row in (WelcomeRecord.objects.for_workspace(workspace)
                        .filter(status=WelcomeStatus.MISSED, added_at__gte=lo, added_at__lt=hi)
                        .annotate(day=TruncDate("added_at", tzinfo=SHANGHAI))
                        .values("day").annotate(n=Count("id")).order_by())
        }
        missed = Figure("welcome_missed", [per_day.get(d, 0) for d in dates])
    return DailyFigures(
        days=dates,
        adds=Figure("adds", [m.adds for m in movement]),
        net=Figure("net", [m.net for m in movement]),
        churn=Figure("churn", [m.deleted_by_customer for m in movement]),
        welcome_missed=missed,
    )
