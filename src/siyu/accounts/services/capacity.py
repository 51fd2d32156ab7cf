"""容量 — how full each staff account is, when it will be full, and the 80 % / 95 % alerts.

Forecast: the net adds (adds − losses) of the last `FORECAST_DAYS` days, divided by the days
actually observed in that window (an account first seen three days ago is not diluted over
seven), give a daily rate; the free room divided by that rate is the days until full. With no
net growth the account is "not filling" (`days_until_full is None`).

Alerts: an account crossing 80 % or 95 % of its friend limit raises `accounts.capacity_alert`
once per crossing. The level already raised is kept on the account (`capacity_alert_level`) and
claimed with a conditional UPDATE, so concurrent adds announce a crossing exactly once.

Where crossings are detected, and why there:
- on every add, in `record_follow_change` (one UPDATE by primary key that matches no row unless
  the add crossed a line): the alert is immediate, which matters at 95 % when a channel code
  fills an account within minutes, and the add burst pays one indexed UPDATE, not a scan;
- when the planner changes the friend limit (`save_account`): a lowered limit can cross a line
  with no add, a raised one (an expansion to 20,000) re-arms the alerts at once;
- every ten minutes (`accounts.recheck_capacity_alerts`, see tasks.py): a sweep that re-arms
  accounts whose fill fell `REARM_MARGIN` points below their level (losses never re-arm on the
  hot path, so an account hovering at the line is not announced again and again) and catches
  any crossing the other two paths missed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.db.models import Case, F, IntegerField, Min, Q, Sum, Value, When
from django.db.models.lookups import GreaterThanOrEqual, LessThan
from django.utils import timezone

from siyu.accounts.events import CapacityAlert
from siyu.accounts.models import AccountDay, StaffAccount
from siyu.core import events
from siyu.core.models import Workspace

FORECAST_DAYS = 7
ALERT_LEVELS = (80, 95)  # percent of the friend limit (issue 4)
# Points below an alert level an account must fall before the sweep re-arms that alert.
REARM_MARGIN = 5


def reached_level(friend_count: int, friend_limit: int) -> int:
    """The highest alert level (0, 80 or 95) the fill has reached; integer maths, no rounding."""
    if friend_limit <= 0:
        return ALERT_LEVELS[-1]
    reached = 0
    for level in ALERT_LEVELS:
        if friend_count * 100 >= friend_limit * level:
            reached = level
    return reached


def _reached_expression() -> Case:
    """`reached_level` as SQL, so the claim is decided by the database under the row lock."""
    whens = [When(GreaterThanOrEqual(F("friend_count") * 100, F("friend_limit") * level), then=Value(level))
             for level in sorted(ALERT_LEVELS, reverse=True)]
    return Case(*whens, default=Value(0), output_field=IntegerField())


def _announce(account: StaffAccount, level: int) -> CapacityAlert:
    alert = CapacityAlert(account_id=account.pk, userid=account.userid, level=level,
                          friend_count=account.friend_count, friend_limit=account.friend_limit)
    events.publish(Workspace(pk=account.workspace_id), alert)
    return alert


def raise_alert_if_crossed(account_pk: int) -> CapacityAlert | None:
    """Claim and announce a newly reached alert level of one account; None if there is none.

    The UPDATE matches only when the reached level is above the one already raised, so of two
    concurrent adds crossing the same line only one announces it."""
    reached = _reached_expression()
    with transaction.atomic():
        claimed = (StaffAccount.unscoped.filter(pk=account_pk)
                   .alias(reached=reached).filter(reached__gt=F("capacity_alert_level"))
                   .update(capacity_alert_level=reached))
        if not claimed:
            return None
        account = StaffAccount.unscoped.get(pk=account_pk)
        return _announce(account, account.capacity_alert_level)


def reset_alert_level(account: StaffAccount) -> CapacityAlert | None:
    """After the friend limit changed: the alert level becomes the level now reached (an
    expansion re-arms the alerts at once); a higher level is announced."""
    reached = reached_level(account.friend_count, account.friend_limit)
    if reached > account.capacity_alert_level:
        return raise_alert_if_crossed(account.pk)
    if reached < account.capacity_alert_level:
        StaffAccount.unscoped.filter(pk=account.pk).update(capacity_alert_level=reached)
        account.capacity_alert_level = reached
    return None


def recheck_alerts(workspace: Workspace) -> list[CapacityAlert]:
    """The sweep: re-arm accounts well below their raised level, announce missed crossings."""
    accounts = StaffAccount.objects.for_workspace(workspace)
    for level in ALERT_LEVELS:
        # Fill below (level − margin) percent: the alert at `level` is armed again.
        lower = max((lv for lv in (0, *ALERT_LEVELS) if lv < level), default=0)
        (accounts.filter(capacity_alert_level=level)
         .filter(LessThan(F("friend_count") * 100, F("friend_limit") * (level - REARM_MARGIN)))
         .update(capacity_alert_level=lower))
    crossed = (accounts.alias(reached=_reached_expression())
               .filter(reached__gt=F("capacity_alert_level")).values_list("pk", flat=True))
    alerts = [raise_alert_if_crossed(pk) for pk in list(crossed)]
    return [a for a in alerts if a is not None]


def record_wecom_full(workspace: Workspace, takeover_id: int, at: dt.datetime) -> bool:
    """WeCom refused a transfer to this account as over its friend limit (WECOM.md §8 status 4,
    §3 transfer_fail customer_limit_exceed), the only way WeCom tells an account's limit. Keeps
    when, and the friends Siyu counted then; a later refusal replaces an earlier one. Routing
    then treats that count as the account's limit (`StaffAccount.effective_limit`) and the
    accounts page warns while it is below Siyu's. Returns whether the signal was recorded."""
    accounts = StaffAccount.objects.for_workspace(workspace).filter(pk=takeover_id)
    return bool(accounts.filter(Q(wecom_full_at__isnull=True) | Q(wecom_full_at__lt=at))
                .update(wecom_full_at=at, wecom_full_friends=F("friend_count")))


# --- capacity and forecast ------------------------------------------------------------------------

@dataclass(frozen=True)
class AccountCapacity:
    """One account's capacity as pages and the API show it."""

    account: StaffAccount
    fill_percent: int  # floor of count / limit × 100
    room: int  # friends it may still add (0 when at or over the limit)
    net_adds: int  # adds − losses over the forecast window
    observed_days: int  # days of that window the account was observed (1..FORECAST_DAYS)
    daily_net: Decimal  # net adds per day, one decimal
    days_until_full: int | None  # None: not filling (net adds ≤ 0); 0: full
    alert: int  # 0, 80 or 95: the alert level the fill has reached now

    @property
    def over_limit(self) -> bool:
        return self.account.friend_count > self.account.friend_limit

    @property
    def limit_disagrees(self) -> bool:
        """WeCom refused the account as full with fewer friends than Siyu's limit."""
        return self.account.limit_disagrees

    @property
    def filling(self) -> bool:
        return self.days_until_full is not None


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def capacity_of(workspace: Workspace, accounts: list[StaffAccount], today: dt.date | None = None) -> list[AccountCapacity]:
    """Capacity and forecast for the given accounts of one brand, in one query for the days."""
    today = today or timezone.localdate()
    start = today - dt.timedelta(days=FORECAST_DAYS - 1)
    window = {
        row["account"]: row
        for row in AccountDay.objects.for_workspace(workspace)
        .filter(account__in=[a.pk for a in accounts], day__gte=start, day__lte=today)
        .values("account").annotate(adds=Sum("adds"), losses=Sum("losses"), first=Min("day"))
    }
    rows = []
    for account in accounts:
        stats: Mapping[str, Any] = window.get(account.pk, {})
        net = (stats.get("adds") or 0) - (stats.get("losses") or 0)
        # The account's first day: when we first saw it, or its earliest counted day if older.
        first_seen = timezone.localdate(account.created_at) if account.created_at else start
        if stats.get("first"):
            first_seen = min(first_seen, stats["first"])
        observed = min(FORECAST_DAYS, max(1, (today - max(first_seen, start)).days + 1))
        room = max(0, account.friend_limit - account.friend_count)
        if room == 0:
            days_until_full: int | None = 0
        elif net > 0:
            days_until_full = _ceil_div(room * observed, net)
        else:
            days_until_full = None
        rows.append(AccountCapacity(
            account=account,
            fill_percent=account.friend_count * 100 // account.friend_limit if account.friend_limit else 100,
            room=room,
            net_adds=net,
            observed_days=observed,
            daily_net=(Decimal(net) / observed).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP),
            days_until_full=days_until_full,
            alert=reached_level(account.friend_count, account.friend_limit),
        ))
    return rows
