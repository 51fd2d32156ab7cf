"""`siyu run` starts web, worker and scheduler as one group, serves the console and stops cleanly."""

import os
import signal
import sqlite3
import subprocess
import sys
import urllib.request

import pytest

from tests.conftest import REPO, free_port, wait_for

pytestmark = pytest.mark.slow


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback only)
            return response.status, response.read().decode()
    except OSError:
        return 0, ""


def _processed_callbacks(database) -> int:
    with sqlite3.connect(database, timeout=5) as db:
        return db.execute("SELECT count(*) FROM wecom_inboundevent WHERE status = 'processed'").fetchone()[0]


def test_siyu_demo_serves_the_login_page_and_stops_on_ctrl_c(tmp_path):
    port = free_port()
    env = {**os.environ, "SIYU_DATA_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "siyu.cli", "demo", "--port", str(port), "--twin-port", str(free_port()),
         "--web-workers", "1"],
        env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        def served() -> tuple[int, str] | None:
            assert proc.poll() is None, proc.stdout.read().decode()
            response = _get(f"http://127.0.0.1:{port}/login/")
            return response if response[0] == 200 else None

        status, html = wait_for(served, timeout=180)
        assert "登录" in html
        status, css = _get(f"http://127.0.0.1:{port}" + html.split('href="')[1].split('"')[0])
        assert status == 200 and "tabler" in css.lower()
        # The twin's population arrives and its callbacks are processed within a minute.
        database = tmp_path / "demo.sqlite3"
        wait_for(lambda: _processed_callbacks(database) >= 5, timeout=60, interval=1)
    finally:
        proc.send_signal(signal.SIGINT)
        output = proc.communicate(timeout=30)[0].decode()
    assert proc.returncode == 0, output
    assert "admin /" in output and "siyu: stopped" in output
    password = (tmp_path / "demo_admin_password").read_text().strip()
    assert f"admin / {password}" in output
    # No child outlives the group.
    leftover = subprocess.run(["pgrep", "-s", str(proc.pid)], capture_output=True, text=True).stdout.split()
    assert leftover == []
