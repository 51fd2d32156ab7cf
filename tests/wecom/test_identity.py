"""Staff identity on the phone through the connector (`siyu.wecom.identity`, WECOM.md §10),
against the real twin over HTTP: OAuth code to userid, agentConfig signatures the twin accepts,
tickets cached per corp, unionids mapped to customers, brands kept apart."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import time_machine
from django import db

from siyu.core.services import OPERATOR
from siyu.simulator.wechat import openid_of
from siyu.wecom import identity
from siyu.wecom import services as wecom
from siyu.wecom.client import InvalidCode
from siyu.wecom.services import NotConnected
from tests.simulator.twin import (
    RunningTwin,
    connect_brand,
    running_twin,
    tokens_in_memory,
    twin_config,
)

PAGE = "http://127.0.0.1:8000/m/alpha/sidebar/?customer=1"
CALLBACK = "http://127.0.0.1:8000/m/alpha/staff/oauth/"


@pytest.fixture
def twin(settings) -> Iterator[RunningTwin]:
    with tokens_in_memory(settings), running_twin(twin_config()) as twin:
        twin.add_staff("zhangsan")
        twin.admin.post("/twin/customers/add", json={
            "external_userid": "wmHong", "name": "小红", "staff_userid": "zhangsan",
        }).raise_for_status()
        yield twin


@pytest.fixture
def brand(brand_a, twin):
    connect_brand(brand_a.workspace, twin)
    return brand_a.workspace


@contextmanager
def phone_of(authorize_url: str, userid: str) -> Iterator[tuple[httpx.Client, str]]:
    """A phone following the authorize URL as `userid`: the client (with the twin's cookie) and
    the code the redirect carried."""
    with httpx.Client(timeout=10) as client:
        response = client.get(authorize_url.split("#")[0] + f"&twin_userid={userid}")
        assert response.status_code == 302, response.text
        location = urlsplit(response.headers["location"])
        assert f"{location.scheme}://{location.netloc}{location.path}" == CALLBACK
        query = parse_qs(location.query)
        assert query["state"] == ["xyz"]
        yield client, query["code"][0]


def twin_verifies(twin: RunningTwin, client: httpx.Client, config: dict, url: str = PAGE) -> int:
    body = {"url": url} | {k: str(v) for k, v in config.items()}
    return client.post(f"{twin.url}/twin/jssdk/verify", json=body).status_code


def test_the_authorize_url_points_at_the_twin_and_its_code_names_the_member_once(brand, twin):
    url = identity.staff_authorize_url(brand, CALLBACK, "xyz")
    assert url.startswith(f"{twin.url}/connect/oauth2/authorize?") and url.endswith("#wechat_redirect")
    query = parse_qs(urlsplit(url).query)
    assert query["appid"] == [twin_config().corp_id] and query["agentid"] == ["1000002"]
    assert query["scope"] == ["snsapi_base"] and query["redirect_uri"] == [CALLBACK]
    with phone_of(url, "zhangsan") as (_, code):
        assert identity.staff_userid_from_code(brand, code) == "zhangsan"
        with pytest.raises(InvalidCode):
            identity.staff_userid_from_code(brand, code)


def test_real_wecom_sends_phones_to_open_weixin_and_has_no_stand_in(brand_a):
    wecom.configure(brand_a.workspace, OPERATOR, corp_id="wwreal", agent_id="1000005",
                    secret="s", token="Tok3n", aes_key="jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C")
    url = identity.staff_authorize_url(brand_a.workspace, "https://brand.example/cb", "s1")
    assert url.startswith("https://open.weixin.qq.com/connect/oauth2/authorize?appid=wwreal&")
    assert url.endswith("#wechat_redirect")
    assert identity.jssdk_script_url(brand_a.workspace) is None
    assert identity.twin_origin(brand_a.workspace) is None


def test_the_twin_serves_the_stand_in_for_a_twin_connection(brand, twin):
    assert identity.twin_origin(brand) == twin.url
    script = identity.jssdk_script_url(brand)
    assert script == f"{twin.url}/twin/jssdk/ww.js"
    assert httpx.get(script).status_code == 200


def test_agent_config_is_verified_by_the_twin(brand, twin):
    config = identity.agent_config(brand, PAGE + "#tab")
    assert set(config) == {"corpId", "agentId", "timestamp", "nonceStr", "signature"}
    assert isinstance(config["timestamp"], int) and config["corpId"] == twin_config().corp_id
    with phone_of(identity.staff_authorize_url(brand, CALLBACK, "xyz"), "zhangsan") as (client, _):
        assert twin_verifies(twin, client, config) == 200
        assert twin_verifies(twin, client, config, url="http://127.0.0.1:8000/another/") == 403
        corp = identity.corp_config(brand, PAGE)
        assert corp["signature"] != config["signature"]
        assert twin_verifies(twin, client, corp) == 403  # the corp's ticket does not sign agentConfig


def test_the_ticket_is_fetched_once_for_many_signatures(brand, twin):
    signatures = {identity.agent_config(brand, f"{PAGE}&n={n}")["signature"] for n in range(20)}
    identity.corp_config(brand, PAGE)
    identity.corp_config(brand, PAGE)
    assert len(signatures) == 20
    calls = twin.state()["api_calls"]
    assert calls["ticket/get"] == 1 and calls["get_jsapi_ticket"] == 1


def test_the_ticket_is_refreshed_before_it_expires(brand, twin):
    identity.agent_config(brand, PAGE)
    with time_machine.travel(time.time() + 7200 - 299, tick=True):
        identity.agent_config(brand, PAGE)
    assert twin.state()["api_calls"]["ticket/get"] == 2


def test_customer_from_unionid_maps_a_customer_and_not_a_stranger(brand, twin):
    unionid = twin.state()["customers"][0]["unionid"]
    appid = twin_config().mp_app_id
    assert identity.customer_from_unionid(brand, unionid, openid_of(appid, unionid)) == "wmHong"
    assert identity.customer_from_unionid(brand, "oTwStranger", openid_of(appid, "oTwStranger")) is None


def test_brands_are_kept_apart(brand, twin, brand_b):
    with pytest.raises(NotConnected):
        identity.agent_config(brand_b.workspace, PAGE)
    assert identity.jssdk_script_url(brand_b.workspace) is None
    other = twin_config(corp_id="wwtwinbeta000002")
    with running_twin(other) as twin_b:
        twin_b.add_staff("zhangsan")
        wecom.configure(brand_b.workspace, OPERATOR, corp_id=other.corp_id, agent_id="1000002",
                        secret=other.corp_secret, token=other.callback_token, aes_key=other.encoding_aes_key,
                        api_base=twin_b.api_base)
        config_b = identity.agent_config(brand_b.workspace, PAGE)
        config_a = identity.agent_config(brand, PAGE)
        assert config_b["corpId"] == other.corp_id != config_a["corpId"]
        with phone_of(identity.staff_authorize_url(brand, CALLBACK, "xyz"), "zhangsan") as (client, code):
            assert twin_verifies(twin, client, config_b) == 403  # brand B's signature means nothing to A's corp
            with pytest.raises(InvalidCode):
                identity.staff_userid_from_code(brand_b.workspace, code)  # A's code is not B's corp's
            assert identity.staff_userid_from_code(brand, code) == "zhangsan"
        assert twin_b.state()["api_calls"]["ticket/get"] == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_signatures_fetch_one_ticket(settings):
    from tests.conftest import make_brand

    with tokens_in_memory(settings), running_twin(twin_config()) as twin:
        workspace = make_brand("gamma").workspace
        connect_brand(workspace, twin)
        signed: list[str] = []

        def sign() -> None:
            try:
                signed.append(identity.agent_config(workspace, PAGE)["signature"])
            finally:
                db.connection.close()  # each thread's own connection

        threads = [threading.Thread(target=sign) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(20)
        assert len(signed) == 6
        assert twin.state()["api_calls"]["ticket/get"] == 1
