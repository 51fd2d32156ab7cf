import pytest
from django.core.management import CommandError, call_command

from siyu.wecom.models import WeComConnection
from tests.wecom.conftest import AES_KEY, CORP_ID


def test_admin_configures_wecom_in_the_console_and_sees_the_callback_url(brand_a, login):
    client = login(brand_a.admin)
    page = client.get("/wecom/settings/").content.decode()
    assert "http://testserver/wecom/callback/alpha/" in page
    response = client.post("/wecom/settings/", {
        "corp_id": CORP_ID, "agent_id": "1000002", "secret": "s", "token": "QDG6eK", "aes_key": AES_KEY,
        "api_base": "https://qyapi.weixin.qq.com/cgi-bin/",
    })
    assert response.status_code == 302
    assert WeComConnection.objects.for_workspace(brand_a.workspace).get().corp_id == CORP_ID


def test_invalid_settings_are_explained(brand_a, login):
    html = login(brand_a.admin).post("/wecom/settings/", {
        "corp_id": CORP_ID, "agent_id": "1", "secret": "s", "token": "bad token!", "aes_key": "x" * 43,
        "api_base": "https://qyapi.weixin.qq.com/cgi-bin/",
    }).content.decode()
    assert "32" in html
    assert not WeComConnection.objects.for_workspace(brand_a.workspace).exists()


def test_only_roles_with_system_access_see_the_connector(brand_a, login):
    assert login(brand_a.members["copywriter"]).get("/wecom/settings/").status_code == 403
    valid = {"corp_id": CORP_ID, "agent_id": "1", "secret": "s", "token": "QDG6eK", "aes_key": AES_KEY,
             "api_base": "https://qyapi.weixin.qq.com/cgi-bin/"}
    assert login(brand_a.members["ops_lead"]).get("/wecom/settings/").status_code == 200  # may view
    assert login(brand_a.members["ops_lead"]).post("/wecom/settings/", valid).status_code == 403
    assert not WeComConnection.objects.for_workspace(brand_a.workspace).exists()


def test_configure_command(brand_a):
    call_command("wecom", "configure", "--workspace", "alpha", "--corp-id", CORP_ID, "--agent-id", "1000002",
                 "--secret", "s", "--token", "QDG6eK", "--aes-key", AES_KEY, "--api-base", "http://127.0.0.1:9/cgi-bin")
    connection = WeComConnection.objects.for_workspace(brand_a.workspace).get()
    assert connection.api_base == "http://127.0.0.1:9/cgi-bin/"
    with pytest.raises(CommandError, match="aes_key"):
        call_command("wecom", "configure", "--workspace", "alpha", "--corp-id", CORP_ID, "--agent-id", "1",
                     "--secret", "s", "--token", "QDG6eK", "--aes-key", "short")
    with pytest.raises(CommandError, match="no brand"):
        call_command("wecom", "configure", "--workspace", "nope", "--corp-id", CORP_ID, "--agent-id", "1",
                     "--secret", "s", "--token", "QDG6eK", "--aes-key", AES_KEY)
