"""容量走势 — how full each staff account was on each of the last days, for the accounts page's chart.

Siyu keeps each account's friends today (`friend_count`) and its adds and losses per day
(`AccountDay`), not a daily snapshot. So the count at the end of each earlier day is walked
back from today's: end of yesterday = end of today − today's adds + today's losses. The fill is
that count over today's effective limit (the limit's own history is not kept); a count that
walks below zero (a sync corrected the counter) is shown as zero.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from siyu.accounts.models import AccountDay, StaffAccount
from siyu.core.days import local_day
from siyu.core.models import Membership, Workspace
from siyu.core.permissions import Action, Module, require, role_of

FILL_DAYS = 30
FILL_ACCOUNTS = 8  # the fullest accounts: those the planner must act on; more lines are unreadable


@dataclass(frozen=True)
class FillLine:
    account: StaffAccount
    friends: list[int]  # at the end of each day, oldest first
    percents: list[float]  # of the effective limit, one decimal


@dataclass(frozen=True)
class FillHistory:
    days: list[dt.date]
    lines: list[FillLine]
    accounts_total: int  # active accounts, of which the fullest `FILL_ACCOUNTS` are drawn

    @property
    def empty(self) -> bool:
        return not self.lines


def fill_history(workspace: Workspace, membership: Membership | None, days: int = FILL_DAYS,
                 now: dt.datetime | None = None, limit: int = FILL_ACCOUNTS) -> FillHistory:
    """The last `days` days' fill of the brand's fullest active accounts: two queries."""
    require(role_of(membership), Module.CHANNELS, Action.VIEW)
    today = local_day(now or timezone.now())
    dates = [today - dt.timedelta(days=i) for i in reversed(range(days))]
    active = list(StaffAccount.objects.for_workspace(workspace).filter(active=True)
                  .only("id", "name", "userid", "friend_count", "friend_limit", "wecom_full_friends"))
    fullest = sorted(active, key=lambda a: (-a.fill_ratio, str(a)))[:limit]
    moves: dict[tuple[int, dt.date], tuple[int, int]] = {
        (row["account_id"], row["day"]): (row["adds"], row["losses"])
        for row in AccountDay.objects.for_workspace(workspace)
        .filter(account_id__in=[a.pk for a in fullest], day__gt=dates[0], day__lte=today)
        .values("account_id", "day", "adds", "losses")
    }
    lines = []
    for account in fullest:
        count = account.friend_count
        walked = []
        for day in reversed(dates):
            walked.append(max(count, 0))
            adds, losses = moves.get((account.pk, day), (0, 0))
            count = count - adds + losses  # the end of the day before
        friends = list(reversed(walked))
        limit_now = account.effective_limit
        percents = [round(n * 100 / limit_now, 1) if limit_now else 100.0 for n in friends]
        lines.append(FillLine(account, friends, percents))
    return FillHistory(dates, lines, len(active))
