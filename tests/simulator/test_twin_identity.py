"""Staff identity on the phone in the twin (WECOM.md §10): WeCom OAuth codes, the JS-SDK
tickets, the agentConfig check and the JS-SDK stand-in's calls, over HTTP."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.simulator.twin import CORP_ID, RunningTwin, running_twin, twin_config

AGENT_ID = twin_config().agent_id
PAGE = "http://127.0.0.1:8000/m/alpha/sidebar/?from=chat"


@pytest.fixture
def twin() -> Iterator[RunningTwin]:
    with running_twin(twin_config()) as twin:
        twin.add_staff("zhangsan", name="张三")
        twin.add_staff("lisi")
        twin.admin.post("/twin/customers/add", json={
            "external_userid": "wmCustomer1", "name": "小红", "staff_userid": "zhangsan",
        }).raise_for_status()
        yield twin


def authorize(twin: RunningTwin, client: httpx.Client | None = None, **params: str) -> httpx.Response:
    query = {
        "appid": CORP_ID, "redirect_uri": "http://127.0.0.1:8000/m/alpha/oauth/?next=1",
        "response_type": "code", "scope": "snsapi_base", "state": "st4te", "agentid": AGENT_ID,
    } | params
    return (client or twin.admin).get("/connect/oauth2/authorize", params=query)


def code_of(response: httpx.Response) -> str:
    assert response.status_code == 302, response.text
    query = parse_qs(urlsplit(response.headers["location"]).query)
    return query["code"][0]


def sign(ticket: str, nonce: str, timestamp: str, url: str) -> str:
    plain = f"jsapi_ticket={ticket}&noncestr={nonce}&timestamp={timestamp}&url={url.split('#')[0]}"
    return hashlib.sha1(plain.encode(), usedforsecurity=False).hexdigest()


@contextmanager
def phone(twin: RunningTwin, userid: str = "zhangsan") -> Iterator[httpx.Client]:
    """A phone on which `userid` went through WeCom OAuth (it holds the twin's cookie)."""
    with httpx.Client(base_url=twin.url, timeout=10) as client:
        code_of(authorize(twin, client, twin_userid=userid))
        yield client


def verify(client: httpx.Client, ticket: str, url: str = PAGE, **overrides: str) -> httpx.Response:
    body = {"url": url, "timestamp": "1700000000", "nonceStr": "n0nce", "corpId": CORP_ID,
            "agentId": AGENT_ID, "signature": sign(ticket, "n0nce", "1700000000", url)} | overrides
    return client.post("/twin/jssdk/verify", json=body, headers={"Origin": "http://127.0.0.1:8000"})


def agent_ticket(twin: RunningTwin) -> str:
    return twin.api("ticket/get", type="agent_config")["ticket"]


def call(client: httpx.Client, session: str, api: str, **args: object) -> httpx.Response:
    return client.post("/twin/jssdk/call", json={"session": session, "api": api, "args": args})


# --- WeCom OAuth -------------------------------------------------------------------------------


def test_oauth_redirects_with_a_code_that_names_the_member_once(twin):
    response = authorize(twin, twin_userid="zhangsan")
    location = urlsplit(response.headers["location"])
    assert (location.scheme, location.netloc, location.path) == ("http", "127.0.0.1:8000", "/m/alpha/oauth/")
    query = parse_qs(location.query)
    assert query["next"] == ["1"] and query["state"] == ["st4te"]
    assert "twin_phone_user=wwtwintest000001:zhangsan" in response.headers["set-cookie"]
    assert "SameSite=Lax" in response.headers["set-cookie"] and "Path=/" in response.headers["set-cookie"]
    code = query["code"][0]
    assert twin.api("auth/getuserinfo", code=code) == {"errcode": 0, "errmsg": "ok", "userid": "zhangsan"}
    assert twin.api("auth/getuserinfo", code=code)["errcode"] == 40029


def test_an_unknown_or_expired_code_is_invalid(twin):
    assert twin.api("auth/getuserinfo", code="made-up")["errcode"] == 40029
    code = code_of(authorize(twin, twin_userid="lisi"))
    twin.advance(301)
    assert twin.api("auth/getuserinfo", code=code) == {"errcode": 40029, "errmsg": "invalid code"}


def test_without_a_pick_the_page_lists_the_staff(twin):
    response = authorize(twin)
    assert response.status_code == 200 and "text/html" in response.headers["content-type"]
    assert "张三" in response.text and "twin_userid=lisi" in response.text


def test_oauth_refuses_a_relative_redirect_uri_and_a_resigned_member(twin):
    assert authorize(twin, redirect_uri="/m/alpha/oauth/", twin_userid="zhangsan").status_code == 400
    assert authorize(twin, redirect_uri="javascript:alert(1)", twin_userid="zhangsan").status_code == 400
    assert authorize(twin, appid="wwsomeoneelse", twin_userid="zhangsan").status_code == 400
    twin.admin.post("/twin/staff/resign", json={"userid": "lisi"}).raise_for_status()
    assert authorize(twin, twin_userid="lisi").status_code == 400


# --- tickets and agentConfig -------------------------------------------------------------------


def test_tickets_last_7200_seconds_and_calls_are_counted(twin):
    corp = twin.api("get_jsapi_ticket")
    agent = twin.api("ticket/get", type="agent_config")
    assert corp["errcode"] == agent["errcode"] == 0 and corp["ticket"] != agent["ticket"]
    assert corp["expires_in"] == agent["expires_in"] == 7200
    assert twin.api("ticket/get", type="other")["errcode"] == 40058
    calls = twin.state()["api_calls"]
    assert calls["get_jsapi_ticket"] == 1 and calls["ticket/get"] == 2


def test_agent_config_signed_with_the_app_ticket_is_accepted_with_cors(twin):
    ticket = agent_ticket(twin)
    with phone(twin) as client:
        response = verify(client, ticket, url=PAGE + "#section")  # the fragment is not signed
        assert response.status_code == 200 and response.json()["session"]
        assert response.headers["access-control-allow-origin"] == "http://127.0.0.1:8000"
        assert response.headers["access-control-allow-credentials"] == "true"
        preflight = client.options("/twin/jssdk/verify", headers={
            "Origin": "http://127.0.0.1:8000", "Access-Control-Request-Method": "POST",
        })
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == "http://127.0.0.1:8000"


def test_agent_config_refuses_a_wrong_signature_or_ticket(twin):
    ticket = agent_ticket(twin)
    corp_ticket = twin.api("get_jsapi_ticket")["ticket"]
    with phone(twin) as client:
        assert verify(client, ticket, signature="0" * 40).json() == {"errMsg": "agentConfig:fail invalid signature"}
        assert verify(client, "never-issued").status_code == 403
        assert verify(client, corp_ticket).status_code == 403  # the corp's ticket does not sign agentConfig
        assert verify(client, ticket, url=PAGE).status_code == 200
        another_page = sign(ticket, "n0nce", "1700000000", "http://127.0.0.1:8000/elsewhere/")
        assert verify(client, ticket, signature=another_page).status_code == 403
        assert verify(client, ticket, agentId="999").status_code == 403
    twin.advance(7201)
    with phone(twin) as client:
        assert verify(client, ticket).status_code == 403  # expired


def test_agent_config_needs_the_phone_cookie(twin):
    with httpx.Client(base_url=twin.url) as stranger:
        refused = verify(stranger, agent_ticket(twin))
    assert refused.status_code == 403 and "no WeCom member" in refused.json()["errMsg"]


# --- the stand-in's calls ----------------------------------------------------------------------


def test_the_open_chat_answers_get_cur_external_contact(twin):
    with phone(twin) as client:
        session = verify(client, agent_ticket(twin)).json()["session"]
        assert call(client, session, "getCurExternalContact").json()["errMsg"].endswith(":fail not in a single chat with a customer")
        twin.admin.post("/twin/phone/open_chat", json={
            "corpid": CORP_ID, "userid": "zhangsan", "external_userid": "wmCustomer1",
        }).raise_for_status()
        answer = call(client, session, "getCurExternalContact")
        assert answer.status_code == 200 and answer.json()["result"] == {"userId": "wmCustomer1"}
        assert call(client, session, "getContext").json()["result"] == {"entry": "single_chat_tools"}
        refused = call(client, session, "getCurExternalChat")
        assert refused.status_code == 400 and refused.json()["errMsg"] == "getCurExternalChat:fail not in a customer group chat"


def test_a_group_chat_answers_get_cur_external_chat(twin):
    chat_id = twin.admin.post("/twin/groups", json={"owner": "zhangsan", "name": "福利群"}).json()["chat_id"]
    twin.admin.post("/twin/phone/open_chat", json={"userid": "zhangsan", "chat_id": chat_id}).raise_for_status()
    with phone(twin) as client:
        session = verify(client, agent_ticket(twin)).json()["session"]
        assert call(client, session, "getCurExternalChat").json()["result"] == {"chatId": chat_id}
        assert call(client, session, "getCurExternalContact").status_code == 400


def test_open_chat_checks_the_friendship(twin):
    refused = twin.admin.post("/twin/phone/open_chat", json={"userid": "lisi", "external_userid": "wmCustomer1"})
    assert refused.status_code == 409
    assert twin.admin.post("/twin/phone/open_chat", json={"userid": "zhangsan"}).status_code == 400


def test_send_chat_message_is_recorded_for_the_member_newest_last(twin):
    twin.admin.post("/twin/phone/open_chat", json={"userid": "zhangsan", "external_userid": "wmCustomer1"})
    with phone(twin) as client:
        session = verify(client, agent_ticket(twin)).json()["session"]
        assert call(client, session, "sendChatMessage", msgtype="text", text={"content": "您好，这是今天的福利"}).status_code == 200
        news = {"link": "https://e.com/w", "title": "新品试用", "desc": "限量", "imgUrl": "https://e.com/i.png"}
        assert call(client, session, "sendChatMessage", msgtype="news", news=news).status_code == 200
        assert call(client, session, "sendChatMessage", msgtype="text", text={"content": " "}).status_code == 400
    sent = twin.admin.get("/twin/jssdk/sent", params={"corpid": CORP_ID, "userid": "zhangsan"}).json()["sent"]
    assert [(s["msgtype"], s["external_userid"]) for s in sent] == [("text", "wmCustomer1"), ("news", "wmCustomer1")]
    assert sent[0]["payload"] == {"content": "您好，这是今天的福利"}
    assert twin.admin.get("/twin/jssdk/sent", params={"userid": "lisi"}).json()["sent"] == []
    received = [m for m in twin.state()["messages"] if m["kind"] == "chat"]
    assert received[0]["text"] == "您好，这是今天的福利"


def test_a_call_without_a_verified_session_is_refused(twin):
    with phone(twin) as client:
        refused = call(client, "forged", "getCurExternalContact")
    assert refused.status_code == 400 and refused.json()["errMsg"].startswith("agentConfig:fail")


def test_the_stand_in_script_is_served(twin):
    script = twin.admin.get("/twin/jssdk/ww.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith("application/javascript")
    for name in ("register", "getCurExternalContact", "getCurExternalChat", "sendChatMessage", "/twin/jssdk/verify"):
        assert name in script.text


# --- a WeChat user to a customer ----------------------------------------------------------------


def test_unionid_to_external_userid_for_a_customer_and_not_for_a_stranger(twin):
    state = twin.state()
    [customer] = state["customers"]
    appid = twin_config().mp_app_id
    from siyu.simulator.wechat import openid_of

    body = {"unionid": customer["unionid"], "openid": openid_of(appid, customer["unionid"])}
    answer = twin.api("externalcontact/unionid_to_external_userid", body)
    assert answer == {"errcode": 0, "errmsg": "ok", "external_userid": "wmCustomer1"}
    twin.admin.post("/twin/customers/delete-staff", json={"external_userid": "wmCustomer1", "staff_userid": "zhangsan"})
    assert twin.api("externalcontact/unionid_to_external_userid", body)["errcode"] == 84061
    stranger = {"unionid": "oTwStranger", "openid": openid_of(appid, "oTwStranger")}
    assert twin.api("externalcontact/unionid_to_external_userid", stranger)["errcode"] == 84061
    mismatch = {"unionid": customer["unionid"], "openid": "oSomeoneElse"}
    assert twin.api("externalcontact/unionid_to_external_userid", mismatch)["errcode"] == 40058
