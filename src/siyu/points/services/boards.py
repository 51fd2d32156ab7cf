"""积分排行榜 — leaderboards: the points each current member of a customer group earned in a
period (a week from Monday, or a month, Asia/Shanghai days). One aggregate query per board:
the group's live customer members LEFT JOINed to their grants in the period.

"Earned" counts grants only (check-ins, invitations, activities, contributions, purchases):
spending, expiry and manual adjustments do not move a member on the board.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from siyu.community.models import CustomerGroup, GroupMember, MemberKind
from siyu.core.days import day_start, local_day
from siyu.core.models import Workspace
from siyu.core.permissions import Seat
from siyu.points.models import GRANT_SOURCES, Period
from siyu.points.services.common import require_view

BOARD_ROWS = 50


@dataclass(frozen=True)
class PeriodSpan:
    """A period as Asia/Shanghai days: `start` included, `end` excluded."""

    kind: str
    start: dt.date
    end: dt.date

    @property
    def last(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    def previous(self) -> PeriodSpan:
        return period_of(self.kind, self.start - dt.timedelta(days=1))

    def next(self) -> PeriodSpan:
        return period_of(self.kind, self.end)


def period_of(kind: str, day: dt.date) -> PeriodSpan:
    """The week (Monday first) or month holding `day`."""
    if kind == Period.MONTH:
        start = day.replace(day=1)
        end = (start + dt.timedelta(days=32)).replace(day=1)
    else:
        start = day - dt.timedelta(days=day.weekday())
        end = start + dt.timedelta(days=7)
    return PeriodSpan(kind, start, end)


def current_period(kind: str, now: dt.datetime | None = None) -> PeriodSpan:
    return period_of(kind, local_day(now or timezone.now()))


@dataclass(frozen=True)
class Standing:
    rank: int
    customer_id: int
    name: str
    points: int
    joined_at: dt.datetime | None


def standings(workspace: Workspace, group: CustomerGroup, span: PeriodSpan, *, limit: int | None = None,
              until: dt.datetime | None = None) -> list[Standing]:
    """The group's current customer members by points earned in the span, most first (ties:
    who joined earlier first). One query. `until` cuts the span short (the period so far)."""
    start, end = day_start(span.start), day_start(span.end)
    if until is not None:
        end = min(end, until)
    earned = Q(customer__points_entries__workspace=workspace,
               customer__points_entries__source__in=GRANT_SOURCES,
               customer__points_entries__created_at__gte=start, customer__points_entries__created_at__lt=end)
    rows = (GroupMember.objects.for_workspace(workspace)
            .filter(group=group, kind=MemberKind.CUSTOMER, left_at__isnull=True, customer__isnull=False)
            .values("customer_id", "customer__name", "nickname", "join_time")
            .annotate(points=Coalesce(Sum("customer__points_entries__amount", filter=earned), Value(0)))
            .order_by("-points", "join_time", "customer_id"))
    if limit is not None:
        rows = rows[:limit]
    return [Standing(n, r["customer_id"], r["nickname"] or r["customer__name"] or "", int(r["points"]), r["join_time"])
            for n, r in enumerate(rows, start=1)]


@dataclass(frozen=True)
class Board:
    group: CustomerGroup
    span: PeriodSpan
    rows: list[Standing]


def board(workspace: Workspace, membership: Seat | None, group_id: int, kind: str = Period.WEEK,
          day: dt.date | None = None, limit: int = BOARD_ROWS) -> Board:
    """A group's leaderboard for the period holding `day` (today by default), for the console."""
    require_view(membership)
    group = CustomerGroup.objects.for_workspace(workspace).get(pk=group_id)
    span = period_of(kind if kind in Period.values else Period.WEEK, day or local_day(timezone.now()))
    return Board(group, span, standings(workspace, group, span, limit=limit))


def fan_board(workspace: Workspace, customer_id: int, group_id: int, kind: str = Period.WEEK,
              limit: int = BOARD_ROWS) -> tuple[Board, Standing | None]:
    """A group's board for one of its members (a fan): the top rows and the fan's own standing.
    `ObjectDoesNotExist` when the fan is not a current member of the group."""
    group = CustomerGroup.objects.for_workspace(workspace).get(
        pk=group_id, dismissed_at__isnull=True, members__customer_id=customer_id, members__left_at__isnull=True)
    span = current_period(kind if kind in Period.values else Period.WEEK)
    everyone = standings(workspace, group, span)
    mine = next((s for s in everyone if s.customer_id == customer_id), None)
    return Board(group, span, everyone[:limit]), mine


def groups_of_fan(workspace: Workspace, customer_id: int) -> list[CustomerGroup]:
    """The live groups the fan is a current member of (for the boards page)."""
    return list(CustomerGroup.objects.for_workspace(workspace)
                .filter(dismissed_at__isnull=True, members__customer_id=customer_id, members__left_at__isnull=True)
                .order_by("name", "pk").distinct())
