"""Event bus throughput: publish N events with two subscribers each, then drain them with one
in-process worker. Prints events published/s and subscriber runs processed/s.

    SIYU_DATA_DIR=/tmp/siyu-bench .venv/bin/python bench/event_bus.py [N]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/siyu_bench ... (database must exist)
"""

from __future__ import annotations

import os
import platform
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "siyu.settings")
django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from siyu.core import events  # noqa: E402
from siyu.core.models import RunStatus, SubscriberRun, Workspace  # noqa: E402
from siyu.core.worker import HeartbeatWorker  # noqa: E402


class BenchPing(events.DomainEvent):
    name = "bench.ping"
    n: int


@events.subscribe(BenchPing)
def first(workspace, event, record) -> None:  # noqa: ANN001
    pass


@events.subscribe(BenchPing)
def second(workspace, event, record) -> None:  # noqa: ANN001
    pass


def main(n: int) -> None:
    call_command("migrate", verbosity=0)
    workspace, _ = Workspace.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    started = time.perf_counter()
    for i in range(n):
        events.publish(workspace, BenchPing(n=i))
    published = time.perf_counter() - started

    started = time.perf_counter()
    HeartbeatWorker(interval=0, batch=True).run()
    drained = time.perf_counter() - started
    done = SubscriberRun.objects.for_workspace(workspace).filter(status=RunStatus.DONE).count()

    print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"database: {connection.vendor}")
    print(f"published {n} events in {published:.2f}s: {n / published:,.0f} events/s")
    print(f"worker ran {2 * n} subscriber runs in {drained:.2f}s: {2 * n / drained:,.0f} runs/s "
          f"(done in total: {done})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
