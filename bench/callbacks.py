"""Callback throughput: sustained encrypted WeCom callbacks POSTed over loopback to the real
server process (gunicorn), processed by real worker processes.

Prints acknowledged events/s, ack latency p50/p99, events processed/s by the workers, and the
lost and duplicated counts (5% of deliveries are repeats, as WeCom retries).

    .venv/bin/python bench/callbacks.py --events 5000                     # SQLite in a temp dir
    .venv/bin/python bench/callbacks.py --events 5000 --postgres          # PostgreSQL 127.0.0.1:5432
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TOKEN, CORP_ID, AES_KEY = "QDG6eK", "wx5823bf96d3bd56c7", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"


def prepare_database(args: argparse.Namespace, data_dir: Path) -> dict[str, str]:
    env = {"SIYU_DATA_DIR": str(data_dir), "DJANGO_SETTINGS_MODULE": "siyu.settings"}
    if args.postgres:
        import psycopg

        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS siyu_bench")
            conn.execute("CREATE DATABASE siyu_bench")
        env["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/siyu_bench"
    else:
        env["DATABASE_URL"] = f"sqlite:///{data_dir / 'bench.sqlite3'}"
    os.environ.update(env)
    return env


def external_ids(deliveries: list[tuple[str, bytes]]) -> list[str]:
    """The ExternalUserID inside each encrypted delivery (decrypted here, outside the timing)."""
    from siyu.wecom.crypto import CallbackCipher
    from siyu.wecom.parsing import read_callback

    cipher = CallbackCipher(TOKEN, AES_KEY, CORP_ID)
    ids = []
    for url, body in deliveries:
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
        inner = cipher.decrypt_event(q["msg_signature"][0], q["timestamp"][0], q["nonce"][0], body)
        ids.append(read_callback(inner).fields["ExternalUserID"])
    return ids


def build_deliveries(n: int, duplicate_share: float, port: int) -> list[tuple[str, bytes]]:
    from siyu.wecom.crypto import CallbackCipher

    cipher = CallbackCipher(TOKEN, AES_KEY, CORP_ID)
    now = int(time.time())
    unique = []
    for i in range(n):
        inner = (
            f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>"
            f"<CreateTime>{now}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
            "<Event><![CDATA[change_external_contact]]></Event><ChangeType><![CDATA[add_external_contact]]></ChangeType>"
            f"<UserID><![CDATA[staff{i % 20:02d}]]></UserID><ExternalUserID><![CDATA[wmBench{i:08d}]]></ExternalUserID>"
            f"<State><![CDATA[ch{i % 6}]]></State><WelcomeCode><![CDATA[W{i}]]></WelcomeCode></xml>"
        ).encode()
        nonce = str(random.randint(10**8, 10**9))
        signature, body = cipher.encrypt_event(inner, str(now), nonce, "1000002")
        query = urllib.parse.urlencode({"msg_signature": signature, "timestamp": now, "nonce": nonce})
        unique.append((f"http://127.0.0.1:{port}/wecom/callback/bench/?{query}", body))
    repeats = random.Random(7).sample(unique, int(n * duplicate_share))
    deliveries = unique + repeats
    random.Random(8).shuffle(deliveries)
    return deliveries


async def send_all(deliveries: list[tuple[str, bytes]], concurrency: int) -> tuple[list[float], int, float]:
    import httpx

    latencies: list[float] = []
    failures = 0
    queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
    for d in deliveries:
        queue.put_nowait(d)

    async def sender(client: httpx.AsyncClient) -> None:
        nonlocal failures
        while not queue.empty():
            url, body = queue.get_nowait()
            started = time.perf_counter()
            try:
                response = await client.post(url, content=body, headers={"Content-Type": "text/xml"})
                ok = response.status_code == 200
            except httpx.HTTPError:
                ok = False
            latencies.append(time.perf_counter() - started)
            failures += not ok

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=10) as client:
        started = time.perf_counter()
        await asyncio.gather(*(sender(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return latencies, failures, elapsed


def run_wrk(deliveries: list[tuple[str, bytes]], port: int, args: argparse.Namespace, data_dir: Path
            ) -> tuple[int, int, float, float, float, set[bytes]]:
    requests_file = data_dir / "callbacks.tsv"
    with requests_file.open("w") as f:
        for url, body in deliveries:
            f.write(url.split(f":{port}", 1)[1] + "\t" + body.decode() + "\n")
    threads = 2
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{args.concurrency}", f"-d{args.seconds}s", "--latency", "--timeout", "10s",
         "-s", str(REPO / "bench" / "callbacks.lua"), f"http://127.0.0.1:{port}", "--", str(requests_file), str(threads)],
        capture_output=True, text=True, check=True,
    ).stdout

    def ms(label: str) -> float:
        value = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)", out, re.M)
        if not value:
            return float("nan")
        number, unit = float(value.group(1)), value.group(2)
        return number / 1000 if unit == "us" else number * 1000 if unit == "s" else number

    sent = int(re.search(r"(\d+) requests in ([\d.]+)s", out).group(1))
    elapsed = float(re.search(r"(\d+) requests in ([\d.]+)s", out).group(2))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    failures = (int(errors.group(1)) if errors else 0) + (sum(map(int, socket_errors.groups())) if socket_errors else 0)
    # Which callbacks went out: thread t sent the first n_t of its share (every threads-th line).
    sent_bodies = set()
    generated = sum(int(n) for _, n in re.findall(r"^thread-sent (\d+) (\d+)$", out, re.M))
    for t, n in re.findall(r"^thread-sent (\d+) (\d+)$", out, re.M):
        share = deliveries[int(t)::threads]
        sent_bodies.update(body for _, body in (share * (int(n) // len(share) + 1))[: int(n)])
    # Requests wrk generated but never saw answered (cut off when it stopped) were not acknowledged.
    return sent, failures + max(0, generated - sent), elapsed, ms("50%"), ms("99%"), sent_bodies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--task-workers", type=int, default=1)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--client", choices=["wrk", "python"], default="wrk",
                        help="wrk (apt-get install wrk) loads the server without taking a core from it")
    parser.add_argument("--seconds", type=int, default=10, help="wrk: how long to send")
    parser.add_argument("--server", choices=["gunicorn", "granian"], default="gunicorn")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="siyu-bench-"))
    env = {**os.environ, **prepare_database(args, data_dir)}
    sys.path.insert(0, str(REPO / "src"))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from siyu.core.models import EventRecord, Workspace
    from siyu.core.services import OPERATOR
    from siyu.wecom import services, spool
    from siyu.wecom.models import InboundEvent, InboundStatus

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    workspace = Workspace.objects.create(name="Bench", slug="bench")
    services.configure(workspace, OPERATOR, corp_id=CORP_ID, agent_id="1000002", secret="bench", token=TOKEN,  # type: ignore[arg-type]
                       aes_key=AES_KEY)
    connection.close()

    port = 18000 + random.randint(0, 999)
    server_command = (
        [sys.executable, "-m", "gunicorn", "siyu.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(args.web_workers), "--threads", "4", "--log-level", "warning"]
        if args.server == "gunicorn" else
        [str(Path(sys.executable).parent / "granian"), "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(args.web_workers), "--blocking-threads", "4", "--log-level", "warning", "siyu.wsgi:application"]
    )
    web = subprocess.Popen(server_command, env=env, cwd=REPO)
    workers = [subprocess.Popen([sys.executable, "-m", "siyu.cli", "worker", "--interval", "0.05"], env=env, cwd=REPO,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(args.task_workers)]
    try:
        import httpx

        for _ in range(100):
            try:
                httpx.get(f"http://127.0.0.1:{port}/login/", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        deliveries = build_deliveries(args.events, 0.05, port)
        external_of = {body: external for (_, body), external in zip(deliveries, external_ids(deliveries), strict=True)}
        if args.client == "wrk":
            sent, failures, elapsed, p50, p99, sent_bodies = run_wrk(deliveries, port, args, data_dir)
        else:
            latencies, failures, elapsed = asyncio.run(send_all(deliveries, args.concurrency))
            latencies.sort()
            sent, sent_bodies = len(deliveries), {body for _, body in deliveries}
            p50, p99 = statistics.median(latencies) * 1000, latencies[int(len(latencies) * 0.99) - 1] * 1000
        send_done = time.time()

        deadline = time.time() + (900 if args.task_workers else 0)
        while time.time() < deadline:
            pending, _ = services.inbox_backlog(workspace)  # the spool's callbacks included (SQLite)
            if pending == 0:
                break
            time.sleep(0.5)
        drained = time.time()
        if not args.task_workers:
            while spool.in_use() and spool.move(1000):  # into the inbox, unprocessed, to count them
                pass
        stored_ids = {p["ExternalUserID"] for p in InboundEvent.objects.for_workspace(workspace).values_list("parsed", flat=True)}
        sent_ids = {external_of[body] for body in sent_bodies}
        processed = InboundEvent.objects.for_workspace(workspace).filter(status=InboundStatus.PROCESSED).count()
        published = EventRecord.objects.for_workspace(workspace).filter(name="wecom.friend_added").count()
        first = InboundEvent.objects.for_workspace(workspace).order_by("received_at").first()
        last = InboundEvent.objects.for_workspace(workspace).order_by("-processed_at").first()
        span = (last.processed_at - first.received_at).total_seconds() if first and last and last.processed_at else 0
    finally:
        web.terminate()
        for w in workers:
            w.terminate()
        web.wait()
        for w in workers:
            w.wait()

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"database: {connection.vendor}; {args.server}: {args.web_workers} workers x 4 threads; task workers: {args.task_workers}; "
          f"client concurrency: {args.concurrency}")
    print(f"client: {args.client}; deliveries sent: {sent} (from {args.events} unique callbacks, 5% repeated; "
          f"wrk cycles through them again when it runs out); not acknowledged (non-200, or cut off when "
          f"the load stopped): {failures}")
    print(f"acknowledged: {sent / elapsed:,.0f} events/s over {elapsed:.1f}s; ack latency p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    print(f"processed by workers: {processed} in {span:.1f}s from first receipt = {processed / span if span else 0:,.0f} events/s "
          f"(queue drained {drained - send_done:.1f}s after the last ack)")
    if not args.task_workers:
        print(f"lost: {max(0, len(sent_ids - stored_ids) - failures)} (acknowledged but never stored); "
              "no task workers ran, so nothing was processed")
        return
    print(f"lost: {max(0, len(sent_ids - stored_ids) - failures)} (acknowledged but never stored); duplicated: {published - len(stored_ids)} (domain events {published} for "
          f"{len(stored_ids)} stored callbacks, {len(sent_ids)} distinct sent)")


if __name__ == "__main__":
    main()
