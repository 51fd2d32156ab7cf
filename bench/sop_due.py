"""SOP engine at scale (issue 14), on PostgreSQL only (no apt package beyond PostgreSQL):

- 100,000 enrolled customers with a step due in the same minute: the time for the sweep to
  claim and dispatch all of them (one 群发 through `messaging.send_to_customers`, or one staff
  task each with `--tasks`), and the duplicates (must be 0): customers handed over twice,
  runs fired twice, runs left without an outcome. Goal < 60 s.
- enrolling 1,000,000 customers into a segment-triggered SOP: the recompute that publishes the
  `segments.entered` events, then the SOP subscriber's enrolment of every event (3 steps each).

It creates (drops and re-creates) its own database, `siyu_bench_sop`, next to DATABASE_URL's
(default postgres://postgres@127.0.0.1:5432):

    .venv/bin/python bench/sop_due.py                       # 100k due, 1M enrolment
    .venv/bin/python bench/sop_due.py --due 20000 --enrol 100000 --tasks
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
BASE = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
DB = "siyu_bench_sop"


def _create_database() -> None:
    import psycopg

    with psycopg.connect(urlunsplit(urlsplit(BASE)._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB}")
    os.environ["DATABASE_URL"] = urlunsplit(urlsplit(BASE)._replace(path=f"/{DB}"))


_create_database()
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "siyu.settings")
os.environ.setdefault("SIYU_DATA_DIR", "/tmp/siyu-bench-sop")

from customers_1m import _insert_select  # noqa: E402  (sets Django up)
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from siyu.accounts.models import StaffAccount  # noqa: E402
from siyu.core.events import decode  # noqa: E402
from siyu.core.models import EventRecord, Workspace  # noqa: E402
from siyu.core.services import OPERATOR  # noqa: E402
from siyu.customers.models import Customer, FollowRelation  # noqa: E402
from siyu.messaging.models import MassMessage  # noqa: E402
from siyu.segments.models import Segment, SegmentKind  # noqa: E402
from siyu.segments.services.membership import recompute  # noqa: E402
from siyu.sop import services  # noqa: E402
from siyu.sop.models import (  # noqa: E402
    RunState,
    SopStatus,
    StaffTask,
    StepChannel,
    StepRun,
    TaskKind,
    TriggerKind,
)
from siyu.sop.subscribers import enrol_on_segment_entered  # noqa: E402

SH = dt.timezone(dt.timedelta(hours=8))
ANCHOR = dt.datetime(2026, 11, 2, 9, 0, tzinfo=SH)
ALWAYS = {"quiet_start": dt.time(0), "quiet_end": dt.time(0), "working_days_only": False}
SLICE = 100_000


def brand(slug: str, n: int) -> tuple[Workspace, list[int]]:
    workspace = Workspace.objects.create(name=slug, slug=slug)
    account = StaffAccount.unscoped.create(workspace=workspace, userid=f"{slug}-staff", name="小完子")
    with connection.cursor() as cursor:
        for start in range(1, n + 1, SLICE):
            end = min(start + SLICE - 1, n)
            cursor.execute(_insert_select(Customer, {
                "workspace_id": str(workspace.pk), "external_userid": f"'{slug}' || g", "name": "'客户' || g",
                "first_added_at": f"'{ANCHOR.isoformat()}'::timestamptz", "gender": "0", "stage": "'new'"},
                f"generate_series({start}, {end}) g"))
        cursor.execute(_insert_select(FollowRelation, {
            "workspace_id": str(workspace.pk), "customer_id": "c.id", "account_id": str(account.pk),
            "added_at": f"'{ANCHOR.isoformat()}'::timestamptz", "times_added": "1"},
            f"customers_customer c WHERE c.workspace_id = {workspace.pk}"))
        cursor.execute("ANALYZE")
    return workspace, list(Customer.unscoped.filter(workspace=workspace).values_list("pk", flat=True))


def due_minute(n: int, tasks: bool) -> None:
    workspace, ids = brand("bench-due", n)
    step = (services.StepInput(days=1, at_time=dt.time(10), channel=StepChannel.TASK, task_kind=TaskKind.SEND,
                               text="回访") if tasks else
            services.StepInput(days=1, at_time=dt.time(10), channel=StepChannel.MASS, text="第 1 天问候"))
    sop = services.create_sop(workspace, OPERATOR, services.SopInput(name="bench", **ALWAYS), [step])
    sop = services.set_status(workspace, OPERATOR, sop.pk, SopStatus.ACTIVE)
    started = time.perf_counter()
    services.enrol(workspace, sop, ids, ANCHOR, ANCHOR)
    enrolled = time.perf_counter() - started
    due = StepRun.unscoped.filter(workspace=workspace).order_by("due_at").values_list("due_at", flat=True).first()
    assert due is not None
    started = time.perf_counter()
    swept = services.sweep(workspace, due + dt.timedelta(seconds=30))
    elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:
        if tasks:
            cursor.execute("SELECT count(*) - count(DISTINCT customer_id) FROM sop_stafftask WHERE workspace_id = %s",
                           [workspace.pk])
        else:
            cursor.execute("SELECT count(*) - count(DISTINCT c) FROM messaging_massmessage m, "
                           "jsonb_array_elements(m.customer_ids) c WHERE m.workspace_id = %s", [workspace.pk])
        twice = cursor.fetchone()[0]
    left = StepRun.unscoped.filter(workspace=workspace).exclude(state=RunState.SENT).count()
    handed = (StaffTask.unscoped.filter(workspace=workspace).count() if tasks
              else MassMessage.unscoped.filter(workspace=workspace).count())
    print(f"{n:,} runs due in one minute ({'tasks' if tasks else '群发'}): enrolled in {enrolled:.1f}s; "
          f"claimed and dispatched in {elapsed:.1f}s (goal < 60 s); sent {swept['sent']:,}, "
          f"{'tasks' if tasks else 'mass messages'} {handed:,}, duplicates {twice}, runs not sent {left}")


def enrol_segment(n: int) -> None:
    workspace, _ids = brand("bench-seg", n)
    segment = Segment.objects.create(workspace=workspace, name="全部", kind=SegmentKind.DYNAMIC,
                                     rule={"match": "and", "rules": []})
    steps = [services.StepInput(days=d, at_time=dt.time(10), channel=StepChannel.MASS, text=f"第 {d} 天")
             for d in (1, 3, 7)]
    sop = services.create_sop(workspace, OPERATOR, services.SopInput(
        name="进群", trigger=TriggerKind.SEGMENT_ENTERED, segment_id=segment.pk, **ALWAYS), steps)
    services.set_status(workspace, OPERATOR, sop.pk, SopStatus.ACTIVE)
    started = time.perf_counter()
    recompute(workspace, segment, ANCHOR)
    computed = time.perf_counter() - started
    records = list(EventRecord.unscoped.filter(workspace=workspace, name="segments.entered").order_by("pk"))
    started = time.perf_counter()
    for record in records:
        enrol_on_segment_entered(workspace, decode(record), record)  # type: ignore[arg-type]
    enrolled = time.perf_counter() - started
    print(f"{n:,} customers entering a segment: recompute with {len(records)} segments.entered events "
          f"{computed:.1f}s; enrolment into a 3-step SOP {enrolled:.1f}s "
          f"({StepRun.unscoped.filter(workspace=workspace).count():,} runs written)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--due", type=int, default=100_000)
    parser.add_argument("--enrol", type=int, default=1_000_000)
    parser.add_argument("--tasks", action="store_true", help="the due step is a staff task, not a 群发")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"PostgreSQL {version}")
    if args.due:
        due_minute(args.due, args.tasks)
    if args.enrol:
        enrol_segment(args.enrol)


if __name__ == "__main__":
    main()
