"""Console page speed at demo scale (issue 12): every console page answers in < 300 ms.

Needs no apt package beyond the repository's own setup (`make setup`); `--postgres` needs a
PostgreSQL server on 127.0.0.1:5432 that the `postgres` role may create databases on.

Builds the demo brand (`siyu.demo`, with the WeCom twin in a thread for the steps that need it)
in its own temporary database, then an afternoon of the demo's acquisition on top: `--adds`
friend-adds spread over `--days` days across the six demo codes and four accounts (through
`customers.services.record_adds`, as the welcome lane records them), welfare issued to each as
the code says (`channels.services.welfare.try_issue_welfare`), some customers leaving and some
coupons redeemed, and the subscriber runs those changes queued processed by an in-process worker
(segments, lifecycle, tags). Then it signs in as the demo admin and requests every console page
— the URL conf's GET pages without arguments, and the detail pages of one object each — with
Django's test client, `--repeat` times after one warm-up, and prints each page's median and p95
and the slowest five.

    SIYU_DATA_DIR is not used: the bench makes its own temporary directory.
    .venv/bin/python bench/console_pages.py                 # SQLite, 2,000 adds over 14 days
    .venv/bin/python bench/console_pages.py --adds 5000 --repeat 9
    .venv/bin/python bench/console_pages.py --postgres      # a fresh siyu_bench_console on 127.0.0.1:5432

Building takes about 2.5 minutes per 1,000 adds on 2 cores (mostly the subscriber runs).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

DATABASE = "siyu_bench_console"


def prepare_environment(args: argparse.Namespace) -> Path:
    data_dir = Path(tempfile.mkdtemp(prefix="siyu-bench-console-"))
    os.environ.update({
        "SIYU_DATA_DIR": str(data_dir), "DJANGO_SETTINGS_MODULE": "siyu.settings",
        "SIYU_WECOM_ALLOWED_API_BASES": "http://127.0.0.1:*/",  # the twin (siyu.wecom.api_bases)
        "ALLOWED_HOSTS": "localhost,127.0.0.1,testserver",
    })
    if args.postgres:
        import psycopg

        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
            conn.execute(f"CREATE DATABASE {DATABASE}")
        os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{DATABASE}"
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{data_dir / 'bench.sqlite3'}"
    return data_dir


def build_demo(args: argparse.Namespace) -> Any:
    """The demo brand as `siyu demo` makes it, then an afternoon of adds on top."""
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from siyu.cli import compile_translations
    from siyu.demo import connect_demo_to_twin, ensure_demo_brand, run_demo_steps
    from siyu.simulator import admin
    from siyu.simulator.app import make_twin_server
    from siyu.simulator.config import TwinConfig
    from siyu.simulator.demo import DEMO_STAFF

    # The pages' static files as the tests serve them: no collectstatic manifest needed.
    settings.STORAGES = {**settings.STORAGES,
                         "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    compile_translations()
    demo = ensure_demo_brand()
    with socket.socket() as probe:  # a free port for the twin, known before the demo connects to it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    connect_demo_to_twin(demo.workspace, "http://127.0.0.1:9", port)  # callbacks go nowhere: adds are recorded here
    server, app = make_twin_server("127.0.0.1", port, TwinConfig(
        corp_id=os.environ["SIYU_TWIN_CORP_ID"], corp_secret=os.environ["SIYU_TWIN_SECRET"],
        callback_token=os.environ["SIYU_TWIN_TOKEN"], encoding_aes_key=os.environ["SIYU_TWIN_AES_KEY"]))
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        for userid, name in DEMO_STAFF.items():
            admin.put_staff(app.twin, {"userid": userid, "name": name})
        run_demo_steps(demo.workspace, after_twin=True)
        started = time.perf_counter()
        afternoon(demo.workspace, app.twin, args)
        if connection.vendor == "postgresql" and not args.no_analyze:
            with connection.cursor() as cursor:  # as autovacuum would have by now on a running system
                cursor.execute("VACUUM ANALYZE")
        print(f"demo brand built: {args.adds} adds over {args.days} days in {time.perf_counter() - started:.0f} s")
    finally:
        server.shutdown()
        server.server_close()
    return demo


def afternoon(workspace: Any, twin: Any, args: argparse.Namespace) -> None:
    from django.utils import timezone

    from siyu.accounts.models import StaffAccount
    from siyu.channels.models import ChannelCode, WelfareGrant, WelfareKind
    from siyu.channels.services import welfare
    from siyu.core.services import OPERATOR
    from siyu.core.tenancy import workspace_context
    from siyu.core.worker import HeartbeatWorker
    from siyu.customers.models import DeletedBy
    from siyu.customers.services import NewAdd, record_adds, record_loss
    from siyu.simulator import admin

    rng = random.Random(12)
    now = timezone.now()
    with workspace_context(workspace):
        codes = list(ChannelCode.objects.select_related("welfare").prefetch_related("seats__account"))
        accounts = {a.pk: a for a in StaffAccount.objects.all()}
        for start in range(0, args.adds, 250):
            batch = []
            for i in range(start, min(start + 250, args.adds)):
                code = rng.choice(codes)
                seat = rng.choice(list(code.seats.all()))
                at = now - dt.timedelta(days=args.days * (1 - i / args.adds), minutes=rng.randint(0, 30))
                batch.append((NewAdd(accounts[seat.account_id].userid, f"wmbench{i:06d}", code.state, at), code))
            for add, _code in batch:  # WeCom knows them too, so tagging them there succeeds
                admin.add_customer(twin, {"name": f"顾客{add.external_userid[-6:]}", "external_userid": add.external_userid,
                                          "staff_userid": add.staff_userid, "state": add.state, "welcome": False})
            relations = record_adds(workspace, [add for add, _code in batch])
            by_external = {r.customer.external_userid: r for r in relations}
            for add, code in batch:
                relation = by_external.get(add.external_userid)
                if relation is None:
                    continue
                if code.welfare is not None:
                    welfare.try_issue_welfare(workspace, code.welfare, relation.customer, code,
                                              accounts[relation.account_id], now=add.at)
                if rng.random() < 0.12:
                    record_loss(workspace, staff_userid=add.staff_userid, external_userid=add.external_userid,
                                at=add.at + dt.timedelta(hours=rng.randint(1, 72)),
                                by=DeletedBy.CUSTOMER if rng.random() < 0.8 else DeletedBy.STAFF)
        coupons = list(WelfareGrant.objects.filter(welfare__kind=WelfareKind.COUPON).values_list("pk", flat=True))
        for pk in rng.sample(coupons, len(coupons) // 8):
            welfare.redeem(workspace, OPERATOR, pk, "门店核销")
    started = time.perf_counter()
    HeartbeatWorker(interval=0, batch=True).run()  # until the queue is empty
    print(f"subscriber runs worked off in {time.perf_counter() - started:.0f} s")


def console_pages(workspace: Any) -> list[tuple[str, str]]:
    """(name, path): every GET page of the console without arguments, and one of each detail page."""
    from django.urls import URLPattern, URLResolver, get_resolver

    from siyu.accounts.models import StaffAccount
    from siyu.channels.models import ChannelCode, Welfare
    from siyu.core.tenancy import workspace_context
    from siyu.customers.models import Customer, CustomField
    from siyu.ip.models import Persona
    from siyu.segments.models import Segment
    from siyu.tags.models import Tag, TagGroup

    with workspace_context(workspace):
        ids = {
            "customer_id": Customer.objects.order_by("-id").values_list("pk", flat=True).first(),
            "code_id": ChannelCode.objects.values_list("pk", flat=True).first(),
            "welfare_id": Welfare.objects.filter(kind="coupon").values_list("pk", flat=True).first(),
            "account_id": StaffAccount.objects.values_list("pk", flat=True).first(),
            "persona_id": Persona.objects.values_list("pk", flat=True).first(),
            "segment_id": Segment.objects.values_list("pk", flat=True).first(),
            "group_id": TagGroup.objects.values_list("pk", flat=True).first(),
            "tag_id": Tag.objects.values_list("pk", flat=True).first(),
            "field_id": CustomField.objects.values_list("pk", flat=True).first(),
        }
    # Not pages: sign-out and language switch, probes, WeCom's callback, invitations, downloads.
    skip = {"logout", "set_language", "healthz", "readyz", "callback", "join", "export", "analytics_export",
            "audit_export", "qr", "poster", "avatar", "kit_avatar", "notification_open"}
    pages: list[tuple[str, str]] = []

    def walk(patterns: list[Any], prefix: str, namespace: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern), p.namespace or namespace)
            elif isinstance(p, URLPattern) and p.name not in skip and not (prefix + str(p.pattern)).startswith("api/"):
                route = prefix + str(p.pattern)
                names = list(p.pattern.converters)
                if any(ids.get(n) is None for n in names):
                    continue
                path = "/" + route
                for n in names:
                    path = path.replace(f"<int:{n}>", str(ids[n]))
                pages.append((f"{namespace}:{p.name}" if namespace else str(p.name), path))

    walk(get_resolver().url_patterns, "", "")
    pages.append(("api:docs", "/api/docs"))
    return pages


def measure(demo: Any, repeat: int) -> list[tuple[str, str, list[float]]]:
    from django.test import Client

    client = Client(raise_request_exception=False)
    if not client.login(username=demo.username, password=demo.password):
        raise SystemExit("could not sign in as the demo admin")
    timed = []
    for name, path in console_pages(demo.workspace):
        response = client.get(path)  # warm-up: templates compiled, caches filled
        if response.status_code >= 500:
            print(f"  {name} {path}: HTTP {response.status_code}, not timed")
            continue
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue  # POST-only (405), redirects and downloads are not pages
        samples = []
        for _ in range(repeat):
            started = time.perf_counter()
            client.get(path)
            samples.append((time.perf_counter() - started) * 1000)
        timed.append((name, path, samples))
    return timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", action="store_true", help=f"a fresh {DATABASE} on 127.0.0.1:5432")
    parser.add_argument("--adds", type=int, default=2000, help="friend-adds of the demo's afternoon")
    parser.add_argument("--days", type=int, default=14, help="days the adds are spread over")
    parser.add_argument("--repeat", type=int, default=5, help="timed requests per page")
    parser.add_argument("--no-analyze", action="store_true",
                        help="PostgreSQL: measure right after the build, before VACUUM ANALYZE (stale statistics)")
    parser.add_argument("--goal-ms", type=float, default=300)
    args = parser.parse_args()
    data_dir = prepare_environment(args)
    import django

    django.setup()
    from django.db import connection

    try:
        demo = build_demo(args)
        timed = measure(demo, args.repeat)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)  # the SQLite database, secrets and demo files
    print(f"\n{platform.node()} · {platform.processor() or platform.machine()} · {os.cpu_count()} CPUs · "
          f"Python {platform.python_version()} · {connection.vendor} · {args.repeat} requests a page after a warm-up\n")
    rows = []
    for name, path, samples in timed:
        p95 = statistics.quantiles(samples, n=20, method="inclusive")[-1] if len(samples) > 1 else samples[0]
        rows.append((statistics.median(samples), p95, name, path))
    print(f"{'median ms':>10} {'p95 ms':>8}  page")
    for median, p95, name, path in sorted(rows, key=lambda r: r[2]):
        flag = "  ← over goal" if median > args.goal_ms else ""
        print(f"{median:10.0f} {p95:8.0f}  {name} {path}{flag}")
    print("\nslowest five (by median):")
    for median, p95, name, path in sorted(rows, reverse=True)[:5]:
        print(f"{median:10.0f} {p95:8.0f}  {name} {path}")
    over = [r for r in rows if r[0] > args.goal_ms]
    print(f"\n{len(rows)} pages, {len(over)} over {args.goal_ms:.0f} ms")


if __name__ == "__main__":
    main()
