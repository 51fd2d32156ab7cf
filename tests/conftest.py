"""Standing fixtures: two brands, each with an admin and members of other roles, and an outsider."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
PASSWORD = "correct-horse-battery-staple"


def pytest_configure(config: pytest.Config) -> None:
    from siyu.cli import compile_translations

    compile_translations()
    from django.conf import settings
    from django.utils.translation import trans_real

    # A catalogue looked up before it was compiled stays cached as missing; forget it.
    trans_real._translations.clear()
    trans_real._default = None

    settings.SIYU = {**settings.SIYU, "INBOX_DRAIN_DELAY_MS": 0}
    # Tests' twins listen on loopback ports: allow them as WeCom API bases (siyu.wecom.api_bases),
    # here and in the worker and web processes tests start.
    os.environ["SIYU_WECOM_ALLOWED_API_BASES"] = "http://127.0.0.1:*/"
    settings.SIYU_WECOM_ALLOWED_API_BASES = ["http://127.0.0.1:*/"]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Tests render pages without running collectstatic first.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@dataclass
class Brand:
    workspace: Any
    admin: Any
    members: dict[str, Any]


def make_member(workspace: Any, username: str, role: str) -> Any:
    from django.contrib.auth import get_user_model

    from siyu.core.models import Membership

    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    Membership.objects.create(workspace=workspace, user=user, role=role)
    return user


def make_brand(slug: str) -> Brand:
    from siyu.core.models import Workspace
    from siyu.core.permissions import Role

    workspace = Workspace.objects.create(name=f"Brand {slug}", slug=slug)
    members = {role: make_member(workspace, f"{slug}-{role}", role) for role in Role.values}
    return Brand(workspace, members[Role.ADMIN], members)


@pytest.fixture
def brand_a(db: None) -> Brand:
    return make_brand("alpha")


@pytest.fixture
def brand_b(db: None) -> Brand:
    return make_brand("beta")


def seat(user: Any, workspace: Any) -> Any:
    from siyu.core.models import Membership

    return Membership.objects.for_workspace(workspace).get(user=user)


@pytest.fixture
def login(client: Any) -> Any:
    def _login(user: Any) -> Any:
        client.force_login(user)
        return client

    return _login


# --- real processes ------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url_of_test_db() -> str:
    """The URL of the database the tests run on, for worker/scheduler subprocesses
    (the test must use `transactional_db` so they see committed rows)."""
    from django.db import connection

    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def siyu_process(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "siyu.cli", *args],
        env={**os.environ, "PYTHONPATH": str(REPO), **env},
        stdout=handle,
        stderr=subprocess.STDOUT,
        cwd=REPO,
    )


def work_until(condition: Any, timeout: float = 20) -> Any:
    """Run a real worker over whatever is queued until `condition` holds: a callback's drain task is
    queued just after its commit, and an inbox event fans out into subscriber tasks queued only once
    the first batch ran."""
    from siyu.core.worker import HeartbeatWorker

    deadline = time.monotonic() + timeout
    while True:
        HeartbeatWorker(interval=0, batch=True).run()
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(0.1)


def wait_for(predicate: Any, timeout: float = 30, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


def callbacks_received(workspace: Any) -> int:
    """The brand's stored callbacks: in the inbox, or still in the spool (SQLite, `wecom.spool`)
    until a worker moves them. Counted in that order, so a callback moved meanwhile is missed
    rather than counted twice."""
    from siyu.wecom import spool
    from siyu.wecom.models import InboundEvent

    stored = InboundEvent.objects.for_workspace(workspace).count()
    return stored + (spool.backlog(workspace.pk)[0] if spool.in_use() else 0)


@pytest.fixture
def process_env(transactional_db: None) -> Iterator[dict[str, str]]:
    from django.conf import settings

    yield {"DATABASE_URL": database_url_of_test_db(), "SIYU_DATA_DIR": str(settings.DATA_DIR)}


@pytest.fixture(autouse=True)
def _empty_callback_spool(request: pytest.FixtureRequest) -> Iterator[None]:
    """On SQLite, callbacks wait in the spool (`siyu.wecom.spool`), a file beside the test database
    that neither a rollback nor a flush empties: each test that uses the database starts and ends
    with an empty spool."""
    if "_django_db_helper" not in request.fixturenames:
        yield
        return
    from siyu.wecom import spool

    request.getfixturevalue("django_db_setup")  # the spool's name follows the test database's
    if spool.in_use():
        spool.clear()
    yield
    if spool.in_use():
        spool.clear()


@pytest.fixture(autouse=True)
def _no_remembered_tokens() -> None:
    """Each test starts without the access tokens an earlier test's client kept in this process."""
    from siyu.wecom.client import forget_remembered_tokens

    forget_remembered_tokens()


# --- the browser (Debian's Chromium through Playwright), shared by every browser test --------------

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One Chromium for the whole run (Playwright's sync API allows one running instance)."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("Debian's chromium is required in CI (apt-get install chromium)")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    # Playwright's sync API runs an event loop; Django must allow ORM calls beside it in tests.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
