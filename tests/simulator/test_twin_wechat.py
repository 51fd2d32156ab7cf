"""The twin's WeChat service account (服务号, WECOM.md §10): web OAuth with openids and unionids
for its customers and for fans who are not customers yet, its access token and template
messages, over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.simulator.twin import RunningTwin, running_twin, twin_config

CONFIG = twin_config()
APPID, SECRET = CONFIG.mp_app_id, CONFIG.mp_app_secret


@pytest.fixture
def twin() -> Iterator[RunningTwin]:
    with running_twin(CONFIG) as twin:
        twin.add_staff("zhangsan")
        for ext, name in (("wmHong", "小红"), ("wmLan", "小蓝")):
            twin.admin.post("/twin/customers/add", json={
                "external_userid": ext, "name": name, "staff_userid": "zhangsan",
            }).raise_for_status()
        yield twin


def authorize(twin: RunningTwin, **params: str) -> httpx.Response:
    query = {"appid": APPID, "redirect_uri": "https://brand.example/m/alpha/fan/oauth/",
             "response_type": "code", "scope": "snsapi_base", "state": "f4n"} | params
    return twin.admin.get("/connect/oauth2/authorize", params=query)


def code_for(twin: RunningTwin, **params: str) -> str:
    response = authorize(twin, **params)
    assert response.status_code == 302, response.text
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query["state"] == ["f4n"]
    assert "set-cookie" not in response.headers  # WeChat's flow says nothing about staff
    return query["code"][0]


def exchange(twin: RunningTwin, code: str, secret: str = SECRET) -> dict:
    return twin.admin.get("/sns/oauth2/access_token", params={
        "appid": APPID, "secret": secret, "code": code, "grant_type": "authorization_code",
    }).json()


def mp_token(twin: RunningTwin) -> str:
    return twin.admin.get("/cgi-bin/token", params={
        "grant_type": "client_credential", "appid": APPID, "secret": SECRET,
    }).json()["access_token"]


def send(twin: RunningTwin, openid: str, token: str | None = None, **body: object) -> dict:
    payload = {"touser": openid, "template_id": "TPL_TASK_PROGRESS", "url": "https://brand.example/m/alpha/me/",
               "data": {"thing1": {"value": "邀请 3 位好友"}}} | body
    return twin.admin.post("/cgi-bin/message/template/send", params={"access_token": token or mp_token(twin)},
                           json=payload).json()


def customer(twin: RunningTwin, ext: str) -> dict:
    return next(c for c in twin.state()["customers"] if c["external_userid"] == ext)


def test_base_oauth_gives_a_stable_openid_and_the_customers_unionid(twin):
    grant = exchange(twin, code_for(twin, twin_fan="wmHong"))
    assert grant["scope"] == "snsapi_base" and grant["expires_in"] == 7200 and grant["refresh_token"]
    assert grant["unionid"] == customer(twin, "wmHong")["unionid"] and grant["unionid"]
    again = exchange(twin, code_for(twin, twin_fan="wmHong"))
    assert again["openid"] == grant["openid"]
    assert exchange(twin, code_for(twin, twin_fan="wmLan"))["openid"] != grant["openid"]


def test_a_code_works_once_and_the_secret_is_checked(twin):
    code = code_for(twin, twin_fan="wmHong")
    assert exchange(twin, code, secret="wrong")["errcode"] == 40125
    assert "openid" in exchange(twin, code)
    assert exchange(twin, code) == {"errcode": 40029, "errmsg": "invalid code"}
    assert exchange(twin, "made-up")["errcode"] == 40029


def test_userinfo_only_for_a_userinfo_grant(twin):
    base = exchange(twin, code_for(twin, twin_fan="wmHong"))
    refused = twin.admin.get("/sns/userinfo", params={
        "access_token": base["access_token"], "openid": base["openid"], "lang": "zh_CN",
    }).json()
    assert refused["errcode"] == 48001
    grant = exchange(twin, code_for(twin, twin_fan="wmHong", scope="snsapi_userinfo"))
    assert grant["scope"] == "snsapi_userinfo"
    info = twin.admin.get("/sns/userinfo", params={
        "access_token": grant["access_token"], "openid": grant["openid"], "lang": "zh_CN",
    }).json()
    assert (info["openid"], info["nickname"], info["unionid"]) == (grant["openid"], "小红", grant["unionid"])
    assert "headimgurl" in info


def test_the_picker_lists_recent_customers_and_offers_a_new_fan(twin):
    page = authorize(twin)
    assert page.status_code == 200
    assert "小红" in page.text and "twin_fan=wmLan" in page.text and 'name="twin_new_fan"' in page.text
    assert authorize(twin, scope="snsapi_login").status_code == 400


def test_a_new_fan_is_a_wechat_user_but_not_a_customer(twin):
    grant = exchange(twin, code_for(twin, twin_fan="new:路人甲", scope="snsapi_userinfo"))
    assert grant["unionid"] and grant["openid"]
    info = twin.admin.get("/sns/userinfo", params={"access_token": grant["access_token"], "openid": grant["openid"]}).json()
    assert info["nickname"] == "路人甲"
    body = {"unionid": grant["unionid"], "openid": grant["openid"]}
    assert twin.api("externalcontact/unionid_to_external_userid", body)["errcode"] == 84061
    # The fan adds a staff member: now a customer, with the same unionid.
    twin.admin.post("/twin/customers/add", json={
        "external_userid": "wmNew", "name": "路人甲", "staff_userid": "zhangsan", "unionid": grant["unionid"],
    }).raise_for_status()
    assert twin.api("externalcontact/unionid_to_external_userid", body)["external_userid"] == "wmNew"
    assert exchange(twin, code_for(twin, twin_new_fan="路人乙"))["unionid"] != grant["unionid"]


def test_a_template_message_is_recorded(twin):
    openid = exchange(twin, code_for(twin, twin_fan="wmHong"))["openid"]
    answer = send(twin, openid)
    assert answer["errcode"] == 0 and isinstance(answer["msgid"], int)
    [sent] = twin.admin.get("/twin/wechat/templates").json()["templates"]
    assert (sent["touser"], sent["template_id"], sent["external_userid"]) == (openid, "TPL_TASK_PROGRESS", "wmHong")
    assert sent["data"] == {"thing1": {"value": "邀请 3 位好友"}} and sent["msgid"] == answer["msgid"]


def test_a_template_message_to_an_unknown_openid_or_with_a_bad_token_is_refused(twin):
    assert send(twin, "oNobody")["errcode"] == 43004
    openid = exchange(twin, code_for(twin, twin_fan="wmHong"))["openid"]
    assert send(twin, openid, token="forged")["errcode"] == 40001
    assert send(twin, openid, template_id="")["errcode"] == 40037
    assert twin.admin.get("/twin/wechat/templates").json()["templates"] == []


def test_the_mp_token_checks_the_appid_and_secret(twin):
    wrong = twin.admin.get("/cgi-bin/token", params={"grant_type": "client_credential", "appid": APPID,
                                                      "secret": "nope"}).json()
    assert wrong["errcode"] == 40125
    assert twin.admin.get("/cgi-bin/token", params={"appid": "wxother", "secret": SECRET}).json()["errcode"] == 40013
    assert mp_token(twin)


def test_the_state_page_shows_template_messages(twin):
    openid = exchange(twin, code_for(twin, twin_fan="wmHong"))["openid"]
    send(twin, openid, template_id="TPL_SHOWN")
    assert "TPL_SHOWN" in twin.admin.get("/twin/").text
