"""渠道数据 — channel analytics: what each channel live code and each touchpoint type brought,
kept and cost over a range of Asia/Shanghai days, and the spend entered against the codes.

A code's adds are the follow relations whose `state` is the code's state (WECOM.md §3: the
contact way's state comes back on every add event). Figures come from a handful of grouped
queries whatever the number of codes and days (adds with their retention cohorts, deletions,
welfare issued, welfare redeemed, spend), so the page stays fast as codes and days grow.

Definitions (the console and the export say the same):
- net = adds − deletions by the customer − deletions by staff, all counted on their own day;
  a transfer to another account is not a loss.
- N-day retention = of the customers added in the range at least N days ago, the share still
  friends N days after their add (a transfer counts as kept). Customers added less than N days
  ago are not in the cohort; with nobody old enough the figure is n/a, not 0.
- cost = spend prorated by the days each spend period shares with the range, in fen; no spend
  entered over the range is "no figure", not a cost of 0.
- cost per retained customer = cost ÷ (adds × 7-day retention): exactly cost ÷ kept customers
  when every add is old enough, otherwise the kept share of the old-enough cohort applied to all.
- first purchase and revenue belong to the commerce module; until it fills them they are None.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, F, Q
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy

from siyu.accounts.models import StaffAccount
from siyu.channels.models import ChannelCode, ChannelSpend, Touchpoint, WelfareGrant
from siyu.channels.services.groups import NO_GROUP, GroupFilter, in_group
from siyu.core import bounds
from siyu.core.days import SHANGHAI, day_range, local_day
from siyu.core.exports import Sheet, xlsx_bytes
from siyu.core.models import AuditAction, Membership, Workspace
from siyu.core.permissions import Action, Module, Seat, require, role_of
from siyu.core.services import audit, audit_change, fact
from siyu.customers.models import DeletedBy, FollowRelation

RETENTION_DAYS = (1, 7, 30)
MAX_RANGE_DAYS = 366
PRESETS = {"7": 7, "30": 30}
MAX_SPEND_YUAN = Decimal("100000000")  # 1亿: a typo guard far above any one code's spend
RATE_PLACES = Decimal("0.0001")



# --- the range -------------------------------------------------------------------------------

def local_today(now: dt.datetime | None = None) -> dt.date:
    return local_day(now or timezone.now())


@dataclass(frozen=True)
class DateRange:
    """Whole Asia/Shanghai days from `start` to `end`, both included."""

    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def dates(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range(self.days)]

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """[first instant, instant after the last day) as aware datetimes."""
        return day_range(self.start, self.end)

    def overlap_days(self, start: dt.date, end: dt.date) -> int:
        return max(0, (min(end, self.end) - max(start, self.start)).days + 1)


def last_days(count: int, now: dt.datetime | None = None) -> DateRange:
    today = local_today(now)
    return DateRange(today - dt.timedelta(days=count - 1), today)


def parse_range(preset: str | None, start: str | dt.date | None, end: str | dt.date | None,
                now: dt.datetime | None = None) -> DateRange:
    """The range a page or API call asks for: a preset ("7", "30"), or custom start and end
    (ISO dates). Nothing asked: the last 7 days. A bad range raises ValidationError."""
    if start in (None, "") and end in (None, ""):
        return last_days(PRESETS.get(preset or "7", 7), now)
    errors: dict[str, list[str]] = {}
    parsed: dict[str, dt.date] = {}
    for key, value in (("start", start), ("end", end)):
        if isinstance(value, dt.date):
            parsed[key] = value
            continue
        try:
            parsed[key] = dt.date.fromisoformat(str(value or ""))
        except ValueError:
            errors[key] = [_("Enter a date as YYYY-MM-DD.")]
    for key, day in parsed.items():
        out_of_range = bounds.day_problem(day)  # a range's end + 1 day must still be a date
        if out_of_range:
            errors[key] = [out_of_range]
    if not errors and parsed["end"] < parsed["start"]:
        errors["end"] = [_("The end date is before the start date.")]
    if not errors and (parsed["end"] - parsed["start"]).days + 1 > MAX_RANGE_DAYS:
        errors["end"] = [_("Choose at most %(days)d days.") % {"days": MAX_RANGE_DAYS}]
    if errors:
        raise ValidationError(errors)
    return DateRange(parsed["start"], parsed["end"])


# --- figures ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Retention:
    """N-day retention of one cohort: `cohort` customers added at least N days ago, of whom
    `retained` were still friends N days after their add."""

    days: int
    cohort: int = 0
    retained: int = 0

    @property
    def rate(self) -> Decimal | None:
        """None (n/a) when no customer in the range is old enough yet."""
        if not self.cohort:
            return None
        return (Decimal(self.retained) / Decimal(self.cohort)).quantize(RATE_PLACES, ROUND_HALF_UP)

    def __add__(self, other: Retention) -> Retention:
        return Retention(self.days, self.cohort + other.cohort, self.retained + other.retained)


def _retentions() -> dict[int, Retention]:
    return {n: Retention(n) for n in RETENTION_DAYS}


def _fen_ratio(numerator: Decimal | int, denominator: Decimal | int) -> int | None:
    if not denominator:
        return None
    return int((Decimal(numerator) / Decimal(denominator)).quantize(Decimal(1), ROUND_HALF_UP))


@dataclass
class Figures:
    """One code's (or touchpoint's, or day's) numbers. Money is integer fen; None means there
    is no figure (no spend entered; commerce not there yet), never a pretended zero."""

    adds: int = 0
    deleted_by_customer: int = 0
    deleted_by_staff: int = 0
    retention: dict[int, Retention] = field(default_factory=_retentions)
    welfare_issued: int = 0
    welfare_redeemed: int = 0
    cost_fen: int | None = None
    # Filled by the commerce module (orders attributed to the channel); None until it exists.
    first_purchases: int | None = None
    revenue_fen: int | None = None

    @property
    def net(self) -> int:
        return self.adds - self.deleted_by_customer - self.deleted_by_staff

    @property
    def cost_per_add_fen(self) -> int | None:
        if self.cost_fen is None:
            return None
        return _fen_ratio(self.cost_fen, self.adds)

    @property
    def cost_per_retained_fen(self) -> int | None:
        """cost ÷ (adds × 7-day retention); see the module docstring."""
        week = self.retention[7]
        if self.cost_fen is None or not week.retained or not self.adds:
            return None
        return _fen_ratio(Decimal(self.cost_fen) * week.cohort, Decimal(self.adds) * week.retained)

    def __add__(self, other: Figures) -> Figures:
        def money(a: int | None, b: int | None) -> int | None:
            return None if a is None and b is None else (a or 0) + (b or 0)

        return Figures(
            adds=self.adds + other.adds,
            deleted_by_customer=self.deleted_by_customer + other.deleted_by_customer,
            deleted_by_staff=self.deleted_by_staff + other.deleted_by_staff,
            retention={n: self.retention[n] + other.retention[n] for n in RETENTION_DAYS},
            welfare_issued=self.welfare_issued + other.welfare_issued,
            welfare_redeemed=self.welfare_redeemed + other.welfare_redeemed,
            cost_fen=money(self.cost_fen, other.cost_fen),
        )


def _sum(figures: Iterable[Figures]) -> Figures:
    total = Figures()
    for f in figures:
        total = total + f
    return total


# --- columns: one list for the tables, the sorting, the API and the export ----------------------

@dataclass(frozen=True)
class Column:
    key: str
    label: Any  # lazy translation
    kind: str  # "text" | "count" | "rate" | "money" | "commerce"
    value: Callable[[Figures], int | Decimal | None]


COLUMNS: list[Column] = [
    Column("adds", gettext_lazy("Adds"), "count", lambda f: f.adds),
    Column("deleted_by_customer", gettext_lazy("Deleted by customer"), "count", lambda f: f.deleted_by_customer),
    Column("deleted_by_staff", pgettext_lazy("analytics column", "Deleted by staff"), "count", lambda f: f.deleted_by_staff),
    Column("net", gettext_lazy("Net adds"), "count", lambda f: f.net),
    Column("retention_1", gettext_lazy("1-day retention"), "rate", lambda f: f.retention[1].rate),
    Column("retention_7", gettext_lazy("7-day retention"), "rate", lambda f: f.retention[7].rate),
    Column("retention_30", gettext_lazy("30-day retention"), "rate", lambda f: f.retention[30].rate),
    Column("welfare_issued", pgettext_lazy("analytics column", "Welfare issued"), "count", lambda f: f.welfare_issued),
    Column("welfare_redeemed", pgettext_lazy("analytics column", "Welfare redeemed"), "count", lambda f: f.welfare_redeemed),
    Column("cost", gettext_lazy("Cost (yuan)"), "money", lambda f: f.cost_fen),
    Column("cost_per_add", gettext_lazy("Cost per add (yuan)"), "money", lambda f: f.cost_per_add_fen),
    Column("cost_per_retained", gettext_lazy("Cost per 7-day retained (yuan)"), "money",
           lambda f: f.cost_per_retained_fen),
    Column("first_purchases", gettext_lazy("First purchases"), "commerce", lambda f: f.first_purchases),
    Column("revenue", gettext_lazy("Revenue (yuan)"), "commerce", lambda f: f.revenue_fen),
]
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}
SORT_KEYS = ("name", "touchpoint", *COLUMN_BY_KEY)
DEFAULT_SORT = "net"


def yuan(fen: int | None) -> str:
    """Fen shown as yuan with two decimals; no figure is "—"."""
    if fen is None:
        return "—"
    return f"{(Decimal(fen) / 100).quantize(Decimal('0.01'))}"


def percent(rate: Decimal | None) -> str:
    return _("n/a") if rate is None else f"{(rate * 100).quantize(Decimal('0.1'))}%"


def display(column: Column, figures: Figures) -> str:
    """A cell as the page and the export's notes show it."""
    value = column.value(figures)
    if column.kind == "commerce":
        return "—" if value is None else str(value)
    if column.kind == "rate":
        return percent(value)  # type: ignore[arg-type]  # a rate column gives a Decimal
    if column.kind == "money":
        return yuan(value)  # type: ignore[arg-type]  # a money column gives fen (int)
    return str(value)


# --- the report ------------------------------------------------------------------------------

@dataclass
class CodeRow:
    code_id: int
    name: str
    touchpoint: str
    state: str
    active: bool
    figures: Figures
    daily: dict[dt.date, Figures]  # only the days with something to count
    group_id: int | None = None
    group_name: str = ""

    @property
    def touchpoint_label(self) -> str:
        return str(Touchpoint(self.touchpoint).label) if self.touchpoint in Touchpoint.values else self.touchpoint


@dataclass
class GroupRow:
    """活码分组 — a code group's figures: the sum of its codes' (None: the codes in no group)."""

    group_id: int | None
    name: str
    code_count: int
    figures: Figures
    daily: dict[dt.date, Figures]

    @property
    def filter_value(self) -> str:
        return str(self.group_id) if self.group_id is not None else NO_GROUP


@dataclass
class TouchpointRow:
    touchpoint: str
    code_count: int
    figures: Figures
    daily: dict[dt.date, Figures]

    @property
    def touchpoint_label(self) -> str:
        return str(Touchpoint(self.touchpoint).label) if self.touchpoint in Touchpoint.values else self.touchpoint

    @property
    def name(self) -> str:
        return self.touchpoint_label


@dataclass
class ChannelReport:
    """One range's figures: per code and per touchpoint (ranked), totals, and sparse daily
    figures for trends."""

    range: DateRange
    codes: list[CodeRow]
    touchpoints: list[TouchpointRow]
    totals: Figures
    sort: str
    descending: bool
    generated_at: dt.datetime
    groups: list[GroupRow] = field(default_factory=list)
    group: GroupFilter = None  # the codes the report is narrowed to (`groups.in_group`)

    def daily_totals(self) -> list[tuple[dt.date, Figures]]:
        merged: dict[dt.date, Figures] = defaultdict(Figures)
        for row in self.codes:
            for day, figures in row.daily.items():
                merged[day] = merged[day] + figures
        return [(day, merged.get(day, Figures())) for day in self.range.dates()]

    def trend(self, top: int = 5) -> dict[str, Any]:
        """Chart data: adds and net per day in total and for the `top` codes by adds."""
        days = self.range.dates()
        leaders = sorted(self.codes, key=lambda r: (-r.figures.adds, r.name))[:top]
        totals = self.daily_totals()
        return {
            "days": [d.isoformat() for d in days],
            "total": {"adds": [f.adds for _, f in totals], "net": [f.net for _, f in totals]},
            "codes": [
                {"name": r.name,
                 "adds": [r.daily[d].adds if d in r.daily else 0 for d in days],
                 "net": [r.daily[d].net if d in r.daily else 0 for d in days]}
                for r in leaders if r.figures.adds or r.figures.net
            ],
        }

    def comparison(self, top: int = 10, by: str = "codes") -> dict[str, Any]:
        """Chart data: adds, net adds and churn (deleted by the customer or by staff) of the `top`
        codes (or code groups, `by="groups"`) by adds, side by side. `empty` when none moved."""
        rows: list[Any] = self.groups if by == "groups" else self.codes
        moved = [r for r in rows if r.figures.adds or r.figures.deleted_by_customer or r.figures.deleted_by_staff]
        leaders = sorted(moved, key=lambda r: (-r.figures.adds, -r.figures.net, r.name))[:top]
        return {
            "codes": [r.name for r in leaders],
            "adds": [r.figures.adds for r in leaders],
            "net": [r.figures.net for r in leaders],
            "churn": [r.figures.deleted_by_customer + r.figures.deleted_by_staff for r in leaders],
            "others": max(0, len(moved) - len(leaders)),
            "empty": not leaders,
            "by": "groups" if by == "groups" else "codes",
        }


def _sort_rows(rows: list[Any], sort: str, descending: bool) -> list[Any]:
    """Rank by a column; rows without a figure (n/a, no spend) go last in either direction."""
    if sort in ("name", "touchpoint"):
        text = (lambda r: r.name) if sort == "name" else (lambda r: (r.touchpoint_label, r.name))
        return sorted(rows, key=text, reverse=descending)
    column = COLUMN_BY_KEY[sort]
    present: list[tuple[int | Decimal, Any]] = []
    missing = []
    for r in rows:
        value = column.value(r.figures)
        if value is None:
            missing.append(r)
        else:
            present.append((value, r))
    present.sort(key=lambda pair: pair[1].name)  # ties in name order, whichever direction
    present.sort(key=lambda pair: pair[0], reverse=descending)
    return [r for _value, r in present] + sorted(missing, key=lambda r: r.name)


def _day(value: dt.date | dt.datetime) -> dt.date:
    # TruncDate answers a date (PostgreSQL, SQLite through Django's functions alike).
    return value.date() if isinstance(value, dt.datetime) else value


def _spend_fen(spends: Iterable[ChannelSpend], period: DateRange) -> dict[int, int]:
    """Each code's spend prorated by the days its periods share with the range, rounded once
    per code (half up) so the rounding never compounds."""
    exact: dict[int, Decimal] = defaultdict(Decimal)
    for spend in spends:
        shared = period.overlap_days(spend.start, spend.end)
        length = (spend.end - spend.start).days + 1
        exact[spend.code_id] += Decimal(spend.amount_fen) * shared / length
    return {code_id: int(value.quantize(Decimal(1), ROUND_HALF_UP)) for code_id, value in exact.items()}


def _rollup(rows: list[CodeRow], key: Callable[[CodeRow], Any]) -> dict[Any, tuple[list[CodeRow], dict[dt.date, Figures]]]:
    """Code rows gathered by `key`, each gathering with its daily figures merged."""
    gathered: dict[Any, list[CodeRow]] = defaultdict(list)
    for row in rows:
        gathered[key(row)].append(row)
    result = {}
    for value, members in gathered.items():
        merged: dict[dt.date, Figures] = defaultdict(Figures)
        for member in members:
            for day, figures in member.daily.items():
                merged[day] = merged[day] + figures
        result[value] = (members, dict(merged))
    return result


def channel_report(workspace: Workspace, membership: Membership | None, period: DateRange,
                   sort: str = DEFAULT_SORT, descending: bool = True,
                   now: dt.datetime | None = None, group: GroupFilter = None) -> ChannelReport:
    """Per code, per touchpoint and per code group figures over `period`, ranked by `sort`
    (default net adds); `group` narrows every figure to one group's codes (or those in none).

    Six queries whatever the number of codes and days."""
    require(role_of(membership), Module.CHANNELS, Action.VIEW)
    if sort not in SORT_KEYS:
        raise ValidationError({"sort": [_("Unknown column “%(sort)s”.") % {"sort": sort}]})
    now = now or timezone.now()
    lo, hi = period.bounds()
    chosen = in_group(ChannelCode.objects.for_workspace(workspace), group)
    codes = list(chosen.select_related("group").only("id", "name", "touchpoint", "state", "active", "group__name")
                 .order_by("id"))
    by_state = {c.state: c for c in codes if c.state}
    code_states = chosen.exclude(state="").values("state")
    relations = FollowRelation.objects.for_workspace(workspace).filter(state__in=code_states)

    daily: dict[int, dict[dt.date, Figures]] = defaultdict(lambda: defaultdict(Figures))

    # 1. adds by code and day, each day's cohort for every retention horizon
    cohort_counts: dict[str, Any] = {}
    for n in RETENTION_DAYS:
        old_enough = Q(added_at__lte=now - dt.timedelta(days=n))
        kept = (Q(deleted_at__isnull=True) | Q(deleted_at__gte=F("added_at") + dt.timedelta(days=n))
                | Q(deleted_by=DeletedBy.TRANSFER))
        cohort_counts[f"cohort_{n}"] = Count("id", filter=old_enough)
        cohort_counts[f"kept_{n}"] = Count("id", filter=old_enough & kept)
    adds = (relations.filter(added_at__gte=lo, added_at__lt=hi)
            .annotate(day=TruncDate("added_at", tzinfo=SHANGHAI))
            .values("state", "day").annotate(adds=Count("id"), **cohort_counts).order_by())
    for added in adds:
        if added["state"] not in by_state:
            continue  # a code created after the first query; the next page load counts it
        figures = daily[by_state[added["state"]].pk][_day(added["day"])]
        figures.adds += added["adds"]
        for n in RETENTION_DAYS:
            cohort, kept = added[f"cohort_{n}"], added[f"kept_{n}"]  # type: ignore[literal-required]  # named at run time
            figures.retention[n] = figures.retention[n] + Retention(n, cohort, kept)

    # 2. deletions by code, day and who deleted
    deletions = (relations.filter(deleted_at__gte=lo, deleted_at__lt=hi,
                                  deleted_by__in=[DeletedBy.CUSTOMER, DeletedBy.STAFF])
                 .annotate(day=TruncDate("deleted_at", tzinfo=SHANGHAI))
                 .values("state", "day", "deleted_by").annotate(count=Count("id")).order_by())
    for deletion in deletions:
        if deletion["state"] not in by_state:
            continue
        figures = daily[by_state[deletion["state"]].pk][_day(deletion["day"])]
        if deletion["deleted_by"] == DeletedBy.CUSTOMER:
            figures.deleted_by_customer += deletion["count"]
        else:
            figures.deleted_by_staff += deletion["count"]

    # 3 and 4. welfare issued and redeemed through each code, on their own days
    grants = WelfareGrant.objects.for_workspace(workspace).filter(channel__in=chosen.values("id"))
    for moment, attribute in (("granted_at", "welfare_issued"), ("redeemed_at", "welfare_redeemed")):
        rows = (grants.filter(**{f"{moment}__gte": lo, f"{moment}__lt": hi})
                .annotate(day=TruncDate(moment, tzinfo=SHANGHAI))
                .values("channel_id", "day").annotate(count=Count("id")).order_by())
        for counted in rows:
            figures = daily[counted["channel_id"]][_day(counted["day"])]
            setattr(figures, attribute, getattr(figures, attribute) + counted["count"])

    # 5. spend whose period touches the range
    spend = _spend_fen(ChannelSpend.objects.for_workspace(workspace)
                       .filter(start__lte=period.end, end__gte=period.start, code__in=chosen.values("id"))
                       .only("code_id", "start", "end", "amount_fen"), period)

    code_rows = []
    for code in codes:
        days = dict(daily.get(code.pk, {}))
        figures = replace(_sum(days.values()), cost_fen=spend.get(code.pk))
        code_rows.append(CodeRow(code.pk, code.name, code.touchpoint, code.state, code.active, figures, days,
                                 code.group_id, code.group.name if code.group else ""))

    touch_rows = [TouchpointRow(touchpoint, len(members), _sum(m.figures for m in members), merged)
                  for touchpoint, (members, merged) in _rollup(code_rows, lambda r: r.touchpoint).items()]
    group_rows = [GroupRow(group_id, members[0].group_name or str(_("No group")), len(members),
                           _sum(m.figures for m in members), merged)
                  for group_id, (members, merged) in _rollup(code_rows, lambda r: r.group_id).items()]

    return ChannelReport(
        range=period,
        codes=_sort_rows(code_rows, sort, descending),
        touchpoints=_sort_rows(touch_rows, sort if sort != "name" else "touchpoint", descending),
        totals=_sum(r.figures for r in code_rows),
        sort=sort,
        descending=descending,
        generated_at=now,
        groups=_sort_rows(group_rows, sort if sort != "touchpoint" else "name", descending),
        group=group,
    )


# --- per staff account ---------------------------------------------------------------------------

@dataclass(frozen=True)
class StaffRow:
    """One staff account's acquisition through the brand's channel codes over a range."""

    account_id: int
    name: str
    adds: int
    lost: int  # deleted by the customer or by staff; transfers are not losses

    @property
    def net(self) -> int:
        return self.adds - self.lost


def staff_ranking(workspace: Workspace, membership: Membership | None, period: DateRange,
                  limit: int = 15) -> list[StaffRow]:
    """The staff accounts ranked by adds through channel codes in `period` (then by net adds),
    at most `limit`. Three queries whatever the range."""
    require(role_of(membership), Module.CHANNELS, Action.VIEW)
    lo, hi = period.bounds()
    code_states = ChannelCode.objects.for_workspace(workspace).exclude(state="").values("state")
    relations = FollowRelation.objects.for_workspace(workspace).filter(state__in=code_states)
    adds = dict(relations.filter(added_at__gte=lo, added_at__lt=hi)
                .values("account_id").annotate(n=Count("id")).order_by().values_list("account_id", "n"))
    lost = dict(relations.filter(deleted_at__gte=lo, deleted_at__lt=hi,
                                 deleted_by__in=[DeletedBy.CUSTOMER, DeletedBy.STAFF])
                .values("account_id").annotate(n=Count("id")).order_by().values_list("account_id", "n"))
    ids = set(adds) | set(lost)
    names = {a.pk: str(a) for a in StaffAccount.objects.for_workspace(workspace).filter(pk__in=ids)
             .only("id", "name", "userid")}
    rows = [StaffRow(pk, names.get(pk, "—"), adds.get(pk, 0), lost.get(pk, 0)) for pk in ids]
    rows.sort(key=lambda r: (-r.adds, -r.net, r.name))
    return rows[:limit]


def staff_chart(rows: list[StaffRow]) -> dict[str, Any]:
    """Chart data for `staff_ranking`: the best first at the top of a horizontal bar chart."""
    shown = list(reversed(rows))  # ECharts draws a category axis from the bottom up
    return {"accounts": [r.name for r in shown], "adds": [r.adds for r in shown],
            "net": [r.net for r in shown], "empty": not rows}


# --- spend -----------------------------------------------------------------------------------

def parse_yuan(amount: Decimal | str | int | float) -> Decimal:
    """A positive amount in yuan with at most two decimals (fen), or a ValidationError."""
    try:
        value = Decimal(str(amount).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError({"amount_yuan": [_("Enter an amount in yuan, e.g. 1280.50.")]}) from None
    if not value.is_finite():
        raise ValidationError({"amount_yuan": [_("Enter an amount in yuan, e.g. 1280.50.")]})
    if value <= 0:
        raise ValidationError({"amount_yuan": [_("The amount must be more than zero.")]})
    if value > MAX_SPEND_YUAN:
        raise ValidationError({"amount_yuan": [_("That is more than %(max)s yuan; check the amount.")
                                               % {"max": MAX_SPEND_YUAN}]})
    if value != value.quantize(Decimal("0.01")):
        raise ValidationError({"amount_yuan": [_("Use at most two decimals (fen).")]})
    return value


def add_spend(workspace: Workspace, membership: Seat | None, code_id: int,
              start: dt.date, end: dt.date, amount_yuan: Decimal | str | int, note: str = "") -> ChannelSpend:
    """Record what a code cost over a period (ads, printing, promoter fees)."""
    require(role_of(membership), Module.CHANNELS, Action.EDIT)
    code = ChannelCode.objects.for_workspace(workspace).get(pk=code_id)
    errors: dict[str, list[str]] = {}
    try:
        amount = parse_yuan(amount_yuan)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        amount = Decimal(0)
    out_of_range = [(key, bounds.day_problem(day)) for key, day in (("start", start), ("end", end)) if day is not None]
    for key, problem in out_of_range:
        if problem:  # a report's range end + 1 day must still be a date
            errors.setdefault(key, []).append(problem)
    if start is None or end is None:
        errors.setdefault("start", []).append(_("Enter the period's first and last day."))
    elif end < start:
        errors.setdefault("end", []).append(_("The end date is before the start date."))
    if len(note) > 120:
        errors.setdefault("note", []).append(_("Keep the note within 120 characters."))
    if errors:
        raise ValidationError(errors)
    spend = ChannelSpend.objects.create(workspace=workspace, code=code, start=start, end=end,
                                        amount_fen=int(amount * 100), note=note.strip())
    _audit_spend(workspace, membership, AuditAction.CREATED, spend)
    return spend


def _audit_spend(workspace: Workspace, membership: Seat | None, action: AuditAction, spend: ChannelSpend) -> None:
    audit_change(workspace, membership, action, module="channels", subject=gettext_lazy("channel spend"),
                 name=spend.code.name, facts=[
                     fact(gettext_lazy("period"), f"{spend.start.isoformat()} – {spend.end.isoformat()}"),
                     fact(gettext_lazy("amount (yuan)"), f"{Decimal(spend.amount_fen) / 100:.2f}")])


def list_spends(workspace: Workspace, membership: Membership | None, limit: int = 200) -> list[ChannelSpend]:
    require(role_of(membership), Module.CHANNELS, Action.VIEW)
    return list(ChannelSpend.objects.for_workspace(workspace).select_related("code")
                .order_by("-start", "-id")[:limit])


def delete_spend(workspace: Workspace, membership: Membership | None, spend_id: int) -> None:
    """Remove a mistaken entry (another brand's id is simply not found)."""
    require(role_of(membership), Module.CHANNELS, Action.EDIT)
    spend = ChannelSpend.objects.for_workspace(workspace).select_related("code").get(pk=spend_id)
    spend.delete()
    _audit_spend(workspace, membership, AuditAction.DELETION, spend)


def spend_code_options(workspace: Workspace, membership: Membership | None) -> list[ChannelCode]:
    require(role_of(membership), Module.CHANNELS, Action.EDIT)
    return list(ChannelCode.objects.for_workspace(workspace).only("id", "name", "touchpoint").order_by("name"))


# --- export ----------------------------------------------------------------------------------

def _group_label(result: ChannelReport) -> str:
    if result.group is None:
        return _("All codes")
    if result.group == NO_GROUP:
        return _("No group")
    return result.groups[0].name if result.groups else _("No code in this group")

@dataclass(frozen=True)
class Export:
    filename: str
    content: bytes
    rows: int


def _cell(column: Column, figures: Figures) -> Any:
    """Numbers stay numbers (yuan, ratios) so Excel can sum and chart them; no figure is text."""
    value = column.value(figures)
    if value is None:
        return "—" if column.kind in ("commerce", "money") else _("n/a")
    if column.kind == "money":
        return float(Decimal(value) / 100)  # openpyxl writes floats; two decimals by number format
    if column.kind == "rate":
        return float(value)
    return value


def _table(title: str, first: list[str], rows: list[Any], lead: Callable[[Any], list[Any]]) -> Sheet:
    formats = {index: number_format for index, column in enumerate(COLUMNS, start=len(first))
               if (number_format := {"money": "0.00", "rate": "0.0%"}.get(column.kind))}
    return Sheet(title, [first + [str(c.label) for c in COLUMNS],
                         *(lead(row) + [_cell(c, row.figures) for c in COLUMNS] for row in rows)],
                 widths=[22, 14] + [12] * 17, number_formats=formats)


def export_report(workspace: Workspace, membership: Membership | None, period: DateRange,
                  sort: str = DEFAULT_SORT, descending: bool = True, ip_address: str | None = None,
                  now: dt.datetime | None = None, group: GroupFilter = None) -> Export:
    """The ranked tables as an .xlsx workbook (codes, code groups, touchpoints, days, notes),
    narrowed to one code group with `group`, audit-logged as an export with its row count.
    Headers follow the active language; names are written as text, never as formulas
    (`core.exports`)."""
    require(role_of(membership), Module.CHANNELS, Action.EXPORT)
    result = channel_report(workspace, membership, period, sort, descending, now, group=group)
    days: list[list[Any]] = [[_("Day"), _("Adds"), _("Deleted by customer"), pgettext("analytics column", "Deleted by staff"), _("Net adds"),
             pgettext("analytics column", "Welfare issued"), pgettext("analytics column", "Welfare redeemed")]]
    days += [[day, f.adds, f.deleted_by_customer, f.deleted_by_staff, f.net, f.welfare_issued, f.welfare_redeemed]
             for day, f in result.daily_totals()]
    notes = [
        [_("Range"), f"{period.start.isoformat()} – {period.end.isoformat()} (Asia/Shanghai)"],
        [_("Generated at"), result.generated_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")],
        [_("Net adds"), _("Adds minus deletions by the customer and by staff; transfers are not losses.")],
        [_("Retention"), _("Share of the customers added in the range at least N days ago who were still "
                           "friends N days after their add; n/a when nobody is old enough.")],
        [_("Cost"), _("Spend prorated by the days each spend period shares with the range; — when no "
                      "spend was entered.")],
        [_("First purchases"), _("Filled by the commerce module.")],
        [pgettext("channel code", "Code group"), _group_label(result)],
    ]
    content = xlsx_bytes([
        _table(_("Channel codes"), [_("Channel code"), _("Touchpoint"), pgettext("channel code", "Code group")],
               result.codes, lambda r: [r.name, r.touchpoint_label, r.group_name or _("No group")]),
        _table(_("Code groups"), [pgettext("channel code", "Code group"), _("Codes")], result.groups,
               lambda r: [r.name, r.code_count]),
        _table(_("Touchpoints"), [_("Touchpoint"), _("Codes")], result.touchpoints,
               lambda r: [r.touchpoint_label, r.code_count]),
        Sheet(_("By day"), days),
        Sheet(_("Notes"), notes, header=False, widths=[18, 100]),
    ])
    rows = len(result.codes)
    audit(workspace, getattr(membership, "user", None), AuditAction.EXPORT, "channel analytics",
          {"rows": rows, "start": period.start.isoformat(), "end": period.end.isoformat(), "sort": sort,
           "group": "" if group is None else str(group)},
          ip_address, module="channels")
    filename = f"channel-analytics-{period.start.isoformat()}-{period.end.isoformat()}.xlsx"
    return Export(filename, content, rows)
