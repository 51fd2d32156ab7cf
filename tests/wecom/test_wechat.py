"""The brand's WeChat service account through the connector (`siyu.wecom.wechat`, WECOM.md §10):
settings with the secret encrypted, web OAuth (base and userinfo), template messages with the
account's token cached, against the twin over HTTP."""

from __future__ import annotations

import os
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from siyu.core.services import OPERATOR
from siyu.wecom import wechat
from siyu.wecom.errors import WeComError
from siyu.wecom.models import ServiceAccount
from tests.conftest import seat
from tests.simulator.twin import RunningTwin, running_twin, tokens_in_memory, twin_config

CONFIG = twin_config()
CALLBACK = "http://127.0.0.1:8000/m/alpha/fan/oauth/"


@pytest.fixture
def twin(settings) -> Iterator[RunningTwin]:
    with tokens_in_memory(settings), running_twin(CONFIG) as twin:
        twin.add_staff("zhangsan")
        twin.admin.post("/twin/customers/add", json={
            "external_userid": "wmHong", "name": "小红", "staff_userid": "zhangsan",
        }).raise_for_status()
        yield twin


def connect_account(workspace, twin: RunningTwin) -> ServiceAccount:
    return wechat.configure_service_account(
        workspace, OPERATOR, app_id=CONFIG.mp_app_id, secret=CONFIG.mp_app_secret,
        api_base=f"{twin.url}/", oauth_base=f"{twin.url}/",
    )


@pytest.fixture
def brand(brand_a, twin):
    connect_account(brand_a.workspace, twin)
    return brand_a.workspace


def code_for(authorize_url: str, fan: str) -> str:
    response = httpx.get(authorize_url.split("#")[0] + f"&twin_fan={fan}")
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == CALLBACK
    query = parse_qs(location.query)
    assert query["state"] == ["st"]
    return query["code"][0]


def test_the_secret_is_encrypted_at_rest_and_kept_when_left_blank(brand_a, twin):
    account = connect_account(brand_a.workspace, twin)
    stored = ServiceAccount.objects.for_workspace(brand_a.workspace).values_list("secret_encrypted", flat=True).get()
    assert CONFIG.mp_app_secret not in stored and account.secret == CONFIG.mp_app_secret
    admin = seat(brand_a.admin, brand_a.workspace)
    wechat.configure_service_account(brand_a.workspace, admin, app_id="wxrenamed", secret="",
                                     api_base=f"{twin.url}/", oauth_base=f"{twin.url}/")
    account = ServiceAccount.objects.for_workspace(brand_a.workspace).get()
    assert (account.app_id, account.secret) == ("wxrenamed", CONFIG.mp_app_secret)


def test_settings_are_checked(brand_a, brand_b):
    admin = seat(brand_a.admin, brand_a.workspace)
    with pytest.raises(ValidationError) as refused:
        wechat.configure_service_account(brand_a.workspace, admin, app_id="wx1", secret="",
                                         api_base="http://10.0.0.5/", oauth_base="ftp://x/")
    assert set(refused.value.message_dict) == {"secret", "api_base", "oauth_base"}
    member = seat(brand_a.members["copywriter"], brand_a.workspace)
    with pytest.raises(PermissionDenied):
        wechat.configure_service_account(brand_a.workspace, member, app_id="wx1", secret="s")


def test_base_oauth_names_the_fan_by_openid_and_unionid(brand, twin):
    url = wechat.fan_authorize_url(brand, CALLBACK, "st")
    assert url.startswith(f"{twin.url}/connect/oauth2/authorize?appid={CONFIG.mp_app_id}&")
    assert "scope=snsapi_base" in url and url.endswith("#wechat_redirect")
    fan = wechat.fan_from_code(brand, code_for(url, "wmHong"))
    unionid = twin.state()["customers"][0]["unionid"]
    assert fan.unionid == unionid and fan.openid.startswith("o")
    assert (fan.nickname, fan.avatar_url) == ("", "")
    with pytest.raises(wechat.FanCodeInvalid):
        wechat.fan_from_code(brand, "used-or-unknown")


def test_userinfo_oauth_also_gives_the_nickname(brand):
    url = wechat.fan_authorize_url(brand, CALLBACK, "st", scope="snsapi_userinfo")
    fan = wechat.fan_from_code(brand, code_for(url, "wmHong"))
    assert fan.nickname == "小红" and fan.unionid


def test_a_template_message_is_sent_with_one_token(brand, twin):
    url = wechat.fan_authorize_url(brand, CALLBACK, "st")
    openid = wechat.fan_from_code(brand, code_for(url, "wmHong")).openid
    first = wechat.send_template_message(brand, openid, "TPL_PROGRESS", "https://brand.example/m/",
                                         {"thing1": "邀请 3 位好友", "thing2": {"value": "还差 2 位", "color": "#f00"}})
    second = wechat.send_template_message(brand, openid, "TPL_PROGRESS", "", {"thing1": "完成"})
    assert first and second and first != second
    sent = twin.admin.get("/twin/wechat/templates", params={"openid": openid}).json()["templates"]
    assert [s["msgid"] for s in sent] == [int(first), int(second)]
    assert sent[0]["data"] == {"thing1": {"value": "邀请 3 位好友"}, "thing2": {"value": "还差 2 位", "color": "#f00"}}
    assert twin.state()["api_calls"]["token"] == 1


def test_a_template_message_to_a_stranger_is_refused(brand):
    with pytest.raises(wechat.FanNotSubscribed) as refused:
        wechat.send_template_message(brand, "oNobody", "TPL", "", {})
    assert isinstance(refused.value, WeComError) and refused.value.errcode == 43004


def test_a_brand_without_a_service_account_has_none(brand, brand_b):
    with pytest.raises(ServiceAccount.DoesNotExist):
        wechat.fan_authorize_url(brand_b.workspace, CALLBACK, "st")
    with pytest.raises(ServiceAccount.DoesNotExist):
        wechat.fan_from_code(brand_b.workspace, "code")
    assert wechat.service_account_of(brand_b.workspace) is None


def test_admin_saves_the_service_account_in_the_console_and_the_secret_is_write_only(brand_a, login):
    client = login(brand_a.admin)
    form = {"form": "service_account", "mp-app_id": "wxbrand0001", "mp-secret": "mp-s3cret-value",
            "mp-api_base": "https://api.weixin.qq.com/", "mp-oauth_base": "https://open.weixin.qq.com/"}
    assert client.post("/wecom/settings/", form).status_code == 302
    page = client.get("/wecom/settings/").content.decode()
    assert "wxbrand0001" in page and "mp-s3cret-value" not in page
    assert client.post("/wecom/settings/", form | {"mp-secret": ""}).status_code == 302
    account = ServiceAccount.objects.for_workspace(brand_a.workspace).get()
    assert account.secret == "mp-s3cret-value"
    refused = client.post("/wecom/settings/", form | {"mp-api_base": "http://10.0.0.8/"})
    assert refused.status_code == 200 and ServiceAccount.objects.for_workspace(brand_a.workspace).get().api_base == (
        "https://api.weixin.qq.com/")
    assert login(brand_a.members["ops_lead"]).post("/wecom/settings/", form).status_code == 403


def test_service_account_command(brand_a):
    call_command("wecom", "service-account", "--workspace", "alpha", "--app-id", "wxcli", "--secret", "s",
                 "--api-base", "http://127.0.0.1:9/", "--oauth-base", "http://127.0.0.1:9/")
    account = ServiceAccount.objects.for_workspace(brand_a.workspace).get()
    assert (account.app_id, account.secret, account.api_base) == ("wxcli", "s", "http://127.0.0.1:9/")


def test_the_demo_connects_its_service_account_to_the_twin(brand_a, settings, tmp_path, monkeypatch):
    from siyu.demo import connect_demo_to_twin

    settings.DATA_DIR = tmp_path
    monkeypatch.setattr(os, "environ", dict(os.environ))
    args = connect_demo_to_twin(brand_a.workspace, "http://127.0.0.1:8000", 8123)
    account = ServiceAccount.objects.for_workspace(brand_a.workspace).get()
    assert (account.api_base, account.oauth_base) == ("http://127.0.0.1:8123/", "http://127.0.0.1:8123/")
    assert os.environ["SIYU_TWIN_MP_APP_ID"] == account.app_id and os.environ["SIYU_TWIN_MP_SECRET"] == account.secret
    assert "--port" in args
