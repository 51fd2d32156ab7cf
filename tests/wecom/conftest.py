import time
import urllib.parse

import pytest

from siyu.wecom import services
from siyu.wecom.crypto import CallbackCipher
from tests.conftest import seat

TOKEN = "QDG6eK"
CORP_ID = "wx5823bf96d3bd56c7"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"


@pytest.fixture
def connected(brand_a):
    """Brand alpha connected with WeCom's official sample settings."""
    services.configure(
        brand_a.workspace, seat(brand_a.admin, brand_a.workspace),
        corp_id=CORP_ID, agent_id="1000002", secret="app-secret", token=TOKEN, aes_key=AES_KEY,
        api_base="http://127.0.0.1:9/cgi-bin/",
    )
    return brand_a


def contact_xml(change: str = "add_external_contact", user: str = "zhangsan", external: str = "wmEXT01",
                created: int = 1700000000, **extra: str) -> bytes:
    fields = "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in extra.items())
    return (
        f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>"
        f"<CreateTime>{created}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        f"<Event><![CDATA[change_external_contact]]></Event><ChangeType><![CDATA[{change}]]></ChangeType>"
        f"<UserID><![CDATA[{user}]]></UserID><ExternalUserID><![CDATA[{external}]]></ExternalUserID>{fields}</xml>"
    ).encode()


def post_callback(client, inner: bytes, slug: str = "alpha", timestamp: str | None = None, token: str = TOKEN,
                  receive_id: str = CORP_ID):
    cipher = CallbackCipher(token, AES_KEY, receive_id)
    timestamp = timestamp or str(int(time.time()))
    signature, body = cipher.encrypt_event(inner, timestamp, "263014780", "1000002")
    query = urllib.parse.urlencode({"msg_signature": signature, "timestamp": timestamp, "nonce": "263014780"})
    return client.post(f"/wecom/callback/{slug}/?{query}", body, content_type="text/xml")


@pytest.fixture(autouse=True)
def _fresh_connection_cache():
    # Brands are recreated per test with the same short names; the web-process cache must not
    # carry one test's connection into the next.
    services.forget_cached_connections()
    yield
    services.forget_cached_connections()
