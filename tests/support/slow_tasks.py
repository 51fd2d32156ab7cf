"""Tasks for process-level tests; importable by worker subprocesses (PYTHONPATH = repo)."""

import time
from pathlib import Path

from django_tasks import task


@task()
def slow_append(path: str, line: str, seconds: float) -> str:
    """Sleep, then append a line: a crash during the sleep leaves no trace of this run."""
    time.sleep(seconds)
    with Path(path).open("a", encoding="utf-8") as f:
        f.write(line + "\n")
    return line
