import time
import urllib.parse
from collections.abc import Iterator

import pytest
from django.core.cache import cache

from siyu.wecom import services
from siyu.wecom.client import ClientOptions, WeComClient
from siyu.wecom.crypto import CallbackCipher, signature
from tests.conftest import seat
from tests.simulator.twin import RunningTwin, running_twin, twin_config
from tests.wecom.client_support import BACKOFF, Sleeps, connect

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
                  receive_id: str = CORP_ID, aes_key: str = AES_KEY):
    cipher = CallbackCipher(token, aes_key, receive_id)
    timestamp = timestamp or str(int(time.time()))
    signature, body = cipher.encrypt_event(inner, timestamp, "263014780", "1000002")
    query = urllib.parse.urlencode({"msg_signature": signature, "timestamp": timestamp, "nonce": "263014780"})
    return client.post(f"/wecom/callback/{slug}/?{query}", body, content_type="text/xml")


def url_check(echo: bytes, timestamp: str | None = None, token: str = TOKEN, aes_key: str = AES_KEY,
              nonce: str = "263014780") -> dict[str, str]:
    """The query of WeCom's URL check (WECOM.md §2) for `echo`, signed at `timestamp` (now by default)."""
    timestamp = timestamp or str(int(time.time()))
    echostr = CallbackCipher(token, aes_key, CORP_ID).encrypt(echo)
    return {"msg_signature": signature(token, timestamp, nonce, echostr), "timestamp": timestamp, "nonce": nonce,
            "echostr": echostr}


@pytest.fixture(autouse=True)
def _fresh_connection_cache():
    # Brands are recreated per test with the same short names; the web-process cache must not
    # carry one test's connection into the next.
    services.forget_cached_connections()
    services.forget_recent_rejections()
    yield
    services.forget_cached_connections()
    services.forget_recent_rejections()


# --- the API client against a twin (test_client*.py) -------------------------------------------


@pytest.fixture
def local_cache(settings) -> Iterator[None]:
    """Token caching in process memory (the database cache is not what these tests are about)."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_twin() -> Iterator[RunningTwin]:
    with running_twin(twin_config()) as twin:
        twin.add_staff("zhangsan")
        twin.add_staff("lisi")
        yield twin


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def api_client(db, local_cache, api_twin, sleeps) -> Iterator[WeComClient]:
    options = ClientOptions(limit_backoff_seconds=BACKOFF, sleep=sleeps, timeout_seconds=5)
    with WeComClient(connect(api_twin.api_base), options=options) as client:
        yield client
