"""The callback endpoint: verification, the inbox, refusals, duplicates, processing."""

import datetime as dt
import time
import urllib.parse

import pytest

from siyu.core.models import AuditEntry, EventRecord
from siyu.core.worker import HeartbeatWorker
from siyu.wecom import services
from siyu.wecom.crypto import CallbackCipher
from siyu.wecom.models import CallbackRejection, InboundEvent, InboundStatus, WeComConnection
from tests.wecom.conftest import AES_KEY, CORP_ID, TOKEN, contact_xml, post_callback, url_check

OFFICIAL_ECHOSTR = "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="


def drain() -> None:
    HeartbeatWorker(interval=0, batch=True).run()


OFFICIAL_SIGNATURE = "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3"
OFFICIAL_TIMESTAMP = "1409659589"  # 2014-09-02: WeCom's sample, signed then


def test_url_verification_answers_the_official_sample_exactly(connected):
    signed_at = dt.datetime.fromtimestamp(int(OFFICIAL_TIMESTAMP), tz=dt.UTC)
    plaintext = services.verify_url("alpha", OFFICIAL_SIGNATURE, OFFICIAL_TIMESTAMP, "263014780", OFFICIAL_ECHOSTR,
                                    "127.0.0.1", now=signed_at + dt.timedelta(seconds=2))
    assert plaintext == "1616140317555161061"


def test_url_verification_answers_the_plaintext_as_the_whole_body(connected, client):
    response = client.get(f"/wecom/callback/alpha/?{urllib.parse.urlencode(url_check(b'1616140317555161061'))}")
    assert response.status_code == 200
    assert response.content == b"1616140317555161061"


@pytest.mark.parametrize("timestamp", [OFFICIAL_TIMESTAMP, str(int(time.time()) - 30 * 86400)])
def test_a_url_verification_signed_long_ago_is_refused_and_logged(connected, client, timestamp):
    query = url_check(b"1616140317555161061", timestamp)
    if timestamp == OFFICIAL_TIMESTAMP:  # WeCom's own sample, replayed years later
        query = {"msg_signature": OFFICIAL_SIGNATURE, "timestamp": timestamp, "nonce": "263014780",
                 "echostr": OFFICIAL_ECHOSTR}
    response = client.get(f"/wecom/callback/alpha/?{urllib.parse.urlencode(query)}")
    assert (response.status_code, response.content) == (400, b"stale_timestamp")
    assert b"1616140317555161061" not in response.content
    assert CallbackRejection.objects.for_workspace(connected.workspace).get().reason == "stale_timestamp"


def test_url_verification_with_a_bad_signature_is_refused_and_logged(connected, client):
    query = {**url_check(b"1616140317555161061"), "msg_signature": "0" * 40}
    assert client.get(f"/wecom/callback/alpha/?{urllib.parse.urlencode(query)}").status_code == 400
    assert CallbackRejection.objects.for_workspace(connected.workspace).get().reason == "bad_signature"


def test_secrets_are_encrypted_at_rest(connected):
    row = WeComConnection.objects.for_workspace(connected.workspace).get()
    assert "app-secret" not in row.secret_encrypted and AES_KEY not in row.aes_key_encrypted
    assert TOKEN not in row.token_encrypted
    assert (row.secret, row.token, row.aes_key) == ("app-secret", TOKEN, AES_KEY)
    assert AuditEntry.objects.for_workspace(connected.workspace).filter(action="settings_changed").exists()


def test_an_event_is_stored_acknowledged_and_processed_into_a_typed_event(transactional_db, connected, client):
    response = post_callback(client, contact_xml(State="ch_store_01", WelcomeCode="WELCOME1"))
    assert response.status_code == 200 and response.content == b""
    assert services.inbox_backlog(connected.workspace)[0] == 1
    drain()
    stored = InboundEvent.objects.for_workspace(connected.workspace).get()
    assert stored.kind == "change_external_contact/add_external_contact"
    assert stored.status == InboundStatus.PROCESSED
    assert services.inbox_backlog(connected.workspace) == (0, None)
    record = EventRecord.objects.for_workspace(connected.workspace).get(name="wecom.friend_added")
    assert record.payload["state"] == "ch_store_01"
    assert record.payload["welcome_code"] == "WELCOME1"
    assert record.payload["staff_userid"] == "zhangsan"


def test_a_duplicate_delivery_is_acknowledged_and_has_no_second_effect(transactional_db, connected, client):
    xml = contact_xml(State="s1")
    for _ in range(3):
        assert post_callback(client, xml).status_code == 200
    drain()
    stored = InboundEvent.objects.for_workspace(connected.workspace).get()
    assert stored.deliveries == 3
    assert EventRecord.objects.for_workspace(connected.workspace).filter(name="wecom.friend_added").count() == 1


def test_out_of_order_deliveries_are_each_processed_once(transactional_db, connected, client):
    add = contact_xml("add_external_contact", created=1700000000)
    delete = contact_xml("del_follow_user", created=1700000050)
    for xml in [delete, add, delete, add]:
        post_callback(client, xml)
    drain()
    names = sorted(EventRecord.objects.for_workspace(connected.workspace).filter(name__startswith="wecom.").values_list("name", flat=True))
    assert names == ["wecom.customer_deleted_staff", "wecom.friend_added"]


def test_reprocessing_a_processed_event_publishes_nothing_new(transactional_db, connected, client):
    from tests.conftest import seat

    post_callback(client, contact_xml())
    drain()
    stored = InboundEvent.objects.for_workspace(connected.workspace).get()
    services.reprocess(connected.workspace, seat(connected.admin, connected.workspace), stored.pk)
    drain()
    assert EventRecord.objects.for_workspace(connected.workspace).filter(name="wecom.friend_added").count() == 1


def test_an_unknown_event_kind_is_kept_and_shown(transactional_db, connected, client, login):
    xml = (f"<xml><ToUserName>{CORP_ID}</ToUserName><FromUserName>sys</FromUserName><CreateTime>1700000000</CreateTime>"
           "<MsgType>event</MsgType><Event>change_contact</Event><ChangeType>update_user</ChangeType>"
           "<UserID>lisi</UserID></xml>").encode()
    assert post_callback(client, xml).status_code == 200
    drain()
    stored = InboundEvent.objects.for_workspace(connected.workspace).get()
    assert (stored.kind, stored.status) == ("change_contact/update_user", InboundStatus.UNKNOWN)
    html = login(connected.admin).get("/wecom/events/?status=unknown").content.decode()
    assert "change_contact/update_user" in html


@pytest.mark.parametrize(("tamper", "status", "reason"), [
    ("signature", 400, "bad_signature"),
    ("receive_id", 400, "wrong_receive_id"),
    ("token", 400, "bad_signature"),
    ("timestamp", 400, "stale_timestamp"),
])
def test_forged_callbacks_are_refused_with_a_reason(connected, client, tamper, status, reason):
    xml = contact_xml()
    if tamper == "signature":
        response = client.post(f"/wecom/callback/alpha/?msg_signature=abc&timestamp={int(time.time())}&nonce=1",
                               CallbackCipher(TOKEN, AES_KEY, CORP_ID).encrypt_event(xml, "1", "1", "1")[1],
                               content_type="text/xml")
    elif tamper == "receive_id":
        response = post_callback(client, xml, receive_id="wwSomeoneElse")
    elif tamper == "token":
        response = post_callback(client, xml, token="OtherToken1")
    else:
        response = post_callback(client, xml, timestamp=str(int(time.time()) - 3 * 86400))
    assert response.status_code == status
    assert response.content.decode() == reason
    assert not InboundEvent.objects.for_workspace(connected.workspace).exists()
    assert CallbackRejection.objects.for_workspace(connected.workspace).get().reason == reason


def test_unknown_workspace_is_refused(db, client):
    assert post_callback(client, contact_xml(), slug="nobody").status_code == 404


@pytest.mark.parametrize("body", [
    b"not xml at all",
    b"<xml><Encrypt>",
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><xml><Encrypt>&lol2;</Encrypt></xml>',
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><Encrypt>&xxe;</Encrypt></xml>',
    b"<xml><ToUserName>x</ToUserName></xml>",
])
def test_malformed_or_hostile_envelopes_are_refused(connected, client, body):
    response = client.post(f"/wecom/callback/alpha/?msg_signature=x&timestamp={int(time.time())}&nonce=1", body,
                           content_type="text/xml")
    assert response.status_code == 400
    assert not InboundEvent.objects.for_workspace(connected.workspace).exists()


def test_an_oversized_body_is_refused(connected, client):
    body = b"<xml><Encrypt>" + b"A" * (services.MAX_CALLBACK_BYTES + 10) + b"</Encrypt></xml>"
    response = client.post(f"/wecom/callback/alpha/?msg_signature=x&timestamp={int(time.time())}&nonce=1", body,
                           content_type="text/xml")
    assert response.status_code == 413


def test_a_decrypted_event_that_is_not_a_callback_is_refused(connected, client):
    assert post_callback(client, b"<notxml>hello</notxml>").status_code == 400
    assert post_callback(client, b"plain text inside").status_code == 400


def test_a_known_kind_with_missing_fields_fails_visibly(transactional_db, connected, client):
    xml = contact_xml(external="")
    assert post_callback(client, xml).status_code == 200
    drain()
    stored = InboundEvent.objects.for_workspace(connected.workspace).get()
    assert stored.status == InboundStatus.FAILED
    assert "ExternalUserID" in stored.error


def test_callbacks_of_one_brand_are_not_visible_to_another(transactional_db, connected, brand_b, client, login):
    post_callback(client, contact_xml(State="alpha-only"))
    drain()
    html = login(brand_b.admin).get("/wecom/events/").content.decode()
    assert "change_external_contact" not in html
    alpha_event = InboundEvent.objects.for_workspace(connected.workspace).get()
    assert login(brand_b.admin).post(f"/wecom/events/{alpha_event.pk}/reprocess/").status_code == 404
    assert login(brand_b.admin).get(f"/wecom/events/?id={alpha_event.pk}").content.decode().count("alpha-only") == 0


def test_a_worker_killed_between_storing_and_processing_leaves_the_event_processed_once(
    transactional_db, connected, client
):
    from django_tasks_db.models import DBTaskResult

    from siyu.core.tasks import requeue_orphaned_tasks

    post_callback(client, contact_xml())
    # A worker claimed the processing task and died (no heartbeat) before finishing it.
    DBTaskResult.objects.filter(task_path="siyu.wecom.tasks.drain_inbox").update(
        status="RUNNING", worker_ids=["dead-worker"]
    )
    drain()
    assert services.inbox_backlog(connected.workspace)[0] == 1
    assert requeue_orphaned_tasks() == 1
    drain()
    drain()
    assert InboundEvent.objects.for_workspace(connected.workspace).get().status == InboundStatus.PROCESSED
    assert EventRecord.objects.for_workspace(connected.workspace).filter(name="wecom.friend_added").count() == 1


def test_a_callback_whose_enqueue_was_lost_is_found_by_the_inbox_sweep(transactional_db, connected, client, monkeypatch):
    import datetime as dt

    from django.utils import timezone

    monkeypatch.setattr(services, "schedule_drain", lambda: None)
    monkeypatch.setattr(services, "wake_drain", lambda: None)
    post_callback(client, contact_xml())
    monkeypatch.undo()
    assert services.requeue_unprocessed() == 0
    assert services.requeue_unprocessed(timezone.now() + dt.timedelta(minutes=5)) == 1
    drain()
    assert InboundEvent.objects.for_workspace(connected.workspace).get().status == InboundStatus.PROCESSED


def test_a_repeat_delivery_schedules_the_drain_its_first_delivery_could_not(transactional_db, connected, client, monkeypatch):
    from django_tasks_db.models import DBTaskResult

    def fail():
        raise RuntimeError("queue unavailable")

    monkeypatch.setattr(services, "_enqueue_drain", fail)
    xml = contact_xml(State="s1")
    with pytest.raises(RuntimeError):
        post_callback(client, xml)  # stored, but no drain was enqueued: WeCom sees a 500 and repeats
    assert not DBTaskResult.objects.filter(task_path=services.DRAIN_TASK).exists()
    monkeypatch.undo()
    monkeypatch.setattr(services, "_next_drain", 0.0)
    assert post_callback(client, xml).status_code == 200
    assert DBTaskResult.objects.filter(task_path=services.DRAIN_TASK, status="READY").exists()
    drain()
    assert EventRecord.objects.for_workspace(connected.workspace).filter(name="wecom.friend_added").count() == 1
