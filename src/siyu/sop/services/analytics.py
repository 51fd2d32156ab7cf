"""SOP 数据 — how an SOP's steps fire and how staff carry out the tasks they make.

Per SOP and step (its current version, or every version): runs by state, why runs did not fire,
how many customers a step reached, its staff tasks' completion rate and time to complete, and
runs ended per day. Per member of staff (the WeCom account a task is assigned to) over a range
of Asia/Shanghai days: tasks assigned, done, done on time, overdue, skipped, time to complete.

Every figure comes from a fixed handful of grouped queries, whatever the number of runs, tasks
and staff, so the pages cost the same for ten customers as for a million.

Definitions (the pages and the exports say the same):
- reached: for a 群发 step, recipients WeCom reports the message delivered to; for a task step,
  tasks done with an outcome;
- time to complete: from the task falling due to its being done (a snooze counts: the customer
  waited); the median is the middle task's, the average every done task's;
- on time: done by the task's breach time (due + its SLA hours);
- overdue: still to do (open or snoozed) past its breach time;
- completion rate: done ÷ tasks made (a skipped task is not done).

Roles: the `sop` column — view to see, export to download. A role that may only view (not edit
or export) sees its own row of the staff table, as in the task centre.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import (
    Avg,
    BigIntegerField,
    CharField,
    Count,
    DateTimeField,
    Exists,
    F,
    FloatField,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    Window,
)
from django.db.models.functions import Cast, Concat, RowNumber, Substr, TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from siyu.accounts.models import StaffAccount
from siyu.core.auditing import audit
from siyu.core.days import SHANGHAI, day_range, local_day
from siyu.core.exports import Sheet, xlsx_bytes
from siyu.core.models import AuditAction, Workspace
from siyu.core.permissions import Action, Seat, allows, require, role_of

# Per-recipient outcomes of a 群发: read in the same query as the runs (a primary-key probe per
# run), which no service of `messaging` can offer without a round trip per message.
from siyu.messaging.models import MassGroupRecipient, MassRecipient, RecipientStatus
from siyu.sop.models import (
    REASONS,
    RunState,
    Sop,
    SopStep,
    StaffTask,
    StepChannel,
    StepRun,
    TaskState,
)

MODULE = "sop"
TASK_REF = "sop-run:"  # a SOP task's ref is sop-run:<its run's pk> (services/sweep.py)
CHART_DAYS = 30
MAX_RANGE_DAYS = 366
NOT_FIRED = (RunState.SKIPPED, RunState.EXPIRED, RunState.FAILED)
TO_DO = (TaskState.OPEN, TaskState.SNOOZED)


class MinutesBetween(Func):
    """Minutes from `start` to `end` (datetimes), as the database computes them."""

    output_field = FloatField()

    def __init__(self, start: Any, end: Any) -> None:
        super().__init__(end, start)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="((julianday(%(expressions)s)) * 1440.0)",
                           arg_joiner=") - julianday(", **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection,
                           template="CAST(EXTRACT(EPOCH FROM (%(expressions)s)) / 60.0 AS double precision)",
                           arg_joiner=" - ", **extra)


DONE = Q(state=TaskState.DONE, done_at__isnull=False)
ON_TIME = DONE & (Q(breach_at__isnull=False, done_at__lte=F("breach_at"))
                  | Q(breach_at__isnull=True, taken__lte=F("sla_hours") * 60))


def _tasks_with_times(tasks: QuerySet[StaffTask], now: dt.datetime) -> QuerySet[StaffTask]:
    """Tasks annotated with `taken` (minutes due → done) and `waited` (minutes due → now)."""
    return tasks.annotate(taken=MinutesBetween("due_at", "done_at"),
                          waited=MinutesBetween("due_at", Value(now, output_field=DateTimeField())))


def _overdue(now: dt.datetime) -> Q:
    return Q(state__in=TO_DO) & (Q(breach_at__lt=now) | Q(breach_at__isnull=True, waited__gt=F("sla_hours") * 60))


def _task_figures(tasks: QuerySet[StaffTask], key: str, now: dt.datetime) -> dict[Any, dict[str, Any]]:
    """key → tasks made, done, on time, overdue, skipped, reached and average minutes, one query."""
    rows = (_tasks_with_times(tasks, now).values(key).order_by(key).annotate(
                made=Count("pk"), done=Count("pk", filter=DONE), on_time=Count("pk", filter=ON_TIME),
                overdue=Count("pk", filter=_overdue(now)), skipped=Count("pk", filter=Q(state=TaskState.SKIPPED)),
                reached=Count("pk", filter=DONE & ~Q(outcome="")), average=Avg("taken", filter=DONE)))
    return {row.pop(key): row for row in rows}


def _medians(tasks: QuerySet[StaffTask], key: str, now: dt.datetime) -> dict[Any, float]:
    """key → median minutes to complete of the done tasks, from one query: a window over each
    group's done tasks ordered by time taken keeps only the one or two rows in the middle."""
    ranked = _tasks_with_times(tasks.filter(DONE), now).annotate(
        rank=Window(RowNumber(), partition_by=[F(key)], order_by=[F("taken").asc(), F("pk").asc()]),
        size=Window(Count("pk"), partition_by=[F(key)]))
    middle: dict[Any, list[float]] = defaultdict(list)
    for group, minutes in (ranked.filter(rank__gte=(F("size") + 1) / 2, rank__lte=(F("size") + 2) / 2)
                           .values_list(key, "taken")):
        middle[group].append(float(minutes))
    return {group: sum(values) / len(values) for group, values in middle.items()}


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _hours(minutes: float | None) -> float | None:
    return round(minutes / 60, 1) if minutes is not None else None


class TimesToComplete:
    """Median and average time to complete, in hours, for the pages and the exports."""

    median_minutes: float | None
    average_minutes: float | None

    @property
    def median_hours(self) -> float | None:
        return _hours(self.median_minutes)

    @property
    def average_hours(self) -> float | None:
        return _hours(self.average_minutes)


# --- per SOP and step ------------------------------------------------------------------------

@dataclass(frozen=True)
class StepFigures(TimesToComplete):
    """One step's runs by state, why those not fired did not, and its reach and tasks."""

    step: SopStep
    version: int
    counts: dict[str, int]  # run state → runs
    reasons: list[tuple[str, str, int]]  # (state, reason as people read it, runs)
    reached: int
    tasks: int = 0  # task steps: tasks made
    done: int = 0
    on_time: int = 0
    overdue: int = 0
    median_minutes: float | None = None
    average_minutes: float | None = None

    @property
    def is_task(self) -> bool:
        return self.step.channel == StepChannel.TASK

    @property
    def runs(self) -> int:
        return sum(self.counts.values())

    @property
    def not_fired(self) -> int:
        return sum(self.counts[s] for s in NOT_FIRED)

    @property
    def completion_rate(self) -> float | None:
        return _rate(self.done, self.tasks)

    @property
    def on_time_rate(self) -> float | None:
        return _rate(self.on_time, self.done)

    @property
    def label(self) -> str:
        return f"v{self.version} #{self.step.order}"


@dataclass(frozen=True)
class SopAnalytics:
    sop: Sop
    all_versions: bool
    steps: list[StepFigures]
    days: list[dt.date]
    fired_per_day: list[int]
    not_fired_per_day: list[int]
    generated_at: dt.datetime = field(default_factory=timezone.now)

    def daily_chart(self) -> dict[str, Any]:
        return {"days": [d.isoformat() for d in self.days], "fired": self.fired_per_day,
                "not_fired": self.not_fired_per_day,
                "labels": {"fired": str(RunState.SENT.label), "not_fired": _("Not fired")}}

    def steps_chart(self) -> dict[str, Any]:
        return {"steps": [s.label for s in self.steps],
                "states": [{"state": state, "label": str(label), "runs": [s.counts[state] for s in self.steps]}
                           for state, label in RunState.choices],
                "reached": [s.reached for s in self.steps], "reached_label": _("Reached")}

    @property
    def has_runs(self) -> bool:
        return any(s.runs for s in self.steps)

    @property
    def has_days(self) -> bool:
        return any(self.fired_per_day) or any(self.not_fired_per_day)


def _chart_days(now: dt.datetime) -> list[dt.date]:
    today = local_day(now)
    return [today - dt.timedelta(days=n) for n in range(CHART_DAYS - 1, -1, -1)]


def sop_analytics(workspace: Workspace, membership: Seat | None, sop_id: int, *, all_versions: bool = False,
                  now: dt.datetime | None = None) -> SopAnalytics:
    """Per step of the SOP's current version (or of every version): see the module's definitions."""
    require(role_of(membership), MODULE, Action.VIEW)
    now = now or timezone.now()
    sop = Sop.objects.for_workspace(workspace).select_related("current_version").get(pk=sop_id)
    steps = SopStep.objects.for_workspace(workspace).select_related("version").order_by("version__number", "order")
    steps = steps.filter(version__sop=sop) if all_versions else steps.filter(version_id=sop.current_version_id)
    steps_by_id = {s.pk: s for s in steps}
    runs = StepRun.objects.for_workspace(workspace).filter(step_id__in=list(steps_by_id))

    counts: dict[int, dict[str, int]] = {pk: dict.fromkeys(RunState.values, 0) for pk in steps_by_id}
    reasons: dict[int, list[tuple[str, str, int]]] = defaultdict(list)
    for step_id, state, reason, n in (runs.values_list("step_id", "state", "reason").order_by("step_id", "state",
                                                                                               "reason")
                                      .annotate(n=Count("pk"))):
        counts[step_id][state] += n
        if state in NOT_FIRED:
            reasons[step_id].append((state, str(REASONS.get(reason, reason)) if reason else "—", n))

    delivered = MassRecipient.objects.for_workspace(workspace).filter(
        message_id=OuterRef("result_id"), customer_id=OuterRef("customer_id"), status=RecipientStatus.SENT)
    delivered_to_group = MassGroupRecipient.objects.for_workspace(workspace).filter(  # a group SOP's run
        message_id=OuterRef("result_id"), group_id=OuterRef("group_id"), status=RecipientStatus.SENT)
    reached = dict(runs.filter(Exists(delivered) | Exists(delivered_to_group), state=RunState.SENT,
                               step__channel=StepChannel.MASS)
                   .values("step_id").order_by("step_id").annotate(n=Count("pk")).values_list("step_id", "n"))

    task_steps = [pk for pk, s in steps_by_id.items() if s.channel == StepChannel.TASK]
    tasks = _sop_tasks(workspace, task_steps)
    figures = _task_figures(tasks, "step_id", now) if task_steps else {}
    medians = _medians(tasks, "step_id", now) if task_steps else {}

    result = []
    for pk, step in steps_by_id.items():
        f = figures.get(pk, {})
        result.append(StepFigures(
            step=step, version=step.version.number, counts=counts[pk], reasons=reasons[pk],
            reached=f.get("reached", 0) if step.channel == StepChannel.TASK else reached.get(pk, 0),
            tasks=f.get("made", 0), done=f.get("done", 0), on_time=f.get("on_time", 0), overdue=f.get("overdue", 0),
            median_minutes=medians.get(pk), average_minutes=f.get("average")))

    days = _chart_days(now)
    start, _end = day_range(days[0], days[-1])
    per_day: dict[tuple[dt.date, str], int] = {}
    for day, state, n in (runs.filter(finished_at__gte=start, state__in=(RunState.SENT, *NOT_FIRED))
                          .annotate(day=TruncDate("finished_at", tzinfo=SHANGHAI))
                          .values_list("day", "state").order_by("day", "state").annotate(n=Count("pk"))):
        key = (day, "fired" if state == RunState.SENT else "not_fired")
        per_day[key] = per_day.get(key, 0) + n
    return SopAnalytics(sop=sop, all_versions=all_versions, steps=result, days=days,
                        fired_per_day=[per_day.get((d, "fired"), 0) for d in days],
                        not_fired_per_day=[per_day.get((d, "not_fired"), 0) for d in days], generated_at=now)


def _sop_tasks(workspace: Workspace, step_ids: list[int]) -> QuerySet[StaffTask]:
    """The staff tasks these task steps made, each annotated with its step (`step_id`)."""
    refs = (StepRun.objects.for_workspace(workspace).filter(step_id__in=step_ids, state=RunState.SENT)
            .annotate(task_ref=Concat(Value(TASK_REF), Cast("pk", CharField()), output_field=CharField()))
            .values("task_ref"))
    run_of_task = Cast(Substr(OuterRef("ref"), len(TASK_REF) + 1), BigIntegerField())
    return (StaffTask.objects.for_workspace(workspace).filter(source="sop", ref__in=refs)
            .annotate(step_id=Subquery(StepRun.objects.for_workspace(workspace).filter(pk=run_of_task)
                                       .values("step_id")[:1])))


# --- per member of staff ---------------------------------------------------------------------

@dataclass(frozen=True)
class Days:
    """Whole Asia/Shanghai days from `start` to `end`, both included."""

    start: dt.date
    end: dt.date

    @property
    def count(self) -> int:
        return (self.end - self.start).days + 1


def last_days(n: int, now: dt.datetime | None = None) -> Days:
    today = local_day(now or timezone.now())
    return Days(today - dt.timedelta(days=n - 1), today)


def parse_days(start: str, end: str, now: dt.datetime | None = None) -> Days:
    """A range from two ISO dates (either may be blank: the last 30 days' end or start)."""
    default = last_days(CHART_DAYS, now)
    try:
        days = Days(dt.date.fromisoformat(start) if start else default.start,
                    dt.date.fromisoformat(end) if end else default.end)
    except ValueError as exc:
        raise ValidationError(_("Give the dates as YYYY-MM-DD.")) from exc
    if days.end < days.start:
        raise ValidationError(_("The range ends before it starts."))
    if days.count > MAX_RANGE_DAYS:
        raise ValidationError(_("Choose at most %(n)d days.") % {"n": MAX_RANGE_DAYS})
    return days


@dataclass(frozen=True)
class StaffFigures(TimesToComplete):
    """One staff account's tasks falling due in the range (None: tasks nobody was assigned)."""

    account: StaffAccount | None
    assigned: int
    done: int
    on_time: int
    overdue: int
    skipped: int
    median_minutes: float | None
    average_minutes: float | None

    @property
    def name(self) -> str:
        if self.account is None:
            return _("Unassigned")
        return self.account.name or self.account.userid

    @property
    def late(self) -> int:
        return self.done - self.on_time

    @property
    def completion_rate(self) -> float | None:
        return _rate(self.done, self.assigned)

    @property
    def on_time_rate(self) -> float | None:
        return _rate(self.on_time, self.done)


@dataclass(frozen=True)
class StaffReport:
    days: Days
    rows: list[StaffFigures]
    own_only: bool  # a role that may only view sees its own tasks
    generated_at: dt.datetime

    def chart(self, top: int = 15) -> dict[str, Any]:
        rows = self.rows[:top]
        return {"names": [r.name for r in rows], "on_time": [r.on_time for r in rows],
                "late": [r.late for r in rows], "overdue": [r.overdue for r in rows],
                "labels": {"on_time": _("On time"), "late": _("Late"), "overdue": _("Overdue")}}


def sees_everyone(membership: Seat | None) -> bool:
    role = role_of(membership) or ""
    return allows(role, MODULE, Action.EDIT) or allows(role, MODULE, Action.EXPORT)


def staff_report(workspace: Workspace, membership: Seat | None, days: Days,
                 now: dt.datetime | None = None) -> StaffReport:
    """Per staff account, the task centre's tasks falling due in `days`, most assigned first."""
    require(role_of(membership), MODULE, Action.VIEW)
    now = now or timezone.now()
    start, end = day_range(days.start, days.end)
    tasks = StaffTask.objects.for_workspace(workspace).filter(due_at__gte=start, due_at__lt=end)
    own_only = not sees_everyone(membership)
    if own_only:
        tasks = tasks.filter(operator_id=getattr(membership, "pk", None))
    figures = _task_figures(tasks, "assignee_id", now)
    medians = _medians(tasks, "assignee_id", now)
    accounts = StaffAccount.objects.for_workspace(workspace).in_bulk([pk for pk in figures if pk is not None])
    rows = [StaffFigures(account=accounts.get(pk) if pk is not None else None, assigned=f["made"], done=f["done"],
                         on_time=f["on_time"], overdue=f["overdue"], skipped=f["skipped"],
                         median_minutes=medians.get(pk), average_minutes=f["average"])
            for pk, f in figures.items()]
    rows.sort(key=lambda r: (-r.assigned, r.name))
    return StaffReport(days=days, rows=rows, own_only=own_only, generated_at=now)


# --- exports ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Export:
    filename: str
    content: bytes
    rows: int


def _definitions() -> list[list[str]]:
    return [
        [_("Reached"), _("Mass message steps: recipients WeCom reports delivered. Task steps: tasks done "
                         "with an outcome.")],
        [_("Time to complete"), _("From the task falling due to its being done, in hours; snoozes count.")],
        [_("On time"), _("Done by the task's breach time (due + its SLA hours).")],
        [_("Overdue"), _("Still to do past its breach time.")],
        [_("Completion rate"), _("Done ÷ tasks made; a skipped task is not done.")],
    ]


def export_sop(workspace: Workspace, membership: Seat | None, sop_id: int, *, all_versions: bool = False,
               ip_address: str | None = None, now: dt.datetime | None = None) -> Export:
    """The SOP's figures per step, the reasons runs did not fire, and runs per day, as .xlsx."""
    require(role_of(membership), MODULE, Action.EXPORT)
    report = sop_analytics(workspace, membership, sop_id, all_versions=all_versions, now=now)
    states = [(s, str(RunState(s).label)) for s in RunState.values]
    steps: list[list[Any]] = [[_("Step"), _("Channel"), *(label for _s, label in states), _("Reached"),
                               _("Tasks"), pgettext("staff task", "Done"), _("On time"), _("Overdue"),
                               _("Completion rate"), _("Median hours to complete"), _("Average hours to complete"),
                               _("Text")]]
    steps += [[s.label, str(s.step.get_channel_display()), *(s.counts[v] for v, _label in states), s.reached,
               s.tasks if s.is_task else None, s.done if s.is_task else None, s.on_time if s.is_task else None,
               s.overdue if s.is_task else None, s.completion_rate, s.median_hours,
               s.average_hours, s.step.text] for s in report.steps]
    reasons: list[list[Any]] = [[_("Step"), _("State"), _("Reason"), _("Runs")]]
    reasons += [[s.label, str(RunState(state).label), reason, n] for s in report.steps for state, reason, n in s.reasons]
    daily: list[list[Any]] = [[_("Day"), _("Fired"), _("Not fired")]]
    daily += [[d, f, n] for d, f, n in zip(report.days, report.fired_per_day, report.not_fired_per_day, strict=True)]
    notes = [[_("SOP"), report.sop.name],
             [_("Versions"), _("Every version") if all_versions else _("Current version")],
             [_("Generated at"), report.generated_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")],
             *_definitions()]
    rate = len(states) + 7
    content = xlsx_bytes([
        Sheet(_("Steps"), steps, widths=[10, 16] + [10] * (len(states) + 9) + [40],
              number_formats={rate: "0.0%"}),
        Sheet(_("Reasons"), reasons, widths=[10, 12, 40, 10]),
        Sheet(_("By day"), daily, widths=[12, 10, 10]),
        Sheet(_("Notes"), notes, header=False, widths=[18, 100]),
    ])
    audit(workspace, membership, AuditAction.EXPORT, f"sop {report.sop.pk} analytics",
          {"sop": report.sop.pk, "rows": len(report.steps), "all_versions": all_versions}, ip_address, module=MODULE)
    return Export(f"sop-{report.sop.pk}-analytics.xlsx", content, len(report.steps))


def export_staff(workspace: Workspace, membership: Seat | None, days: Days, *, ip_address: str | None = None,
                 now: dt.datetime | None = None) -> Export:
    """The staff table as .xlsx, audit-logged as an export with its row count."""
    require(role_of(membership), MODULE, Action.EXPORT)
    report = staff_report(workspace, membership, days, now)
    rows: list[list[Any]] = [[_("Staff"), _("WeCom user ID"), _("Assigned"), pgettext("staff task", "Done"),
                              _("On time"), _("Late"), _("Overdue"), pgettext("task state", "Skipped"),
                              _("Completion rate"), _("On-time rate"), _("Median hours to complete"),
                              _("Average hours to complete")]]
    rows += [[r.name, r.account.userid if r.account else "", r.assigned, r.done, r.on_time, r.late, r.overdue,
              r.skipped, r.completion_rate, r.on_time_rate, r.median_hours, r.average_hours]
             for r in report.rows]
    notes = [[_("Range"), f"{days.start.isoformat()} – {days.end.isoformat()} (Asia/Shanghai)"],
             [_("Tasks"), _("Tasks of the task centre falling due in the range.")],
             [_("Generated at"), report.generated_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")],
             *_definitions()]
    content = xlsx_bytes([
        Sheet(_("Staff"), rows, widths=[18, 18] + [10] * 10, number_formats={8: "0.0%", 9: "0.0%"}),
        Sheet(_("Notes"), notes, header=False, widths=[18, 100]),
    ])
    audit(workspace, membership, AuditAction.EXPORT, "sop staff analytics",
          {"rows": len(report.rows), "start": days.start.isoformat(), "end": days.end.isoformat()}, ip_address,
          module=MODULE)
    return Export(f"sop-staff-{days.start.isoformat()}-{days.end.isoformat()}.xlsx", content, len(report.rows))

