"""Welcome burst (issue 4): friend-adds at a steady rate through the WeCom twin, the twin's
encrypted callbacks to the real server (gunicorn), real `siyu worker` processes, and the
welcome message back to the twin with `send_welcome_msg` (欢迎语, WECOM.md §3: within 20 s).

Prints the rate of adds actually achieved, p50/p99 from the add (the twin's welcome code
`issued_at`) to the twin receiving the welcome (`received_at`), split into the twin's callback
queue, the platform's ack and the platform's processing; welcome messages missed, by status
and reason; routing decisions/s (`choose_accounts`, and `choice_for` with its queries).

    .venv/bin/python bench/welcome_burst.py --rate 100 --seconds 10             # SQLite in a temp dir
    .venv/bin/python bench/welcome_burst.py --rate 500 --seconds 60 --postgres  # PostgreSQL 127.0.0.1:5432

The twin runs in its own process (this script with `--serve-twin`), so neither the load driver
nor the twin takes the other's GIL. WeCom allows 10,000 calls/min per corp per API (WECOM.md
§1); 500 adds/s means 30,000 `send_welcome_msg`/min, so `--wecom-limit` (default WeCom's) decides
whether the twin enforces that or measures the platform alone (e.g. `--wecom-limit 1000000`).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import datetime as dt
import json
import os
import platform
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

CORP_ID, SECRET, TOKEN = "wwburst000000001", "burst-secret", "BurstToken"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
WEBHOOK_SLUG = "burst"
WELCOME_TEXT = "{customer_nickname}，欢迎！我是{staff_name}"


# --- the twin, in its own process ------------------------------------------------------------------

def serve_twin(args: argparse.Namespace) -> None:
    from siyu.simulator.app import make_twin_server
    from siyu.simulator.config import TwinConfig

    config = TwinConfig(corp_id=CORP_ID, corp_secret=SECRET, callback_token=TOKEN, encoding_aes_key=AES_KEY,
                        callback_url=args.callback_url, rate_limit_per_minute=args.wecom_limit,
                        callback_threads=args.callback_threads,
                        default_capacity=args.capacity, seed=1)
    server, app = make_twin_server("127.0.0.1", args.twin_port, config)
    try:
        server.serve_forever(poll_interval=0.05)
    finally:
        server.server_close()
        app.close()


# --- setup ---------------------------------------------------------------------------------------------

def prepare_database(args: argparse.Namespace, data_dir: Path) -> dict[str, str]:
    env = {"SIYU_DATA_DIR": str(data_dir), "DJANGO_SETTINGS_MODULE": "siyu.settings",
           "SIYU_WECOM_ALLOWED_API_BASES": "http://127.0.0.1:*/"}  # the twin (siyu.wecom.api_bases)
    if args.postgres:
        import psycopg

        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS siyu_bench_welcome")
            conn.execute("CREATE DATABASE siyu_bench_welcome")
        env["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/siyu_bench_welcome"
    else:
        env["DATABASE_URL"] = f"sqlite:///{data_dir / 'bench.sqlite3'}"
    os.environ.update(env)
    return env


def wait_until_up(url: str) -> None:
    import httpx

    for _ in range(150):
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


def quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(len(ordered) * q + 0.5) - 1))]


def spread(values: list[float]) -> str:
    if not values:
        return "n/a"
    return (f"p50 {quantile(values, 0.5) * 1000:,.0f} ms, p99 {quantile(values, 0.99) * 1000:,.0f} ms, "
            f"max {max(values) * 1000:,.0f} ms")


# --- the load ---------------------------------------------------------------------------------------------

async def post_json(host: str, port: int, path: str, payload: dict[str, Any]) -> tuple[int, bytes]:
    """One POST over a fresh connection, read to the server's close (the twin answers HTTP/1.0).
    Raw asyncio rather than an HTTP client library: the load driver shares the 2 cores with the
    system it measures, and this costs a tenth of the CPU per add."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        body = json.dumps(payload).encode()
        writer.write(f"POST {path} HTTP/1.0\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        await writer.drain()
        answer = await reader.read()
    finally:
        writer.close()
    head, _, content = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), content


async def drive(twin_port: int, config_id: str, rate: float, seconds: float, concurrency: int
                ) -> tuple[list[dict[str, Any]], collections.Counter[str], float, int]:
    """POST /twin/customers/add at `rate` per second for `seconds`, each on its own schedule; a
    late request is sent at once (never skipped), so falling behind shows as a lower rate."""
    total = int(rate * seconds)
    added: list[dict[str, Any]] = []
    failures: collections.Counter[str] = collections.Counter()
    gate = asyncio.Semaphore(concurrency)
    behind = 0

    async def one(i: int) -> None:
        async with gate:
            try:
                status, content = await asyncio.wait_for(post_json(
                    "127.0.0.1", twin_port, "/twin/customers/add", {"name": f"顾客{i:06d}", "config_id": config_id}), 30)
            except (OSError, TimeoutError, ValueError, IndexError) as exc:
                failures[type(exc).__name__] += 1
                return
        if status == 201:
            added.append(json.loads(content))
        else:
            failures[f"http {status}: {content[:80]!r}"] += 1

    loop = asyncio.get_running_loop()
    started = loop.time()
    tasks = []
    for i in range(total):
        delay = started + i / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        elif delay < -0.05:
            behind += 1
        tasks.append(asyncio.create_task(one(i)))
    await asyncio.gather(*tasks)
    elapsed = loop.time() - started
    return added, failures, elapsed, behind


# --- where the CPU goes -------------------------------------------------------------------------------

def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds the processes have used so far (Linux /proc; 0 for one gone)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy (not idle or waiting for I/O) since boot."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def gunicorn_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    return [master, *(int(p) for p in children.read_text().split())] if children.exists() else [master]


def postgres_pids() -> list[int]:
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and _comm(p) == "postgres"]


def _comm(proc: Path) -> str:
    try:
        return (proc / "comm").read_text().strip()
    except OSError:
        return ""


# --- routing --------------------------------------------------------------------------------------------

def routing_rates(workspace: Any, code: Any) -> tuple[float, float, int]:
    """Decisions/s of the pure `choose_accounts` over the code's real seats (a minute apart, so
    each call is a new rotation slot), and of `choice_for` (its two queries included)."""
    from django.utils import timezone

    from siyu.channels.services import routing

    seats = routing.seats_of(workspace, code)
    now = timezone.now()
    adds = routing.adds_today_by_account(workspace, [code], now).get(code.state, {})
    calls = 20_000
    started = time.perf_counter()
    for i in range(calls):
        routing.choose_accounts(seats, code.strategy, now + dt.timedelta(minutes=i), adds, previous=code.routed_userids)
    pure = calls / (time.perf_counter() - started)
    calls = 200
    started = time.perf_counter()
    for i in range(calls):
        routing.choice_for(workspace, code, now + dt.timedelta(seconds=i))
    with_queries = calls / (time.perf_counter() - started)
    return pure, with_queries, len(seats)


# --- main -----------------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=500, help="friend-adds per second")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--staff", type=int, default=10, help="staff accounts on the channel code")
    parser.add_argument("--capacity", type=int, default=50_000, help="each staff member's friend limit in the twin")
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--task-workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=64, help="adds in flight at once")
    parser.add_argument("--drain-timeout", type=float, default=180, help="seconds to wait for the queue after the load")
    parser.add_argument("--wecom-limit", type=int, default=10_000,
                        help="the twin's calls/min per API (WeCom's is 10,000, WECOM.md §1)")
    parser.add_argument("--callback-threads", type=int, default=4, help="the twin's callback delivery threads")
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--serve-twin", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--twin-port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--callback-url", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_twin:
        serve_twin(args)
        return

    data_dir = Path(tempfile.mkdtemp(prefix="siyu-bench-welcome-"))
    env = {**os.environ, **prepare_database(args, data_dir)}
    import django

    django.setup()
    import httpx
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count

    from siyu.accounts.models import StaffAccount
    from siyu.accounts.services import sync_accounts
    from siyu.channels.models import WelcomeRecord, WelcomeStatus
    from siyu.channels.services.codes import CodeInput, SeatInput, create_code
    from siyu.cli import compile_translations
    from siyu.core.models import Workspace
    from siyu.core.services import OPERATOR
    from siyu.customers.models import FollowRelation
    from siyu.wecom import services
    from siyu.wecom.models import InboundEvent, InboundStatus

    compile_translations()
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)

    web_port, twin_port = random.sample(range(18000, 19999), 2)
    twin_url = f"http://127.0.0.1:{twin_port}"
    children: list[subprocess.Popen[bytes]] = []
    try:
        children.append(subprocess.Popen(
            [sys.executable, __file__, "--serve-twin", "--twin-port", str(twin_port), "--capacity", str(args.capacity),
             "--wecom-limit", str(args.wecom_limit), "--callback-threads", str(args.callback_threads),
             "--callback-url", f"http://127.0.0.1:{web_port}/wecom/callback/{WEBHOOK_SLUG}/"], env=env, cwd=REPO))
        wait_until_up(f"{twin_url}/twin/state")
        with httpx.Client(base_url=twin_url, timeout=10) as admin:
            for n in range(1, args.staff + 1):
                admin.post("/twin/staff", json={"userid": f"xiaowanzi{n:02d}", "name": f"小完子{n:02d}",
                                                "capacity": args.capacity}).raise_for_status()

        workspace = Workspace.objects.create(name="Burst", slug=WEBHOOK_SLUG)
        services.configure(workspace, OPERATOR, corp_id=CORP_ID, agent_id="1000002", secret=SECRET,  # type: ignore[arg-type]
                           token=TOKEN, aes_key=AES_KEY, api_base=f"{twin_url}/cgi-bin/")
        synced = sync_accounts(workspace, OPERATOR)  # type: ignore[arg-type]
        accounts = list(StaffAccount.objects.for_workspace(workspace).order_by("userid"))
        code = create_code(workspace, OPERATOR, CodeInput(  # type: ignore[arg-type]
            name="Burst", touchpoint="store", seats=[SeatInput(a.pk) for a in accounts], welcome_text=WELCOME_TEXT))
        connection.close()

        children.append(subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "siyu.wsgi:application", "--bind", f"127.0.0.1:{web_port}",
             "--workers", str(args.web_workers), "--threads", "4", "--log-level", "warning"], env=env, cwd=REPO))
        children += [subprocess.Popen([sys.executable, "-m", "siyu.cli", "worker", "--interval", "0.05"], env=env,
                                      cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                     for _ in range(args.task_workers)]
        wait_until_up(f"http://127.0.0.1:{web_port}/login/")

        roles = {"twin": [children[0].pid], "web (gunicorn)": gunicorn_pids(children[1].pid),
                 "task workers": [c.pid for c in children[2:]], "PostgreSQL" if args.postgres else "-": postgres_pids(),
                 "load driver": [os.getpid()]}
        cpu_before = {role: cpu_seconds(pids) for role, pids in roles.items()}
        machine_before = machine_busy_seconds()
        added, failures, elapsed, behind = asyncio.run(
            drive(twin_port, code.config_id, args.rate, args.seconds, args.concurrency))
        load_done = time.monotonic()
        roles["PostgreSQL" if args.postgres else "-"] = postgres_pids()  # backends opened meanwhile
        cpu_used = {role: cpu_seconds(pids) - cpu_before.get(role, 0.0) for role, pids in roles.items() if role != "-"}
        machine_used = machine_busy_seconds() - machine_before

        # Drain: every add kept, and none of them still waiting for its welcome (bounded).
        relations = FollowRelation.objects.for_workspace(workspace)
        welcomes = WelcomeRecord.objects.for_workspace(workspace)  # one per add, settled once
        open_statuses = [WelcomeStatus.PENDING, WelcomeStatus.SENDING]
        deadline = load_done + args.drain_timeout
        while time.monotonic() < deadline:
            kept = relations.count()
            waiting = kept - welcomes.exclude(status__in=open_statuses).count()
            unprocessed = InboundEvent.objects.for_workspace(workspace).filter(status=InboundStatus.RECEIVED).count()
            if kept >= len(added) and not waiting and not unprocessed:
                break
            time.sleep(1)
        drained = time.monotonic() - load_done
        with httpx.Client(base_url=twin_url, timeout=120) as admin:
            state = admin.get("/twin/state").json()

        by_status = dict(welcomes.values_list("status").annotate(n=Count("id")).order_by())
        # Notes name the seconds ("42 s late"); grouped with the numbers blanked out.
        reasons = collections.Counter(
            re.sub(r"\d+", "N", note)
            for note in welcomes.exclude(status=WelcomeStatus.SENT).values_list("note", flat=True))
        inbox = InboundEvent.objects.for_workspace(workspace)
        processed = inbox.filter(status=InboundStatus.PROCESSED).count()
        first, last = inbox.order_by("received_at").first(), inbox.order_by("-processed_at").first()
        span = (last.processed_at - first.received_at).total_seconds() if first and last and last.processed_at else 0
        kept = relations.count()
        still_open = kept - welcomes.exclude(status__in=open_statuses).count()
        routing_pure, routing_db, seat_count = routing_rates(workspace, code)
        routed = list(StaffAccount.objects.for_workspace(workspace).filter(friend_count__gt=0)
                      .values_list("userid", "friend_count"))
        vendor = connection.vendor
    finally:
        for child in reversed(children):
            child.terminate()
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()

    # The twin's own clock stamps the add (welcome code issued) and the welcome's arrival.
    issued = {c["code"]: c["issued_at"] for c in state["welcome_codes"]}
    welcomed = {(m["userid"], m["external_userid"]): m["received_at"] for m in state["messages"] if m["kind"] == "welcome"}
    delivered_at: dict[str, tuple[float, float]] = {}  # external_userid -> (queued, acknowledged)
    attempts_failed = 0
    for d in state["callbacks"]:
        if not d["kind"].endswith("add_external_contact"):
            continue
        external = d["inner_xml"].split("<ExternalUserID><![CDATA[", 1)[1].split("]]>", 1)[0]
        attempts_failed += sum(a["outcome"] != "ok" for a in d["attempts"])
        ok = [a for a in d["attempts"] if a["outcome"] == "ok"]
        if ok:
            delivered_at[external] = (d["created_at"], ok[0]["at"] + ok[0]["duration_ms"] / 1000)
    total, acked_after, ack, platform_part = [], [], [], []
    missed = 0
    for add in added:
        at = issued[add["welcome_code"]]
        received = welcomed.get((add["userid"], add["external_userid"]))
        if received is None:
            missed += 1
            continue
        total.append(received - at)
        if add["external_userid"] in delivered_at:
            queued, acked = delivered_at[add["external_userid"]]
            acked_after.append(acked - queued)
            platform_part.append(received - acked)
    for d in state["callbacks"]:
        for a in d["attempts"][:1]:
            if d["kind"].endswith("add_external_contact"):
                ack.append(a["at"] - d["created_at"])
    acked_all = [acked - queued for queued, acked in delivered_at.values()]
    undelivered = sum(1 for d in state["callbacks"] if d["status"] == "pending")
    over_window = sum(1 for t in total if t > 20)

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load {os.getloadavg()[0]:.1f}; database: {vendor}; gunicorn {args.web_workers} workers x 4 threads; "
          f"task workers: {args.task_workers}; twin: one process, {args.callback_threads} callback threads; "
          f"twin API limit {args.wecom_limit:,}/min per API")
    print(f"brand: {synced.listed} staff synced, code {code.state} round-robin over {seat_count} seats; "
          f"friends per account at the end: {dict(routed)}")
    print(f"adds: asked {args.rate:g}/s for {args.seconds:g}s = {int(args.rate * args.seconds)}; accepted {len(added)} in "
          f"{elapsed:.1f}s = {len(added) / elapsed:,.1f}/s achieved; refused/failed {sum(failures.values())} "
          f"{dict(failures.most_common(3))}; sent late (>50 ms behind schedule) {behind}")
    print(f"add -> welcome received by the twin ({len(total)} welcomed): {spread(total)}; over 20 s: {over_window}")
    print(f"  of which add -> callback sent (the twin's delivery threads): {spread(ack)}")
    print(f"  of which add -> callback acknowledged by the platform: {spread(acked_after)} "
          f"(all {len(acked_all)} delivered adds: {spread(acked_all)}; still in the twin's queue: {undelivered})")
    print(f"  of which acknowledged -> welcome sent (inbox, subscribers, send_welcome_msg): {spread(platform_part)}")
    print(f"inbox: {processed} callbacks processed in {span:.1f}s from the first receipt = "
          f"{processed / span if span else 0:,.1f}/s through the workers (the platform's throughput for adds)")
    print(f"callback attempts that failed (timeout/non-200, retried by the twin): {attempts_failed}")
    print(f"missed: {missed} of {len(added)} adds got no welcome; platform kept {kept} follow relations; "
          f"waited {drained:.1f}s after the load (bound {args.drain_timeout:g}s); at the end {len(added) - kept} adds "
          f"not yet kept and {still_open} kept but still pending/sending (counted as missed)")
    print(f"  welcome records by status: {by_status}")
    for note, n in reasons.most_common(5):
        print(f"  {n} x {note or '(no note)'}")
    busy = sum(cpu_used.values())
    print(f"CPU during the load ({elapsed:.0f} s x {os.cpu_count()} cores = {elapsed * (os.cpu_count() or 1):.0f} core-s): "
          + ", ".join(f"{role} {seconds:.1f} s ({1000 * seconds / max(1, len(added)):.1f} ms per add)"
                      for role, seconds in cpu_used.items())
          + f"; all {busy:.1f} s; the whole machine was busy {machine_used:.1f} s")
    print(f"routing decisions/s: choose_accounts {routing_pure:,.0f}/s (pure, {seat_count} seats); "
          f"choice_for {routing_db:,.0f}/s (with its queries)")
    goal = bool(total) and quantile(total, 0.99) < 2 and missed == 0 and not failures
    print(f"goal (p99 < 2 s, 0 missed, every add accepted): {'met' if goal else 'NOT met'}")
    if args.rate * 60 > args.wecom_limit:
        print(f"note: {args.rate:g} adds/s is {args.rate * 60:,.0f} send_welcome_msg calls/min for one corp, above the "
              f"twin's {args.wecom_limit:,}/min per API (WeCom's real limit is 10,000, WECOM.md §1)")


if __name__ == "__main__":
    main()
