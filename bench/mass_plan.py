"""Planning a 群发 to 1,000,000 customers (issue 13): goal < 30 s and < 2 GB peak memory.

Needs no apt package beyond the repository's own setup and a PostgreSQL server on
127.0.0.1:5432 that the `postgres` role may create databases on (Debian's `postgresql`). It
creates its own database `siyu_bench_mass` and drops it at the end (`--keep` keeps it).

Seeds N customers (default 1,000,000) with one or two follows each across 20 staff accounts
(INSERT … SELECT generate_series; 8 % of follows ended, some accounts persona accounts with a
channel code) and a receive-limit ledger where 5 % of customers have spent this month's units.
Then times, with the services the console calls:

1. plan: resolve the target (a segment of every customer, or `--tags` a tag filter), pick each
   customer's sender, judge the receive limit, split into batches of <= 10,000 per sender and
   write the per-recipient ledger (`messaging.services.plan_message`);
2. preview: the counts and the per-sender split the console shows (`summary`);
3. confirm: reserve the budget for every planned recipient (`confirm_message`, one
   INSERT … ON CONFLICT … WHERE count < limit for the whole set).

4. progress: what the detail page's refresh reads (`progress`, stored per-state counters).

Prints seconds per step and the process's peak RSS (`resource.getrusage`).

    .venv/bin/python bench/mass_plan.py                     # 1,000,000 customers
    .venv/bin/python bench/mass_plan.py --customers 100000
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

DATABASE = "siyu_bench_mass"
ACCOUNTS = 20
SLICE = 250_000


def prepare_environment() -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        conn.execute(f"CREATE DATABASE {DATABASE}")
    os.environ.update({
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
        "DJANGO_SETTINGS_MODULE": "siyu.settings",
        "SIYU_DATA_DIR": "/tmp/siyu-bench-mass",
    })


def drop_database() -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE}")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def seed(n: int) -> tuple[object, object, object, object]:
    from django.db import connection
    from django.utils import timezone

    from siyu.accounts.models import StaffAccount
    from siyu.channels.models import ChannelCode
    from siyu.core.models import Membership, Workspace
    from siyu.core.permissions import Role
    from siyu.ip.models import Persona
    from siyu.messaging.models import BudgetRule, MessagingSettings
    from siyu.segments.models import Segment, SegmentKind
    from siyu.tags.models import Tag, TagGroup

    started = time.perf_counter()
    workspace = Workspace.objects.create(name="Bench mass", slug="bench-mass")
    ws = workspace.pk
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("bench-planner", password="x")  # noqa: S106
    seat = Membership.objects.create(workspace=workspace, user=user, role=Role.PLANNER)
    persona = Persona.objects.create(workspace=workspace, name="小完子")
    accounts = StaffAccount.unscoped.bulk_create([
        StaffAccount(workspace=workspace, userid=f"staff{i:02}", name=f"小完子{i:02}",
                     persona=persona if i < 5 else None) for i in range(ACCOUNTS)])
    ChannelCode.objects.create(workspace=workspace, name="门店", touchpoint="store", state="ch-store")
    group = TagGroup.objects.create(workspace=workspace, name="意向")
    tags = Tag.unscoped.bulk_create([Tag(workspace=workspace, group=group, name=f"意向{t}") for t in range(4)])
    MessagingSettings.objects.create(workspace=workspace, budget_rule=BudgetRule.MONTHLY_FOUR)
    segment = Segment.objects.create(workspace=workspace, name="全部", kind=SegmentKind.STATIC)
    first, now = accounts[0].pk, timezone.now()
    month_start = timezone.localtime(now).date().replace(day=1)
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")  # a scratch database: no FK triggers
        for start in range(1, n + 1, SLICE):
            end = min(start + SLICE - 1, n)
            cursor.execute(
                "INSERT INTO customers_customer (workspace_id, external_userid, unionid, name, avatar_url, gender, "
                "corp_name, first_added_at, created_at, phone, fields, stage, score, tier, is_angel, "
                "tag_completeness) SELECT %s, 'wmbench' || g, '', '客户' || g, '', 0, '', %s, %s, '', '{}', 'new', "
                "0, '', false, 0 FROM generate_series(%s, %s) g", [ws, now, now, start, end])
        cursor.execute("SELECT min(id), max(id) FROM customers_customer WHERE workspace_id = %s", [ws])
        low, high = cursor.fetchone()
        for extra in (0, 1):  # everyone has one follow; 30 % a second
            cursor.execute(
                "INSERT INTO customers_followrelation (workspace_id, customer_id, account_id, added_at, state, "  # noqa: S608 - no outside input
                "add_way, remark, description, times_added, deleted_at, deleted_by) "
                "SELECT %s, c, %s + ((c * 7 + %s * 3) %% %s), %s - (random() * interval '700 days'), "
                "CASE WHEN random() < 0.2 THEN 'ch-store' ELSE '' END, 0, '', '', 1, "
                "CASE WHEN random() < 0.08 THEN %s END, '' FROM generate_series(%s, %s) c"
                + (" WHERE random() < 0.3" if extra else ""),
                [ws, first, extra, ACCOUNTS, now, now, low, high])
        cursor.execute(
            "INSERT INTO segments_segmentmember (workspace_id, segment_id, customer_id, added_at) "
            "SELECT %s, %s, c, %s FROM generate_series(%s, %s) c", [ws, segment.pk, now, low, high])
        cursor.execute(
            "INSERT INTO tags_customertag (workspace_id, customer_id, tag_id, source, created_at) "
            "SELECT %s, c, %s + (c %% 4), 'manual', %s FROM generate_series(%s, %s) c", [ws, tags[0].pk, now, low, high])
        cursor.execute(  # 5 % have spent this month's four already
            "INSERT INTO messaging_receivecount (workspace_id, kind, recipient_id, span, period_start, count) "
            "SELECT %s, 'c', c, 'm', %s, 4 FROM generate_series(%s, %s) c WHERE c %% 20 = 0",
            [ws, month_start, low, high])
        cursor.execute("SET session_replication_role = DEFAULT")
        Segment.unscoped.filter(pk=segment.pk).update(member_count=n)
        for table in ("customers_customer", "customers_followrelation", "segments_segmentmember",
                      "tags_customertag", "messaging_receivecount", "accounts_staffaccount"):
            cursor.execute(f"ANALYZE {table}")
    print(f"seeded {n:,} customers in {time.perf_counter() - started:.1f}s")
    return workspace, seat, segment, tags


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--tags", action="store_true", help="target a tag filter instead of the segment")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()
    prepare_environment()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count

    from siyu.core.tenancy import workspace_context
    from siyu.messaging.models import MassRecipient
    from siyu.messaging.services import (
        MessageInput,
        confirm_message,
        plan_message,
        progress,
        summary,
    )

    call_command("migrate", verbosity=0)
    try:
        workspace, seat, segment, tags = seed(args.customers)
        before = peak_rss_mb()
        with workspace_context(workspace):
            data = (MessageInput(name="bench", target_kind="tags", tag_ids=[tags[0].pk, tags[1].pk], text="上新啦")
                    if args.tags else
                    MessageInput(name="bench", target_kind="segment", segment_id=segment.pk, text="上新啦"))
            started = time.perf_counter()
            message = plan_message(workspace, seat, data)
            plan_s = time.perf_counter() - started
            started = time.perf_counter()
            shown = summary(workspace, seat, message)
            preview_s = time.perf_counter() - started
            started = time.perf_counter()
            confirm_message(workspace, seat, message.pk)
            confirm_s = time.perf_counter() - started
            message.refresh_from_db()
            started = time.perf_counter()
            shown_progress = progress(workspace, seat, message)
            progress_s = time.perf_counter() - started
            started = time.perf_counter()  # what the refresh cost before: counting the ledger
            list(MassRecipient.unscoped.filter(message=message).values("status").order_by()
                 .annotate(n=Count("customer_id")))
            recount_s = time.perf_counter() - started
        print(f"\n{platform.node()} · {platform.processor() or platform.machine()} · {os.cpu_count()} CPUs · "
              f"Python {platform.python_version()} · PostgreSQL {connection.pg_version // 10000}")
        print(f"target: {'tag filter' if args.tags else 'segment'} of {shown.targeted:,} customers; "
              f"{shown.planned:,} planned, {shown.refused:,} refused by the limit, {shown.unreachable:,} "
              f"unreachable; {sum(s.batches for s in shown.senders)} batches over {len(shown.senders)} senders")
        print(f"plan (resolve, judge the limit, split, write the ledger): {plan_s:6.2f} s")
        print(f"preview (counts per sender):                             {preview_s:6.2f} s")
        print(f"confirm (reserve the budget for every recipient):         {confirm_s:6.2f} s")
        print(f"plan + preview + confirm:                                 {plan_s + preview_s + confirm_s:6.2f} s "
              f"(goal < 30 s)")
        print(f"progress (the detail page's 15 s refresh, stored counts): {progress_s:6.3f} s "
              f"({shown_progress.total:,} recipients; counting the ledger instead: {recount_s:.3f} s)")
        print(f"peak RSS: {peak_rss_mb():.0f} MB (after seeding {before:.0f} MB; goal < 2048 MB); "
              f"newly refused at confirm: {message.refused_count - shown.refused:,}")
    finally:
        if not args.keep:
            drop_database()


if __name__ == "__main__":
    main()
