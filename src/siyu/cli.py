"""The `siyu` command: `siyu demo`, `siyu run`, `siyu worker`, `siyu scheduler`, `siyu setup`,
and every Django management command (`siyu migrate`, `siyu createsuperuser`, ...)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

USAGE = """usage: siyu <command> [options]

  demo        set up, create the demo brand and start web + worker + scheduler (Ctrl-C stops all)
  run         set up and start web + worker + scheduler
  setup       migrate the database, compile translations, collect static files
  worker      run a task worker
  scheduler   run the scheduler (one leader at a time)
  twin        run the WeCom twin, a local stand-in for WeCom (`siyu twin --help`)
  <django command>   any Django management command, e.g. `siyu migrate`, `siyu shell`
"""


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "siyu.settings")
    import django

    django.setup()


def compile_translations() -> None:
    """Compile the .po catalogues with Babel, so no GNU gettext is needed on the machine."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    # The project's catalogue and each app's own (src/siyu/<app>/locale), which Django finds itself.
    for po_path in Path(__file__).parent.glob("**/locale/*/LC_MESSAGES/*.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file)
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog)


def setup(verbosity: int = 0) -> None:
    compile_translations()
    _django()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=verbosity)
    call_command("createcachetable", verbosity=verbosity)
    if _static_stale(Path(settings.STATIC_ROOT) / "staticfiles.json") or os.environ.get("SIYU_COLLECTSTATIC"):
        call_command("collectstatic", interactive=False, verbosity=verbosity)


def _static_stale(manifest: Path) -> bool:
    """No collected static files yet, or an app's static file or the npm packages changed since
    (an upgrade adds assets that an old manifest would not know)."""
    from django.conf import settings

    if not manifest.exists():
        return True
    collected = manifest.stat().st_mtime
    sources = [Path(settings.NODE_MODULES) / ".package-lock.json", *Path(__file__).parent.glob("*/static/**/*")]
    return any(p.is_file() and p.stat().st_mtime > collected for p in sources)


def _spawn(args: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "siyu.cli", *args], env=os.environ.copy(), process_group=0)


def _end_group(process: subprocess.Popen[bytes]) -> None:
    """Kill what is left of an exited child's process group: a gunicorn master killed with
    SIGKILL leaves its workers behind, holding the port its successor needs."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


RESTART_BACKOFF_MAX = 30.0  # seconds between restarts of a child that keeps crashing
STEADY_AFTER = 60.0  # a child that ran this long before exiting restarts at once


@dataclass
class Child:
    """One supervised process: how to start it, the running process, and its restart state."""

    name: str
    start: Callable[[], subprocess.Popen[bytes]]
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restarts: int = 0
    backoff: float = 0.0
    restart_at: float | None = None

    def launch(self) -> None:
        self.process = self.start()
        self.started_at, self.restart_at = time.monotonic(), None

    def check(self, now: float) -> None:
        """Restart the child if it exited: at once after a steady run, else with a back-off
        that doubles up to RESTART_BACKOFF_MAX, so a child that cannot start does not spin."""
        if self.restart_at is not None:
            if now >= self.restart_at:
                self.restarts += 1
                print(f"siyu: restarting {self.name} (restart {self.restarts})", file=sys.stderr, flush=True)
                self.launch()
            return
        if self.process is None or self.process.poll() is None:
            return
        _end_group(self.process)
        steady = now - self.started_at >= STEADY_AFTER
        self.backoff = 0.0 if steady else min(RESTART_BACKOFF_MAX, max(1.0, self.backoff * 2))
        self.restart_at = now + self.backoff
        print(f"siyu: {self.name} exited with {self.process.returncode}; restarting in {self.backoff:.0f} s",
              file=sys.stderr, flush=True)


def serve(
    host: str, port: int, web_workers: int, twin: list[str] | None = None,
    after_start: Callable[[], None] | None = None,
) -> int:
    """Run web, worker and scheduler (and, for the demo, the WeCom twin) as one process group
    under a supervisor: a child that exits is restarted (with back-off if it keeps failing) while
    the others keep serving; Ctrl-C stops all of them. `after_start` runs in the background once
    they are started."""

    def web() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "siyu.wsgi:application", "--bind", f"{host}:{port}",
             "--workers", str(web_workers), "--threads", "4", "--log-level", "warning",
             "--graceful-timeout", "5"],
            env=os.environ.copy(), process_group=0,
        )

    children = [Child("web", web), Child("worker", lambda: _spawn(["worker"])),
                Child("scheduler", lambda: _spawn(["scheduler"]))]
    if twin is not None:
        children.append(Child("twin", lambda: _spawn(["twin", *twin])))
    for child in children:
        child.launch()
    print(f"Siyu is running at http://{host}:{port}/  (Ctrl-C stops web, worker and scheduler)", flush=True)
    if after_start is not None:
        threading.Thread(target=after_start, name="after-start", daemon=True).start()

    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while not stopping:
        now = time.monotonic()
        for child in children:
            child.check(now)
        time.sleep(0.2)
    running = [c.process for c in children if c.process is not None and c.process.poll() is None]
    for process in running:
        process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 10
    for process in running:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        _end_group(process)
    print("siyu: stopped", flush=True)
    return 0


def allow_api_base(url: str) -> None:
    """Let brands use `url` as their WeCom API base (`siyu.wecom.api_bases`): the demo's twin is
    plain http on loopback. Before Django starts, so that this process and its children see it."""
    allowed = [base for base in os.environ.get("SIYU_WECOM_ALLOWED_API_BASES", "").split(",") if base.strip()]
    os.environ["SIYU_WECOM_ALLOWED_API_BASES"] = ",".join([*allowed, url])


def _option(argv: list[str], name: str, default: str) -> str:
    if name in argv:
        i = argv.index(name)
        if i + 1 < len(argv):
            return argv[i + 1]
    return os.environ.get(name.lstrip("-").upper().replace("-", "_"), default)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(USAGE)
        return 0
    command, rest = argv[0], argv[1:]
    if command == "twin":
        from siyu.simulator.demo import main as twin_main

        return twin_main(rest)
    host = _option(rest, "--host", "127.0.0.1")
    port = int(_option(rest, "--port", "8000"))
    web_workers = int(_option(rest, "--web-workers", "2"))
    if command == "setup":
        setup(verbosity=1)
        return 0
    if command in {"demo", "run"}:
        twin_port = int(_option(rest, "--twin-port", "8001"))
        if command == "demo":
            # The twin's root: WeCom's API under /cgi-bin/, the WeChat service account's beside it.
            allow_api_base(f"http://127.0.0.1:{twin_port}/")
        print("siyu: preparing the database and static files ...", flush=True)
        setup()
        twin, after_start = None, None
        if command == "demo":
            from siyu.demo import acquisition_loop_starter, connect_demo_to_twin, ensure_demo_brand

            demo = ensure_demo_brand()
            twin = connect_demo_to_twin(demo.workspace, f"http://{host}:{port}", twin_port)
            after_start = acquisition_loop_starter(demo.workspace, f"http://127.0.0.1:{twin_port}")
            print(
                f"\n  Demo brand: {demo.workspace.name} ({demo.workspace.slug})\n"
                f"  Sign in at http://{host}:{port}/login/ as  {demo.username} / {demo.password}\n"
                f"  WeCom twin at http://127.0.0.1:{twin_port}/twin/state (customers arrive within a minute)\n"
                f"  On a phone-sized window: the staff sidebar http://{host}:{port}/m/{demo.workspace.slug}/staff/"
                f"  and a fan's page http://{host}:{port}/m/{demo.workspace.slug}/fan/welfare/\n",
                flush=True,
            )
        return serve(host, port, web_workers, twin, after_start)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "siyu.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["siyu", *argv])
    return 0


if __name__ == "__main__":
    sys.exit(main())
