"""The WeCom API base URL: the server sends requests there, so it must be WeCom's kind of address
(https, port 443, a public host) or one the operator allows, and "test connection" must not tell
an admin what listens at other addresses (`siyu.wecom.api_bases`)."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError

from siyu.core.services import OPERATOR
from siyu.wecom import services
from siyu.wecom.client import WeComUnavailable
from siyu.wecom.models import ApiCall, WeComConnection
from tests.conftest import free_port
from tests.simulator.twin import connect_brand, running_twin, twin_config
from tests.wecom.conftest import AES_KEY, CORP_ID, TOKEN


def settings_form(api_base: str) -> dict[str, str]:
    return {"corp_id": CORP_ID, "agent_id": "1000002", "secret": "s", "token": TOKEN, "aes_key": AES_KEY,
            "api_base": api_base}


def configure(workspace, api_base: str) -> None:
    services.configure(workspace, OPERATOR, corp_id=CORP_ID, agent_id="1000002", secret="app-secret",
                       token=TOKEN, aes_key=AES_KEY, api_base=api_base)


@contextmanager
def not_wecom() -> Iterator[tuple[str, list[str]]]:
    """Some other HTTP service on a loopback port; yields its URL and the paths it was asked for."""
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            body = b"<html><title>Internal admin</title></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", asked
    finally:
        server.shutdown()
        server.server_close()


def test_an_internal_address_is_refused_as_the_api_base_unless_the_operator_allows_it(brand_a, login, settings):
    settings.SIYU_WECOM_ALLOWED_API_BASES = []
    client = login(brand_a.admin)
    html = client.post("/wecom/settings/", settings_form("http://127.0.0.1:5432/")).content.decode()
    assert "SIYU_WECOM_ALLOWED_API_BASES" in html
    assert not WeComConnection.objects.for_workspace(brand_a.workspace).exists()

    settings.SIYU_WECOM_ALLOWED_API_BASES = ["http://127.0.0.1:5432/"]
    assert client.post("/wecom/settings/", settings_form("http://127.0.0.1:5432/")).status_code == 302
    assert WeComConnection.objects.for_workspace(brand_a.workspace).get().api_base == "http://127.0.0.1:5432/"


@pytest.mark.parametrize("api_base", [
    "http://qyapi.weixin.qq.com/cgi-bin/",
    "https://qyapi.weixin.qq.com:8443/cgi-bin/",
    "https://127.0.0.1/cgi-bin/",
    "https://10.1.2.3/cgi-bin/",
    "https://169.254.169.254/latest/",
    "https://[::1]/cgi-bin/",
    "https://2130706433/cgi-bin/",  # 127.0.0.1 to the resolver
    "https://localhost/cgi-bin/",
    "https://user:password@qyapi.weixin.qq.com/cgi-bin/",
    "ftp://qyapi.weixin.qq.com/cgi-bin/",
    "not a url",
])
def test_only_https_on_the_standard_port_of_a_public_host_may_be_saved(brand_a, settings, api_base):
    settings.SIYU_WECOM_ALLOWED_API_BASES = []
    with pytest.raises(ValidationError) as refused:
        configure(brand_a.workspace, api_base)
    assert list(refused.value.message_dict) == ["api_base"]


@pytest.mark.parametrize(("api_base", "allowed"), [
    ("https://qyapi.weixin.qq.com/cgi-bin/", True),
    ("https://wecom-proxy.example.com/cgi-bin/", True),
    ("http://127.0.0.1:8001/cgi-bin/", True),  # the operator's entry
    ("http://127.0.0.1:8001/cgi-bin", True),
    ("http://127.0.0.1:8002/cgi-bin/", False),  # another port
    ("http://127.0.0.1:8001/other/", False),  # outside the entry's path
    ("https://127.0.0.1:8001/cgi-bin/", False),  # another scheme
])
def test_the_operator_allows_addresses_by_prefix(brand_a, settings, api_base, allowed):
    settings.SIYU_WECOM_ALLOWED_API_BASES = ["http://127.0.0.1:8001/cgi-bin/"]
    try:
        configure(brand_a.workspace, api_base)
    except ValidationError:
        assert not allowed
    else:
        assert allowed


def test_connection_errors_read_the_same_whatever_listens_at_the_address(brand_a, login):
    client = login(brand_a.admin)
    said = []
    with running_twin(twin_config()) as twin, not_wecom() as (other, _):
        for api_base in [
            f"http://127.0.0.1:{free_port()}/cgi-bin/",  # nothing listens
            f"{other}/cgi-bin/",  # a web server that is not WeCom
            f"{twin.url}/",  # the twin, without its /cgi-bin/ (it answered 500)
            f"{twin.url}/twin/state",
        ]:
            configure(brand_a.workspace, api_base)
            response = client.post("/wecom/settings/test/")
            assert response.status_code == 302
            *_, message = get_messages(response.wsgi_request)  # this request's, after earlier ones
            said.append((message.level_tag, str(message)))
    assert len(set(said)) == 1, said
    assert said[0][0] == "error"
    assert ApiCall.objects.for_workspace(brand_a.workspace).filter(endpoint="gettoken", errcode=-1).count() == 4


def test_connection_to_a_running_twin_works(brand_a, login):
    with running_twin(twin_config()) as twin:
        connect_brand(brand_a.workspace, twin)
        response = login(brand_a.admin).post("/wecom/settings/test/")
    assert response.status_code == 302
    [message] = get_messages(response.wsgi_request)
    assert message.level_tag == "success"
    assert "7200" in str(message)


def test_a_base_saved_before_the_rule_is_never_called(brand_a, settings):
    with not_wecom() as (other, asked):
        settings.SIYU_WECOM_ALLOWED_API_BASES = [f"{other}/"]
        configure(brand_a.workspace, f"{other}/cgi-bin/")
        settings.SIYU_WECOM_ALLOWED_API_BASES = []  # the operator took it back
        with pytest.raises(ValidationError, match="SIYU_WECOM_ALLOWED_API_BASES"):
            services.test_connection(brand_a.workspace, OPERATOR)
        with services.client_for(brand_a.workspace) as client, pytest.raises(WeComUnavailable):
            client.get_token()
    assert asked == []
