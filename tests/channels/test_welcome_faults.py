"""Faults the welcome lane survives, each against the real twin (its fault knob, `simulator/faults.py`):

- WeCom answers 45009 (rate limit) to every send: each add is recorded missed, naming 45009,
  after the client's one back-off retry, and settled inside its 20 s window;
- WeCom answers later than the call timeout: missed with "No answer from WeCom", never retried;
- a worker killed mid-send (the message reached WeCom, the answer did not reach us): the task is
  re-queued and run again by another worker, and still nothing is sent twice; the sweep settles
  the record as missed, saying the customer may or may not have received it;
- the database restarts mid-burst (PostgreSQL): callbacks refused meanwhile get 5xx, every
  callback answered 200 is processed once, and web and worker carry on by themselves.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone, translation

from siyu.channels.models import WelcomeStatus
from siyu.channels.services import welcome
from siyu.channels.timeline import ChannelTimeline
from siyu.core import events
from siyu.core.models import EventRecord, RunStatus, SubscriberRun, WorkerHeartbeat
from siyu.core.tasks import requeue_orphaned_tasks
from siyu.customers.models import FollowRelation, TimelineEntry
from siyu.wecom.events import FriendAdded
from siyu.wecom.models import ApiCall
from tests.channels.conftest import drain, make_code, publish_add, scan_and_add, welcome_of
from tests.conftest import REPO, free_port, siyu_process, wait_for

WELCOME_API = "externalcontact/send_welcome_msg"
LANE = "siyu.channels.subscribers.welcome_friend_added"


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """The notes are read in English; the console's default is Chinese."""
    with translation.override("en"):
        yield


def set_fault(twin: Any, **fault: Any) -> None:
    response = twin.admin.post("/twin/faults", json={"api": WELCOME_API, **fault})
    assert response.status_code == 201, response.text


def calls_received(twin: Any) -> int:
    """Calls to send_welcome_msg that reached the twin, faulted or not."""
    return twin.state()["faults"]["received"].get(WELCOME_API, 0)


def welcomes_to(twin: Any, external_userid: str) -> list[dict[str, Any]]:
    return [m for m in twin.state()["messages"] if m["kind"] == "welcome" and m["external_userid"] == external_userid]


def publish_burst(workspace: Any, adds: list[tuple[dict[str, Any], dt.datetime]]) -> None:
    """The adds as one inbox drain publishes them: one batch, so the lane gets them in one task
    and sends them side by side."""
    publications = []
    for added, at in adds:
        at = at.replace(microsecond=0)  # WeCom's CreateTime has whole seconds
        event = FriendAdded(occurred_at=at, staff_userid=added["userid"], external_userid=added["external_userid"],
                            state=added["state"], welcome_code=added["welcome_code"])
        publications.append(events.Publication(event, f"test:burst:{added['external_userid']}", at))
    events.publish_many(workspace, publications)


def relation_of(workspace: Any, added: dict[str, Any]) -> FollowRelation:
    return FollowRelation.objects.for_workspace(workspace).select_related("customer").get(
        customer__external_userid=added["external_userid"], account__userid=added["userid"])


def settled_after_add(workspace: Any, relation: FollowRelation) -> dt.timedelta:
    """How long after its add the welcome was settled: its timeline entry is written with the outcome."""
    entry = TimelineEntry.objects.for_workspace(workspace).get(
        customer=relation.customer, kind=ChannelTimeline.WELCOME_MISSED)
    return entry.at - relation.added_at


# --- WeCom refuses or does not answer (the lane in this process) ---------------------------------

def test_a_burst_answered_45009_is_missed_after_one_backoff_and_settled_inside_the_window(live_shop):
    workspace, twin = live_shop.workspace, live_shop.twin
    make_code(workspace, welcome_text="欢迎！")
    set_fault(twin, errcode=45009, errmsg="api freq out of limit")  # every call, until cleared
    now = timezone.now()
    fresh = [scan_and_add(twin, f"xiaowanzi0{1 + i % 3}", "chwelcome01", name=f"客{i}") for i in range(5)]
    # One add reaches the lane 15 s into its window: the lane must cap the client's back-off (a
    # quarter of the time left), or the retry would land after WeCom stopped taking the code.
    late = scan_and_add(twin, "xiaowanzi02", "chwelcome01", name="晚到")
    publish_burst(workspace, [(added, now) for added in fresh] + [(late, now - dt.timedelta(seconds=15))])
    started = time.monotonic()
    drain()

    for added in [*fresh, late]:
        relation = relation_of(workspace, added)
        record = welcome_of(relation)
        assert record.status == WelcomeStatus.MISSED, record.note
        assert "45009" in record.note and "refused" in record.note
        assert settled_after_add(workspace, relation) < welcome.WELCOME_WINDOW, added
    assert time.monotonic() - started < 10  # the sends went side by side, not one after another
    # Each add: the first call, one back-off, one retry (ApiCall attempts 1 and 2), then no more.
    calls = ApiCall.objects.for_workspace(workspace).filter(endpoint=WELCOME_API)
    assert sorted(calls.values_list("attempt", flat=True)) == [1] * 6 + [2] * 6
    assert calls_received(twin) == 12
    assert [m for m in twin.state()["messages"] if m["kind"] == "welcome"] == []
    lane = SubscriberRun.objects.for_workspace(workspace).filter(subscriber=LANE)
    assert {(run.status, run.attempts) for run in lane} == {(RunStatus.DONE, 1)}  # not retried by the bus


def test_no_answer_within_the_call_timeout_is_missed_and_never_retried(live_shop, monkeypatch):
    workspace, twin = live_shop.workspace, live_shop.twin
    monkeypatch.setattr(welcome, "CALL_TIMEOUT_SECONDS", 1.0)  # the lane's shortest wait (1 s)
    make_code(workspace, welcome_text="欢迎！")
    # WeCom delivers the message, then answers too late: the lane cannot know it was delivered.
    set_fault(twin, delay_seconds=2.5, after_effect=True)
    adds = [scan_and_add(twin, f"xiaowanzi0{1 + i}", "chwelcome01", name=f"客{i}") for i in range(3)]
    publish_burst(workspace, [(added, timezone.now()) for added in adds])
    drain()

    for added in adds:
        relation = relation_of(workspace, added)
        record = welcome_of(relation)
        assert record.status == WelcomeStatus.MISSED, record.note
        assert "No answer from WeCom" in record.note and "not retried" in record.note
        assert settled_after_add(workspace, relation) < welcome.WELCOME_WINDOW
    assert calls_received(twin) == len(adds)  # one call per add: no retry after a timeout
    assert ApiCall.objects.for_workspace(workspace).filter(endpoint=WELCOME_API, attempt=2).count() == 0
    wait_for(lambda: all(welcomes_to(twin, a["external_userid"]) for a in adds), timeout=10)
    assert calls_received(twin) == len(adds)


# --- real processes ----------------------------------------------------------------------------

@pytest.fixture
def cache_table(transactional_db: None) -> None:
    """`siyu worker` subprocesses keep WeCom's access token in the database cache (settings.CACHES),
    whose table `siyu setup` makes; the test database needs it too."""
    call_command("createcachetable", verbosity=0)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.mark.slow
def test_a_worker_killed_mid_send_sends_nothing_twice(live_shop, process_env, cache_table, settings, tmp_path):
    workspace, twin = live_shop.workspace, live_shop.twin
    settings.SIYU = {**settings.SIYU, "WORKER_DEAD_AFTER_SECONDS": 3}  # for this process's sweep
    env = {**process_env, "SIYU_WORKER_HEARTBEAT_SECONDS": "1"}
    make_code(workspace, welcome_text="欢迎！")
    # The message reaches WeCom; its answer is held back long enough to kill the worker waiting for it.
    set_fault(twin, delay_seconds=6, after_effect=True, times=1)
    first = siyu_process(["worker", "--interval", "0.1"], env, tmp_path / "worker1.log")
    second = None
    try:
        wait_for(lambda: WorkerHeartbeat.objects.exists(), timeout=60)  # started, so the add is fresh
        added = scan_and_add(twin, "xiaowanzi01", "chwelcome01")
        publish_add(workspace, added)
        wait_for(lambda: welcomes_to(twin, added["external_userid"]), timeout=20)
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        relation = relation_of(workspace, added)
        assert welcome_of(relation).status == WelcomeStatus.SENDING  # the answer was never recorded

        second = siyu_process(["worker", "--interval", "0.1"], env, tmp_path / "worker2.log")
        # The sweep (`core.sweep`) re-queues the dead worker's lane task once its heartbeat is stale.
        wait_for(lambda: requeue_orphaned_tasks() >= 1, timeout=20, interval=0.5)
        lane = SubscriberRun.objects.for_workspace(workspace).filter(subscriber=LANE)
        wait_for(lambda: lane.get().status == RunStatus.DONE, timeout=60)
        run = lane.get()
        # It ran again, on the new worker, while the add could still be welcomed: only the claim
        # kept it from calling WeCom a second time.
        assert run.attempts == 2
        assert run.finished_at - relation.added_at < welcome.WELCOME_WINDOW
    except AssertionError as exc:
        logs = "".join(f"\n--- {p.name}\n{p.read_text()[-3000:]}" for p in sorted(tmp_path.glob("worker*.log")))
        raise AssertionError(f"{exc}{logs}") from exc
    finally:
        stop(first)
        if second is not None:
            stop(second)

    assert len(welcomes_to(twin, added["external_userid"])) == 1
    assert calls_received(twin) == 1
    assert welcome_of(relation).status == WelcomeStatus.SENDING
    later = relation.added_at + welcome.STUCK_AFTER + dt.timedelta(seconds=1)
    assert welcome.sweep_stuck_welcomes(workspace, now=later) == 1
    record = welcome_of(relation)
    assert record.status == WelcomeStatus.MISSED
    assert "may or may not have received it" in record.note


# --- the database restarts mid-burst (PostgreSQL) -------------------------------------------------

@dataclass
class Delivery:
    """One callback as WeCom sends it, and what the platform answered."""

    index: int
    url: str
    body: bytes
    started: float = 0.0
    finished: float = 0.0
    status: int | None = None  # None: no answer at all

    def send(self, http: httpx.Client) -> None:
        self.started = time.monotonic()
        try:
            self.status = http.post(self.url, content=self.body, headers={"Content-Type": "text/xml"}).status_code
        except httpx.HTTPError:
            self.status = None
        self.finished = time.monotonic()


def friend_add_callback(base_url: str, index: int) -> Delivery:
    from siyu.wecom.crypto import CallbackCipher
    from tests.wecom.conftest import AES_KEY, CORP_ID, TOKEN, contact_xml

    timestamp = str(int(time.time()))
    inner = contact_xml(user="xiaowanzi01", external=external_of(index), created=int(timestamp),
                        State="chdbrestart", WelcomeCode=f"code{index:04d}")
    signature, body = CallbackCipher(TOKEN, AES_KEY, CORP_ID).encrypt_event(inner, timestamp, f"n{index}", "1000002")
    return Delivery(index, f"{base_url}/wecom/callback/alpha/?msg_signature={signature}&timestamp={timestamp}"
                           f"&nonce=n{index}", body)


def external_of(index: int) -> str:
    return f"wmDBRESTART{index:04d}"


class Burst(threading.Thread):
    """Posts friend-add callbacks to the web, one every `pause` seconds, until stopped."""

    def __init__(self, base_url: str, pause: float = 0.05) -> None:
        super().__init__(name="callback-burst", daemon=True)
        self.base_url, self.pause = base_url, pause
        self.sent: list[Delivery] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        with httpx.Client(timeout=5) as http:  # WECOM.md §2: WeCom waits 5 s for an answer
            while not self.stopping.is_set():
                delivery = friend_add_callback(self.base_url, len(self.sent))
                delivery.send(http)
                self.sent.append(delivery)
                time.sleep(self.pause)


def web_process(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    """The web as `siyu run` starts it: gunicorn serving `siyu.wsgi` (callbacks take the lean path)."""
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "siyu.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", "1", "--threads", "4", "--graceful-timeout", "5"],
        env={**os.environ, "PYTHONPATH": str(REPO), **env}, stdout=log.open("wb"), stderr=subprocess.STDOUT, cwd=REPO,
    )


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


class DatabaseRestart:
    """What a restart of PostgreSQL does to the test database, from a separate connection to the
    `postgres` database: no new connections, every backend but this process's own ended."""

    def __init__(self) -> None:
        import psycopg

        s = connection.settings_dict
        self.name = s["NAME"]
        self.admin = psycopg.connect(host=s["HOST"] or "127.0.0.1", port=s["PORT"] or 5432, user=s["USER"],
                                     password=s["PASSWORD"] or None, dbname="postgres", autocommit=True)
        with connection.cursor() as cursor:  # pytest's own connection survives, for the checks and teardown
            cursor.execute("SELECT pg_backend_pid()")
            self.own_pid = cursor.fetchone()[0]

    def allow_connections(self, allowed: bool) -> None:
        from psycopg import sql

        self.admin.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS {}").format(
            sql.Identifier(self.name), sql.SQL("true" if allowed else "false")))

    def end_other_backends(self) -> int:
        rows = self.admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> %s",
            [self.name, self.own_pid]).fetchall()
        return len(rows)

    def close(self) -> None:
        try:
            self.allow_connections(True)
        finally:
            self.admin.close()


@pytest.mark.slow
@pytest.mark.skipif(django_settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
                    reason="ends the test database's backends from outside, as a PostgreSQL restart does; "
                           "SQLite has no server to restart")
def test_the_database_restarting_mid_burst_loses_no_acknowledged_callback(brand_a, process_env, cache_table, tmp_path):
    from siyu.core.services import OPERATOR
    from siyu.wecom import services as wecom
    from siyu.wecom.models import InboundEvent, InboundStatus
    from tests.wecom.conftest import AES_KEY, CORP_ID, TOKEN

    workspace = brand_a.workspace
    # WeCom's API is out of reach (nothing listens on port 9): this test is about callbacks.
    wecom.configure(workspace, OPERATOR, corp_id=CORP_ID, agent_id="1000002", secret="app-secret", token=TOKEN,
                    aes_key=AES_KEY, api_base="http://127.0.0.1:9/cgi-bin/")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {**process_env, "SIYU_WORKER_HEARTBEAT_SECONDS": "1"}
    web = web_process(env, port, tmp_path / "web.log")
    worker = siyu_process(["worker", "--interval", "0.1"], env, tmp_path / "worker.log")
    restart = DatabaseRestart()
    burst = Burst(base_url)
    stored = InboundEvent.objects.for_workspace(workspace)
    try:
        wait_for(lambda: answers(f"{base_url}/healthz"), timeout=60)
        wait_for(lambda: WorkerHeartbeat.objects.exists(), timeout=60)
        burst.start()
        wait_for(lambda: stored.filter(status=InboundStatus.PROCESSED).count() >= 10, timeout=30)

        restart.allow_connections(False)
        ended = restart.end_other_backends()
        cut = time.monotonic()
        time.sleep(2)
        restart.allow_connections(True)
        back = time.monotonic()
        time.sleep(2)  # the burst goes on after the restart
        burst.stopping.set()
        burst.join(timeout=10)

        assert ended >= 2  # at least the web's and the worker's connections
        during = [d for d in burst.sent if d.started > cut and d.finished < back]
        assert during, "no callback was sent while the database was down"
        assert all(d.status is not None and d.status >= 500 for d in during), [d.status for d in during]
        after = [d for d in burst.sent if d.started > back + 0.5]
        assert after and all(d.status == 200 for d in after), [d.status for d in after]
        # WeCom retries what was not answered 200 (WECOM.md §2); a callback stored before its
        # error answer is only counted once more.
        refused = [d for d in burst.sent if d.status != 200]
        with httpx.Client(timeout=5) as http:
            for delivery in refused:
                delivery.send(http)
        assert all(d.status == 200 for d in refused), [d.status for d in refused]

        # Every callback is processed into exactly one domain event, by the same worker and web.
        externals = {external_of(d.index) for d in burst.sent}
        processed = stored.filter(status=InboundStatus.PROCESSED)
        wait_for(lambda: worker.poll() is not None or processed.count() == len(externals), timeout=90, interval=0.5)
        assert processed.count() == len(externals)
        assert stored.count() == len(externals)
        added = EventRecord.objects.for_workspace(workspace).filter(name="wecom.friend_added")
        assert sorted(added.values_list("payload__external_userid", flat=True)) == sorted(externals)
        lane = SubscriberRun.objects.for_workspace(workspace).filter(subscriber=LANE)
        wait_for(lambda: lane.count() == len(externals) and not lane.exclude(status=RunStatus.DONE).exists(),
                 timeout=60, interval=0.5)
        assert worker.poll() is None and web.poll() is None  # nobody restarted them
    except AssertionError as exc:
        logs = "".join(f"\n--- {p.name}\n{p.read_text()[-4000:]}" for p in sorted(tmp_path.glob("*.log")))
        raise AssertionError(f"{exc}\nworker exit {worker.poll()}, web exit {web.poll()}{logs}") from exc
    finally:
        burst.stopping.set()
        restart.close()
        stop(worker)
        stop(web)
