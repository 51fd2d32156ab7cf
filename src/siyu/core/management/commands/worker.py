from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from siyu.core.worker import HeartbeatWorker


class Command(BaseCommand):
    help = "Run a task worker (with a heartbeat, so a killed worker's task is retried)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--interval", type=float, default=0.5, help="seconds between polls when idle")
        parser.add_argument("--max-tasks", type=int, default=None)

    def handle(self, *args: Any, interval: float, max_tasks: int | None, **options: Any) -> None:
        worker = HeartbeatWorker(interval=interval, max_tasks=max_tasks)
        worker.configure_signals()
        worker.run()
