"""入组 — enrolling customers into an SOP's current version and writing their step ledger.

Set-based: one INSERT … SELECT per chunk of customers for the enrolments and one per (step,
occurrence) for the runs, since every customer enrolled at the same instant shares the same due
times (quiet hours and working days applied once). Repeats insert nothing: the unique keys with
ON CONFLICT DO NOTHING, so a re-delivered trigger event is harmless.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from siyu.core.models import Workspace
from siyu.customers.models import Customer
from siyu.sop.models import (
    Enrolment,
    RunState,
    Sop,
    SopKind,
    SopStatus,
    SopStep,
    SopVersion,
    StepRun,
    Timing,
)
from siyu.sop.services.calendar import SHANGHAI, Hours, next_allowed

CHUNK = 5000  # ids per statement: under SQLite's bound-variable limit
PG_CHUNK = 20_000  # PostgreSQL: fewer, larger statements and commits
MAX_OCCURRENCES = 30


@dataclass(frozen=True)
class PlannedRun:
    step_id: int
    occurrence: int
    due_at: dt.datetime
    expires_at: dt.datetime


def hours_of(sop: Sop) -> Hours:
    return Hours(sop.quiet_start, sop.quiet_end, sop.working_days_only)


def _first_due(step: SopStep, anchor: dt.datetime, *, on_the_day: bool = False) -> dt.datetime:
    if step.timing == Timing.ABSOLUTE and step.absolute_at is not None:
        return step.absolute_at
    base = anchor + dt.timedelta(days=step.days, hours=step.hours)
    if step.at_time is None:
        return base
    local = anchor.astimezone(SHANGHAI) + dt.timedelta(days=step.days)
    at = dt.datetime.combine(local.date(), step.at_time, SHANGHAI)
    if on_the_day:  # an event's timeline: "the event day at 09:00" even when the event starts at 19:00
        return at
    return at if at >= anchor else at + dt.timedelta(days=1)


def plan_runs(sop: Sop, steps: Sequence[SopStep], anchor: dt.datetime) -> tuple[list[PlannedRun], str]:
    """Every run of these steps for a clock started at `anchor`, with the calendar's note. An
    event SOP's clock is its event: a step "3 days before at 20:00" is that day's 20:00."""
    planned, note = [], ""
    for step in steps:
        first = _first_due(step, anchor, on_the_day=sop.kind == SopKind.EVENT)
        times = min(step.repeat_times, MAX_OCCURRENCES) if step.timing == Timing.REPEATING else 1
        for occurrence in range(times):
            raw = first + dt.timedelta(days=step.repeat_every_days * occurrence)
            due, day_note = next_allowed(raw, hours_of(sop))
            note = note or day_note
            planned.append(PlannedRun(step.pk, occurrence, due, due + dt.timedelta(hours=step.window_hours)))
    return planned, note


def _chunks(ids: Iterable[int], size: int = CHUNK) -> Iterator[list[int]]:
    batch: list[int] = []
    for i in ids:
        batch.append(int(i))
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _insert_select(table: str, columns: Sequence[str], head: Sequence[Any], query: QuerySet[Any, Any]) -> int:
    """INSERT INTO table (columns) SELECT head…, query's columns … ON CONFLICT DO NOTHING."""
    sql, params = query.query.get_compiler(connection=connection).as_sql()
    cols = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join(["%s"] * len(head))
    with connection.cursor() as cursor:
        cursor.execute(  # "WHERE true" tells SQLite's parser the ON CONFLICT belongs to the INSERT
            f'INSERT INTO "{table}" ({cols}) SELECT {marks}, m.* FROM ({sql}) m WHERE true '  # noqa: S608
            "ON CONFLICT DO NOTHING", [*head, *params])
        return cursor.rowcount


def _adapt(value: dt.datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def write_runs(workspace: Workspace, enrolments: QuerySet[Enrolment], planned: Sequence[PlannedRun],
               not_before: dt.datetime | None = None) -> int:
    """The runs of `planned` for these enrolments (which share one clock); with `not_before`,
    only steps not yet due then (a migration to a new version)."""
    written = 0
    for run in planned:
        if not_before is not None and run.due_at < not_before:
            continue
        written += _insert_select(
            StepRun._meta.db_table,
            ["workspace_id", "step_id", "occurrence", "due_at", "expires_at", "state", "reason", "claim",
             "sop_id", "enrolment_id", "customer_id", "group_id"],
            [workspace.pk, run.step_id, run.occurrence, _adapt(run.due_at), _adapt(run.expires_at),
             RunState.DUE, "", ""],
            enrolments.order_by().values("sop_id", "pk", "customer_id", "group_id"))
    return written


def enrol(workspace: Workspace, sop: Sop, customer_ids: Iterable[int], at: dt.datetime,
          now: dt.datetime | None = None, *, period: str = "", not_before: dt.datetime | None = None) -> int:
    """Enrol these customers (the brand's, not yet in this SOP for this `period`) into its current
    version, their clock started at `at` plus the trigger's delay (an event's clock is its date).
    With `not_before`, steps due before it are not written (a customer joining an event late).
    Returns how many were enrolled."""
    if sop.status != SopStatus.ACTIVE or sop.current_version_id is None:
        return 0
    now = now or timezone.now()
    anchor = at if sop.kind == SopKind.EVENT else at + dt.timedelta(days=sop.delay_days)
    steps = list(SopStep.objects.for_workspace(workspace).filter(version_id=sop.current_version_id))
    planned, note = plan_runs(sop, steps, anchor)
    enrolled = 0
    for chunk in _chunks(sorted(set(customer_ids)), PG_CHUNK if connection.vendor == "postgresql" else CHUNK):
        # Read, not NOT EXISTS: right after a big enrolment PostgreSQL's stale statistics pick a
        # nested-loop anti-join that takes seconds per chunk.
        already = set(Enrolment.unscoped.filter(sop_id=sop.pk, customer_id__in=chunk, period=period)
                      .values_list("customer_id", flat=True))
        wanted = [i for i in chunk if i not in already]
        if not wanted:
            continue
        fresh = Customer.objects.for_workspace(workspace).filter(pk__in=wanted).order_by().values("pk")
        with transaction.atomic():
            enrolled += _insert_select(
                Enrolment._meta.db_table,
                ["workspace_id", "sop_id", "version_id", "anchor_at", "enrolled_at", "calendar_note", "period",
                 "customer_id"],
                [workspace.pk, sop.pk, sop.current_version_id, _adapt(anchor), _adapt(now), note, period], fresh)
            mine = Enrolment.unscoped.filter(version_id=sop.current_version_id, customer_id__in=chunk, anchor_at=anchor,
                                             period=period)
            write_runs(workspace, mine, planned, not_before=not_before)
    return enrolled


def migrate_enrolments(workspace: Workspace, sop: Sop, version: SopVersion, now: dt.datetime) -> int:
    """Move the SOP's running enrolments onto `version`: their runs not yet fired are skipped
    ("migrated") and the new version's steps not yet due are written from each clock."""
    steps = list(SopStep.objects.for_workspace(workspace).filter(version=version))
    old = Enrolment.objects.for_workspace(workspace).filter(sop=sop).exclude(version=version)
    moved = 0
    for anchor in old.values_list("anchor_at", flat=True).distinct().order_by("anchor_at"):
        planned, _note = plan_runs(sop, steps, anchor)
        with transaction.atomic():
            group = old.filter(anchor_at=anchor)
            ids = list(group.values_list("pk", flat=True))
            StepRun.objects.for_workspace(workspace).filter(enrolment_id__in=ids, state=RunState.DUE).update(
                state=RunState.SKIPPED, reason="migrated", finished_at=now)
            moved += Enrolment.unscoped.filter(pk__in=ids).update(version=version)
            write_runs(workspace, Enrolment.unscoped.filter(pk__in=ids), planned, not_before=now)
    return moved


def move_event(workspace: Workspace, sop: Sop, new_at: dt.datetime) -> int:
    """An event SOP's date changed: its enrolments' clock moves to `new_at`, and their runs not
    yet fired (due) move with it, each step at its offset from the new date (quiet hours and
    working days applied again). Fired, skipped and expired runs stay as they were. Set-based:
    one UPDATE per (version, step, occurrence). Returns how many runs moved."""
    moved = 0
    enrolments = Enrolment.objects.for_workspace(workspace).filter(sop=sop)
    with transaction.atomic():
        for version_id in enrolments.values_list("version_id", flat=True).distinct().order_by("version_id"):
            steps = list(SopStep.objects.for_workspace(workspace).filter(version_id=version_id))
            planned, note = plan_runs(sop, steps, new_at)
            for run in planned:
                moved += StepRun.objects.for_workspace(workspace).filter(
                    sop=sop, enrolment__version_id=version_id, step_id=run.step_id, occurrence=run.occurrence,
                    state=RunState.DUE).update(due_at=run.due_at, expires_at=run.expires_at)
            enrolments.filter(version_id=version_id).update(anchor_at=new_at, calendar_note=note)
    return moved
