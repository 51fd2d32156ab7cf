"""The callback spool on SQLite (`siyu.wecom.spool`): callbacks wait there until the drain moves
them into the inbox; repeats, crashes, the sweep, a full main database, a failing spool."""

import datetime as dt
import io
import sqlite3
import time
import urllib.parse

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from siyu.core.models import EventRecord
from siyu.wecom import services, spool
from siyu.wecom.crypto import CallbackCipher
from siyu.wecom.models import InboundEvent, InboundStatus
from siyu.wsgi import application
from tests.conftest import wait_for
from tests.wecom.conftest import AES_KEY, CORP_ID, TOKEN, contact_xml, post_callback

on_sqlite = pytest.mark.skipif(connection.vendor != "sqlite", reason="the spool is for SQLite only")


def receive(xml: bytes) -> services.Accepted:
    timestamp = str(int(time.time()))
    signature, body = CallbackCipher(TOKEN, AES_KEY, CORP_ID).encrypt_event(xml, timestamp, "n1", "1000002")
    return services.receive_callback("alpha", signature, timestamp, "n1", body, "127.0.0.1")


def published(workspace) -> int:
    return EventRecord.objects.for_workspace(workspace).filter(name="wecom.friend_added").count()


@on_sqlite
def test_a_callback_waits_in_the_spool_until_the_drain_moves_and_processes_it(transactional_db, connected):
    accepted = receive(contact_xml(State="s1"))
    assert accepted.spooled and not accepted.duplicate
    assert not InboundEvent.objects.for_workspace(connected.workspace).exists()
    count, oldest = services.inbox_backlog(connected.workspace)
    assert count == 1 and oldest is not None and abs(timezone.now() - oldest) < dt.timedelta(minutes=1)

    assert services.drain() == 1
    stored = InboundEvent.objects.for_workspace(connected.workspace).get()
    assert (stored.status, stored.deliveries, stored.parsed["State"]) == (InboundStatus.PROCESSED, 1, "s1")
    assert abs(stored.received_at - oldest) < dt.timedelta(seconds=1)
    assert published(connected.workspace) == 1
    assert services.inbox_backlog(connected.workspace) == (0, None)


@on_sqlite
def test_repeats_count_deliveries_in_the_spool_and_after_it_and_publish_once(transactional_db, connected):
    xml = contact_xml()
    assert [receive(xml).duplicate for _ in range(3)] == [False, True, True]
    services.drain()
    assert receive(xml).duplicate is False  # the spool's first copy; the inbox adds it up
    services.drain()
    assert InboundEvent.objects.for_workspace(connected.workspace).get().deliveries == 4
    assert published(connected.workspace) == 1


@on_sqlite
def test_a_repeat_that_arrives_while_its_batch_is_moved_is_counted(transactional_db, connected, monkeypatch):
    xml = contact_xml()
    receive(xml)
    upsert = spool._upsert_into_inbox

    def repeat_meanwhile(rows):
        monkeypatch.undo()
        assert receive(xml).duplicate  # still in the spool, claimed
        return upsert(rows)

    monkeypatch.setattr(spool, "_upsert_into_inbox", repeat_meanwhile)
    services.drain()
    # The repeat went back into the spool as a delivery of its own, which the next drain adds.
    assert spool.backlog(connected.workspace.pk)[0] == 1
    services.drain()
    assert InboundEvent.objects.for_workspace(connected.workspace).get().deliveries == 2
    assert services.inbox_backlog(connected.workspace) == (0, None)
    assert published(connected.workspace) == 1


@on_sqlite
def test_a_crash_between_moving_and_deleting_publishes_nothing_twice(transactional_db, connected, monkeypatch):
    receive(contact_xml(external="wmA"))
    receive(contact_xml(external="wmB"))
    # The worker commits the move into the inbox and dies before deleting the batch from the spool.
    monkeypatch.setattr(spool, "_release", lambda *args: None)
    assert spool.move() == 2
    monkeypatch.undo()
    services.drain()
    assert published(connected.workspace) == 2
    assert spool.backlog(connected.workspace.pk)[0] == 2  # claimed by the dead worker until the lease ends

    db = sqlite3.connect(spool.path(), isolation_level=None)  # the dead worker's lease ends
    db.execute("UPDATE spooled_callback SET claimed_until = ?", (time.time() - 1,))
    db.close()
    services.drain()
    stored = InboundEvent.objects.for_workspace(connected.workspace)
    assert {(e.status, e.deliveries) for e in stored} == {(InboundStatus.PROCESSED, 2)}  # over-counted, harmless
    assert published(connected.workspace) == 2
    assert services.inbox_backlog(connected.workspace) == (0, None)


@on_sqlite
def test_a_move_that_fails_frees_its_batch_at_once(transactional_db, connected, monkeypatch):
    receive(contact_xml())

    def fail(rows):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(spool, "_upsert_into_inbox", fail)
    with pytest.raises(sqlite3.OperationalError):
        services.drain()
    monkeypatch.undo()
    assert services.drain() == 1
    assert InboundEvent.objects.for_workspace(connected.workspace).get().deliveries == 1


@on_sqlite
def test_callbacks_of_a_brand_deleted_meanwhile_are_dropped_when_moved(transactional_db, connected):
    receive(contact_xml())
    connected.workspace.delete()
    assert services.drain() == 0
    assert spool.waiting() == 0


@on_sqlite
def test_the_sweep_finds_spooled_callbacks_whose_drain_task_was_lost(transactional_db, connected, client, monkeypatch):
    monkeypatch.setattr(services, "wake_drain", lambda: None)
    post_callback(client, contact_xml())
    monkeypatch.undo()
    assert not DBTaskResult.objects.filter(task_path=services.DRAIN_TASK).exists()
    assert services.requeue_unprocessed() == 0  # within the grace period
    assert services.requeue_unprocessed(timezone.now() + dt.timedelta(minutes=5)) == 1
    assert DBTaskResult.objects.filter(task_path=services.DRAIN_TASK, status="READY").count() == 1


@on_sqlite
def test_a_request_does_not_wait_for_the_main_database_to_enqueue_the_drain(transactional_db, connected, client):
    # Another process (the worker) holds the main database's write lock.
    holder = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        assert post_callback(client, contact_xml()).status_code == 200
        assert time.monotonic() - started < 1
        assert not DBTaskResult.objects.filter(task_path=services.DRAIN_TASK).exists()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    # The web process's waker thread enqueues it once the lock is free.
    wait_for(lambda: DBTaskResult.objects.filter(task_path=services.DRAIN_TASK, status="READY").exists(), timeout=10)


@on_sqlite
def test_a_spool_that_cannot_take_a_callback_answers_500(transactional_db, connected, monkeypatch):
    def full(*args):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(spool, "put", full)
    timestamp = str(int(time.time()))
    signature, body = CallbackCipher(TOKEN, AES_KEY, CORP_ID).encrypt_event(contact_xml(), timestamp, "n1", "1")
    captured = {}
    environ = {
        "REQUEST_METHOD": "POST", "PATH_INFO": "/wecom/callback/alpha/", "CONTENT_LENGTH": str(len(body)),
        "QUERY_STRING": urllib.parse.urlencode({"msg_signature": signature, "timestamp": timestamp, "nonce": "n1"}),
        "wsgi.input": io.BytesIO(body), "REMOTE_ADDR": "127.0.0.1",
    }
    b"".join(application(environ, lambda status, headers: captured.update(status=status)))
    assert captured["status"] == "500 Internal Server Error"  # WeCom delivers it again


@pytest.mark.skipif(connection.vendor == "sqlite", reason="PostgreSQL stores callbacks in the inbox directly")
def test_postgresql_stores_callbacks_in_the_inbox_without_a_spool(transactional_db, connected):
    accepted = receive(contact_xml())
    assert not accepted.spooled
    assert InboundEvent.objects.for_workspace(connected.workspace).get().pk == accepted.event_id
    assert not spool.in_use()
    assert services.inbox_backlog(connected.workspace)[0] == 1
