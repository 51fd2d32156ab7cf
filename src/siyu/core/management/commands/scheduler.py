import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand

from siyu.core.schedule import Scheduler


class Command(BaseCommand):
    help = "Run the scheduler: enqueue due jobs; one leader at a time across processes."

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        Scheduler().run_forever(stop)
