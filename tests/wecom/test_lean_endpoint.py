"""The callback endpoint as served in production: `siyu.wsgi.application` routes WeCom's
deliveries to the lean WSGI app in front of Django. (transactional_db: like a real server, the
endpoint closes database connections that are in an unexpected state between requests.)"""

import io
import time
import urllib.parse

import pytest
from django.db import connection

from siyu.wecom import services
from siyu.wecom.crypto import CallbackCipher
from siyu.wecom.models import InboundEvent
from siyu.wsgi import application
from tests.wecom.conftest import AES_KEY, CORP_ID, TOKEN, contact_xml, url_check


def call(method: str, path: str, query: dict[str, str], body: bytes = b"") -> tuple[str, bytes]:
    captured = {}

    def start_response(status, headers):
        captured["status"] = status

    environ = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": urllib.parse.urlencode(query),
        "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body), "REMOTE_ADDR": "127.0.0.1",
        "SERVER_NAME": "localhost", "SERVER_PORT": "80", "wsgi.url_scheme": "http",
    }
    body = b"".join(application(environ, start_response))
    return captured["status"], body


def test_url_verification_through_the_production_entry_point(transactional_db, connected):
    assert call("GET", "/wecom/callback/alpha/", url_check(b"1616140317555161061")) == ("200 OK", b"1616140317555161061")
    # WeCom's official sample, signed in 2014: a replay now
    status, body = call("GET", "/wecom/callback/alpha/", {
        "msg_signature": "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3", "timestamp": "1409659589", "nonce": "263014780",
        "echostr": "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==",
    })
    assert (status, body) == ("400 Bad Request", b"stale_timestamp")


def test_an_event_and_its_repeat_through_the_production_entry_point(transactional_db, connected):
    timestamp = str(int(time.time()))
    signature, envelope = CallbackCipher(TOKEN, AES_KEY, CORP_ID).encrypt_event(contact_xml(), timestamp, "n1", "1")
    query = {"msg_signature": signature, "timestamp": timestamp, "nonce": "n1"}
    assert call("POST", "/wecom/callback/alpha/", query, envelope) == ("200 OK", b"")
    assert call("POST", "/wecom/callback/alpha/", query, envelope) == ("200 OK", b"")
    services.drain()
    stored = InboundEvent.objects.for_workspace(connected.workspace).get()
    assert stored.deliveries == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL server ends the connection")
def test_a_connection_dropped_between_callbacks_costs_no_delivery(transactional_db, connected):
    import psycopg

    from tests.conftest import database_url_of_test_db

    def post(external: str) -> tuple[str, bytes]:
        timestamp = str(int(time.time()))
        xml = contact_xml(external=external)
        signature, envelope = CallbackCipher(TOKEN, AES_KEY, CORP_ID).encrypt_event(xml, timestamp, "n1", "1")
        return call("POST", "/wecom/callback/alpha/", {"msg_signature": signature, "timestamp": timestamp,
                                                        "nonce": "n1"}, envelope)

    assert post("wmA") == ("200 OK", b"")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        [pid] = cursor.fetchone()
    with psycopg.connect(database_url_of_test_db(), autocommit=True) as other:  # a database restart
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    assert post("wmB") == ("200 OK", b"")
    assert InboundEvent.objects.for_workspace(connected.workspace).count() == 2


def test_refusals_through_the_production_entry_point(transactional_db, connected):
    assert call("POST", "/wecom/callback/alpha/", {"msg_signature": "x", "timestamp": str(int(time.time())),
                                                   "nonce": "1"}, b"<xml/>")[0] == "400 Bad Request"
    assert call("POST", "/wecom/callback/nobody/", {}, b"")[0] == "404 Not Found"
    assert call("PUT", "/wecom/callback/alpha/", {}, b"")[0] == "405 Method Not Allowed"
    assert call("POST", "/wecom/callback/alpha/", {}, b"x" * 70_000)[0] == "413 Payload Too Large"


def test_other_paths_still_reach_django(db, settings):
    settings.ALLOWED_HOSTS = ["localhost"]
    status, body = call("GET", "/login/", {})
    assert status == "200 OK" and b"Siyu" in body
