"""Check-ins at rate (issue 16): 100,000 check-ins in 10 minutes through the real fan check-in
page, goal p99 < 200 ms and 0 double-credited.

A real server process (gunicorn, `siyu.wsgi`) serves `/m/<brand>/fan/checkin/`; this script is
the fans. Each check-in is the tap on the page: a POST with the fan's signed session cookie (as
the service account's OAuth leaves it) and a CSRF cookie and token, paced open-loop at the target
rate (a late request is not skipped, its wait counts). A share of fans tap twice at once (the
double tap) and a share come back later and tap again: every check-in must credit once. Fans
come from many loopback addresses (127.0.0.0/8), as fans come from many phones, so the per-IP
rate limit (60 a minute) applies to each as in production and is never hit by a real fan.

Afterwards the ledger is checked: one `Checkin` per fan, one check-in entry per check-in, each
balance equal to the sum of its entries (`points.services.reconcile`), and the points issued
equal to what the check-ins say.

    .venv/bin/python bench/checkins.py                               # 100,000 in 600 s
    ... --checkins 10000 --seconds 60                                # a short run
    ... --redis redis://127.0.0.1:6379/7                             # the rate limits in Redis

It creates (and drops) its own PostgreSQL database on BENCH_PG (default
postgres://postgres@127.0.0.1:5432; Debian `postgresql`) and uses a temporary data directory.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH_PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--checkins", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--double-taps", type=float, default=0.05, help="share of fans who tap twice at once")
    parser.add_argument("--returns", type=float, default=0.05, help="share of fans who come back and tap again")
    parser.add_argument("--addresses", type=int, default=1000, help="loopback addresses the fans come from")
    parser.add_argument("--concurrency", type=int, default=128, help="requests in flight at most")
    parser.add_argument("--web-workers", type=int, default=4)
    parser.add_argument("--redis", default="", help="REDIS_URL for the server's cache (rate limits)")
    parser.add_argument("--database", default="siyu_bench_checkins")
    parser.add_argument("--grace", type=float, default=120,
                        help="seconds after the last tap is due before the run stops and counts what is left as unserved")
    return parser.parse_args()


ARGS = _args()
DATA = tempfile.mkdtemp(prefix="siyu-bench-checkins-")
ENV = {**os.environ, "DATABASE_URL": f"{BENCH_PG}/{ARGS.database}", "SIYU_DATA_DIR": DATA,
       "PYTHONPATH": str(REPO / "src"), "DJANGO_SETTINGS_MODULE": "siyu.settings", "DEBUG": "0"}
if ARGS.redis:
    ENV["REDIS_URL"] = ARGS.redis
os.environ.update(ENV)


def _fresh_database(name: str) -> None:
    import psycopg

    with psycopg.connect(f"{BENCH_PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


_fresh_database(ARGS.database)
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "bench"))

import customers_1m  # noqa: E402 - sets Django up
import httpx  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count, Sum  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.test import RequestFactory  # noqa: E402
from django.utils import timezone  # noqa: E402

from siyu.cli import compile_translations  # noqa: E402
from siyu.core.models import Workspace  # noqa: E402
from siyu.core.tenancy import workspace_context  # noqa: E402
from siyu.customers.models import Customer  # noqa: E402
from siyu.mobile import sessions  # noqa: E402
from siyu.points import services  # noqa: E402
from siyu.points.models import Checkin, CheckinMode, CheckinPlan, PointsEntry, PointsWallet, Source  # noqa: E402

SLUG = "bench-checkins"


def prepare(fans: int) -> tuple[Workspace, list[int]]:
    compile_translations()
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    workspace = Workspace.objects.create(name="Bench check-ins", slug=SLUG)
    now = timezone.now().isoformat()
    with connection.cursor() as cursor:
        cursor.execute(customers_1m._insert_select(Customer, {
            "workspace_id": str(workspace.pk), "external_userid": "'wmfan' || g", "name": "'粉丝' || g", "gender": "0",
            "first_added_at": f"'{now}'::timestamptz", "created_at": f"'{now}'::timestamptz",
        }, f"generate_series(1, {fans}) g"))
        cursor.execute("ANALYZE customers_customer")
    CheckinPlan.objects.create(workspace=workspace, name="每日打卡", mode=CheckinMode.STREAK, daily_points=5,
                               tiers=[{"day": 3, "points": 20}, {"day": 7, "points": 50}])
    ids = list(Customer.objects.for_workspace(workspace).order_by("pk").values_list("pk", flat=True))
    return workspace, ids


def fan_cookie(workspace: Workspace, customer_id: int) -> str:
    response = HttpResponse()
    sessions.start_fan_session(RequestFactory().get("/"), response,
                               sessions.FanSession(workspace.pk, f"o{customer_id}", f"u{customer_id}", customer_id))
    return response.cookies[sessions.FAN_COOKIE].value


def wait_until_up(url: str) -> None:
    for _ in range(200):
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"the server did not start: {url}")


async def drive(base: str, path: str, taps: list[tuple[float, int, str]], concurrency: int,
                addresses: int) -> tuple[list[float], dict[int, int]]:
    """Send each tap at its time (seconds from the start); gives the latencies (ms) and statuses."""
    clients = [httpx.AsyncClient(base_url=base, timeout=30, transport=httpx.AsyncHTTPTransport(
        local_address=f"127.0.{1 + n // 250}.{1 + n % 250}", limits=httpx.Limits(max_keepalive_connections=4)))
        for n in range(addresses)]
    gate = asyncio.Semaphore(concurrency)
    took: list[float] = []
    statuses: dict[int, int] = {}
    start = time.perf_counter()

    async def tap(at: float, n: int, cookie: str) -> None:
        delay = at - (time.perf_counter() - start)
        if delay > 0:
            await asyncio.sleep(delay)
        csrf = secrets.token_hex(16)  # a 32-character secret, in the cookie and the form alike
        async with gate:
            try:
                response = await clients[n % addresses].post(
                    path, data={"csrfmiddlewaretoken": csrf},
                    cookies={sessions.FAN_COOKIE: cookie, "csrftoken": csrf})
            except httpx.HTTPError:  # e.g. a gunicorn worker killed by its timeout under overload
                statuses[-1] = statuses.get(-1, 0) + 1
                return
        # From the moment the tap was due, so a server (or driver) falling behind shows as latency.
        took.append((time.perf_counter() - start - at) * 1000)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

    pending = [asyncio.ensure_future(tap(at, n, cookie)) for at, n, cookie in taps]
    _done, late = await asyncio.wait(pending, timeout=(taps[-1][0] if taps else 0) + ARGS.grace)
    for task in late:  # the server could not keep up: these taps count as unserved
        task.cancel()
    statuses[0] = len(late)
    for client in clients:
        await client.aclose()
    return took, statuses


def main() -> None:
    fans = ARGS.checkins
    started = time.perf_counter()
    workspace, ids = prepare(fans)
    cookies = {pk: fan_cookie(workspace, pk) for pk in ids}
    print(f"prepared {fans:,} fans in {time.perf_counter() - started:.0f}s")
    rng = random.Random(16)
    rate = fans / ARGS.seconds
    taps: list[tuple[float, int, str]] = []
    for n, pk in enumerate(ids):
        at = n / rate
        taps.append((at, n, cookies[pk]))
        if rng.random() < ARGS.double_taps:
            taps.append((at, n, cookies[pk]))  # the double tap: at the same moment
        if rng.random() < ARGS.returns:
            taps.append((min(at + rng.uniform(1, 60), ARGS.seconds), n, cookies[pk]))  # back later
    taps.sort(key=lambda t: t[0])
    port = random.randrange(18000, 19999)
    connection.close()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "siyu.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(ARGS.web_workers), "--threads", "4", "--log-level", "warning"], env=ENV, cwd=REPO)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(f"{base}/login/")
        print(f"driving {len(taps):,} taps ({fans:,} check-ins and {len(taps) - fans:,} repeats) "
              f"at {rate:.0f} check-ins/s for {ARGS.seconds:.0f}s …", flush=True)
        began = time.perf_counter()
        took, statuses = asyncio.run(drive(base, f"/m/{SLUG}/fan/checkin/", taps, ARGS.concurrency, ARGS.addresses))
        elapsed = time.perf_counter() - began
    finally:
        server.terminate()
        server.wait(timeout=20)
    took.sort()
    p = lambda q: took[max(int(len(took) * q) - 1, 0)]  # noqa: E731
    print(f"{len(took):,} taps answered in {elapsed:.0f}s ({len(took) / elapsed:.0f}/s); statuses "
          f"{dict(sorted(statuses.items()))} (0: not answered within the run, -1: connection lost)")
    print(f"latency: p50 {statistics.median(took):.0f} ms, p95 {p(0.95):.0f} ms, p99 {p(0.99):.0f} ms, "
          f"max {took[-1]:.0f} ms (goal p99 < 200 ms: {'met' if p(0.99) < 200 else 'NOT met'})")
    with workspace_context(workspace):
        checkins = Checkin.objects.for_workspace(workspace).count()
        per_fan = Checkin.objects.for_workspace(workspace).values("customer_id").annotate(n=Count("pk")).filter(n__gt=1).count()
        entries = PointsEntry.objects.for_workspace(workspace).filter(source=Source.CHECKIN)
        entry_count = entries.count()
        issued = entries.aggregate(t=Sum("amount"))["t"] or 0
        earned = Checkin.objects.for_workspace(workspace).aggregate(t=Sum("points"))["t"] or 0
        balances = PointsWallet.objects.for_workspace(workspace).aggregate(t=Sum("balance"))["t"] or 0
        check = services.reconcile(workspace)
    doubled = per_fan + max(entry_count - checkins, 0)
    print(f"ledger: {checkins:,} check-ins for {fans:,} fans, {entry_count:,} check-in entries, {issued:,} points issued "
          f"= {earned:,} by the check-ins = {balances:,} in wallets; reconcile {'exact' if check.ok else check.problems[:3]}; "
          f"double-credited: {doubled} (goal 0: {'met' if doubled == 0 and issued == earned == balances else 'NOT met'})")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; PostgreSQL; gunicorn "
          f"{ARGS.web_workers} workers x 4 threads; cache {'Redis' if ARGS.redis else 'database'}; Python "
          f"{platform.python_version()}")


if __name__ == "__main__":
    main()
