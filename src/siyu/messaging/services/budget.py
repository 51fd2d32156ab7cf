"""The receive-limit budgeter (收件额度): one ledger per customer and per group, shared by every
sender in Siyu (群发, SOP, fission, community notices).

WECOM.md §5: a customer receives at most a limited number of mass messages per period; WeCom
refuses the rest with status 3 after a member has confirmed, so Siyu counts before it sends. The
rule is the brand's (`MessagingSettings.budget_rule`): as many a month as the month has days (the
default), one a day, or four a month, in Asia/Shanghai periods.

- `preview` reads who would be refused;
- `reserve` takes one unit for each recipient that still has one, atomically: an
  `INSERT … ON CONFLICT … DO UPDATE … WHERE count < limit` per recipient, in one statement for the
  whole set, so two senders racing for a customer's last unit cannot both get it;
- `release` gives a unit back when the send did not happen (cancelled, not a friend, refused by
  WeCom). The caller keeps its own per-recipient record (`MassRecipient`) and releases each
  recipient once, after claiming that row with a conditional UPDATE: the ledger holds counts,
  not reservations, so 1,000,000 recipients cost one row write each.

Recipients are given as ids or as a queryset of ids, so a million never travel through Python.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import QuerySet

from siyu.core.models import Workspace
from siyu.messaging.models import BudgetRule, MessagingSettings, ReceiveCount, RecipientKind

SHANGHAI = ZoneInfo("Asia/Shanghai")
TABLE = ReceiveCount._meta.db_table


class Source(StrEnum):
    """Who spends from the ledger (for the caller's records and errors)."""

    MASS = "mass"
    SOP = "sop"
    FISSION = "fission"
    COMMUNITY = "community"


@dataclass(frozen=True)
class Period:
    span: str  # "m" month, "d" day
    start: dt.date
    limit: int


def rule_of(workspace: Workspace) -> BudgetRule:
    found = MessagingSettings.unscoped.filter(workspace=workspace).values_list("budget_rule", flat=True).first()
    return BudgetRule(found) if found else BudgetRule.MONTH_DAYS


def period_of(rule: BudgetRule, at: dt.datetime) -> Period:
    """The period `at` falls in, counted in Asia/Shanghai, and its limit under `rule`."""
    local = at.astimezone(SHANGHAI).date()
    if rule == BudgetRule.DAILY_ONE:
        return Period("d", local, 1)
    month_start = local.replace(day=1)
    if rule == BudgetRule.MONTHLY_FOUR:
        return Period("m", month_start, 4)
    return Period("m", month_start, calendar.monthrange(local.year, local.month)[1])


@dataclass(frozen=True)
class Recipients:
    """Whom a call is about: explicit ids, or a queryset of one id column (`values("pk")`)."""

    kind: RecipientKind
    ids: tuple[int, ...] | None = None
    query: QuerySet[Any, Any] | None = None

    @classmethod
    def customers(cls, ids_or_query: Iterable[int] | QuerySet[Any, Any]) -> Recipients:
        if isinstance(ids_or_query, QuerySet):
            return cls(RecipientKind.CUSTOMER, query=ids_or_query)
        return cls(RecipientKind.CUSTOMER, ids=tuple(int(i) for i in ids_or_query))

    @classmethod
    def groups(cls, ids_or_query: Iterable[int] | QuerySet[Any, Any]) -> Recipients:
        """Customer groups (客户群) by the community app's group key: WeCom counts a group's
        receive limit like a customer's (WECOM.md §5), in a ledger of its own."""
        if isinstance(ids_or_query, QuerySet):
            return cls(RecipientKind.GROUP, query=ids_or_query)
        return cls(RecipientKind.GROUP, ids=tuple(int(i) for i in ids_or_query))

    def sql(self) -> tuple[str, list[Any]]:
        """A SELECT of one column, the recipients' ids (with repeats, if given twice)."""
        if self.query is not None:
            query = self.query.order_by()
            inner, params = query.query.get_compiler(using=query.db).as_sql()
            return inner, list(params)
        if connection.vendor == "postgresql":
            return "SELECT unnest(%s::bigint[])", [list(self.ids or ())]
        return "SELECT value FROM json_each(%s)", [json.dumps(list(self.ids or ()))]


@dataclass(frozen=True)
class BudgetCheck:
    """`refused`: recipient id → how many they already have in the period."""

    period: Period
    refused: dict[int, int]


@dataclass(frozen=True)
class Reservation:
    period: Period
    reserved: int
    refused: frozenset[int]


def _period(workspace: Workspace, at: dt.datetime, rule: BudgetRule | None) -> Period:
    return period_of(rule or rule_of(workspace), at)


def preview(workspace: Workspace, recipients: Recipients, at: dt.datetime,
            rule: BudgetRule | None = None) -> BudgetCheck:
    """Who among `recipients` has no unit left in the period of `at`. Reads only."""
    period = _period(workspace, at, rule)
    inner, params = recipients.sql()
    sql = (f"SELECT c.recipient_id, c.count FROM {TABLE} c WHERE c.workspace_id = %s AND c.kind = %s "  # noqa: S608
           f"AND c.span = %s AND c.period_start = %s AND c.count >= %s AND c.recipient_id IN ({inner})")
    with connection.cursor() as cursor:
        cursor.execute(sql, [workspace.pk, recipients.kind, period.span, period.start, period.limit, *params])
        return BudgetCheck(period, {int(r): int(n) for r, n in cursor.fetchall()})


def reserve(workspace: Workspace, recipients: Recipients, at: dt.datetime, source: Source | str, ref: str,
            rule: BudgetRule | None = None) -> Reservation:
    """Take one unit in the period of `at` for every recipient that has one left; the rest are
    refused. Atomic under concurrency; a recipient given twice counts once. `source` and `ref`
    (e.g. "mass", the message id) name the spender for the caller's record."""
    Source(source)  # an unknown spender is a programming error
    period = _period(workspace, at, rule)
    inner, params = recipients.sql()
    head: list[Any] = [workspace.pk, recipients.kind, period.span, period.start]
    # Rows are taken in recipient order, so two senders over overlapping sets lock in the same
    # order and cannot deadlock.
    upsert = (f"INSERT INTO {TABLE} (workspace_id, kind, recipient_id, span, period_start, count) "  # noqa: S608
              f"SELECT %s, %s, w.rid, %s, %s, 1 FROM wanted w WHERE true ORDER BY w.rid "
              f"ON CONFLICT (workspace_id, kind, recipient_id, span, period_start) "
              f"DO UPDATE SET count = {TABLE}.count + 1 WHERE {TABLE}.count < %s RETURNING recipient_id")
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL work_mem = '256MB'")  # a million ids hash in memory
            cursor.execute(
                f"WITH r(rid) AS ({inner}), wanted AS (SELECT DISTINCT rid FROM r), "  # noqa: S608
                f"taken AS ({upsert}) "
                f"SELECT (SELECT count(*) FROM taken), w.rid FROM wanted w "
                f"WHERE NOT EXISTS (SELECT 1 FROM taken t WHERE t.recipient_id = w.rid) "
                f"UNION ALL SELECT (SELECT count(*) FROM taken), NULL",
                [*params, *head, period.limit])
            rows = cursor.fetchall()
            reserved = int(rows[0][0]) if rows else 0
            refused = frozenset(int(r) for _, r in rows if r is not None)
            return Reservation(period, reserved, refused)
        # SQLite writes one transaction at a time: the same statement without a CTE around it.
        cursor.execute("DROP TABLE IF EXISTS temp.wanted")
        cursor.execute(f"CREATE TEMP TABLE wanted AS WITH r(rid) AS ({inner}) SELECT DISTINCT rid FROM r", params)  # noqa: S608
        cursor.execute(upsert, [*head, period.limit])
        taken = {int(r) for (r,) in cursor.fetchall()}
        cursor.execute("SELECT rid FROM temp.wanted")
        wanted = {int(r) for (r,) in cursor.fetchall()}
        cursor.execute("DROP TABLE temp.wanted")
        return Reservation(period, len(taken), frozenset(wanted - taken))


def release(workspace: Workspace, recipients: Recipients, at: dt.datetime, source: Source | str, ref: str,
            rule: BudgetRule | None = None) -> int:
    """Give back the unit each recipient reserved in the period of `at` (their send did not
    happen). The caller releases a recipient once: it claims its own record first."""
    Source(source)
    period = _period(workspace, at, rule)
    inner, params = recipients.sql()
    sql = (f"UPDATE {TABLE} SET count = count - 1 WHERE workspace_id = %s AND kind = %s AND span = %s "  # noqa: S608
           f"AND period_start = %s AND count > 0 AND recipient_id IN ({inner})")
    with connection.cursor() as cursor:
        cursor.execute(sql, [workspace.pk, recipients.kind, period.span, period.start, *params])
        return int(cursor.rowcount)


def received(workspace: Workspace, customer_ids: Iterable[int], at: dt.datetime,
             rule: BudgetRule | None = None, kind: RecipientKind = RecipientKind.CUSTOMER) -> dict[int, int]:
    """How many units each customer (or group) holds in the period of `at` (for pages and tests)."""
    period = _period(workspace, at, rule)
    rows = ReceiveCount.unscoped.filter(workspace=workspace, kind=kind, span=period.span,
                                        period_start=period.start, recipient_id__in=list(customer_ids))
    return dict(rows.values_list("recipient_id", "count"))
