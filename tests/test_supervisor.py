"""`siyu run` supervises its children: one that is killed comes back while the others keep
serving, and Ctrl-C still stops them all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request

import pytest

from tests.conftest import REPO, free_port, wait_for

pytestmark = pytest.mark.slow

ROLES = {"worker": "siyu.cli worker", "scheduler": "siyu.cli scheduler", "web": "gunicorn siyu.wsgi"}


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback only)
            return response.status
    except OSError:
        return 0


def _child(parent: int, role: str) -> int | None:
    found = subprocess.run(["pgrep", "-P", str(parent), "-f", ROLES[role]], capture_output=True, text=True)
    pids = [int(p) for p in found.stdout.split()]
    return pids[0] if pids else None


def test_a_killed_child_is_restarted_and_the_site_keeps_serving(tmp_path):
    port = free_port()
    env = {**os.environ, "SIYU_DATA_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'run.sqlite3'}"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "siyu.cli", "run", "--port", str(port), "--web-workers", "1"],
        env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _status(f"{base}/readyz") == 200, timeout=180)
        for role in ("worker", "scheduler"):
            old = wait_for(lambda role=role: _child(proc.pid, role), timeout=30)
            os.kill(old, signal.SIGKILL)
            # The web keeps answering while the child is down, and the child comes back.
            assert _status(f"{base}/login/") == 200
            new = wait_for(lambda role=role, old=old: (pid := _child(proc.pid, role)) and pid != old and pid,
                           timeout=30)
            assert new != old
        old = _child(proc.pid, "web")
        assert old is not None
        os.kill(old, signal.SIGKILL)
        wait_for(lambda: (pid := _child(proc.pid, "web")) and pid != old, timeout=30)
        wait_for(lambda: _status(f"{base}/healthz") == 200, timeout=60)
        assert proc.poll() is None
    finally:
        proc.send_signal(signal.SIGINT)
        output = proc.communicate(timeout=30)[0].decode()
    assert proc.returncode == 0, output
    for role in ("worker", "scheduler", "web"):
        assert f"siyu: {role} exited with -9" in output and f"siyu: restarting {role}" in output
    assert "siyu: stopped" in output
    leftover = subprocess.run(["pgrep", "-s", str(proc.pid)], capture_output=True, text=True).stdout.split()
    assert leftover == []
