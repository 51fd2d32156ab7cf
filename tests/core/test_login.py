import pytest

from siyu.core import services
from siyu.core.models import AuditEntry
from tests.conftest import PASSWORD


def test_wrong_password_gets_a_clear_message_in_chinese(brand_a, client):
    response = client.post("/login/", {"username": "alpha-admin", "password": "nope"})
    assert response.status_code == 200
    assert "用户名或密码错误" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_wrong_password_message_in_english_when_chosen(brand_a, client):
    client.cookies["django_language"] = "en"
    response = client.post("/login/", {"username": "alpha-admin", "password": "nope"})
    assert "Wrong username or password." in response.content.decode()


def test_sign_in_is_locked_after_repeated_failures_and_audit_logged(brand_a, client, settings):
    settings.SIYU = {**settings.SIYU, "LOGIN_MAX_FAILURES": 3}
    for _ in range(3):
        client.post("/login/", {"username": "alpha-admin", "password": "wrong"})
    locked = client.post("/login/", {"username": "alpha-admin", "password": PASSWORD})
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session
    actions = list(
        AuditEntry.objects.for_workspace(brand_a.workspace).filter(target="alpha-admin").values_list("action", flat=True)
    )
    assert actions.count("login_failed") == 3
    assert "login_locked" in actions


def test_lockout_is_per_username(brand_a, client, settings):
    settings.SIYU = {**settings.SIYU, "LOGIN_MAX_FAILURES": 2}
    for _ in range(2):
        client.post("/login/", {"username": "alpha-admin", "password": "wrong"})
    response = client.post("/login/", {"username": "alpha-planner", "password": PASSWORD})
    assert response.status_code == 302


def test_successful_sign_in_is_audit_logged_and_resets_failures(brand_a, settings):
    settings.SIYU = {**settings.SIYU, "LOGIN_MAX_FAILURES": 2}
    with pytest.raises(services.LoginRefused):
        services.sign_in("alpha-admin", "wrong", "10.0.0.1")
    services.sign_in("alpha-admin", PASSWORD, "10.0.0.1")
    with pytest.raises(services.LoginRefused) as refused:
        services.sign_in("alpha-admin", "wrong", "10.0.0.1")
    assert not refused.value.locked
    entry = AuditEntry.objects.for_workspace(brand_a.workspace).filter(action="login").get()
    assert entry.ip_address == "10.0.0.1"


def test_empty_login_form_says_what_is_missing(db, client):
    html = client.post("/login/", {"username": "", "password": ""}).content.decode()
    assert "这个字段是必填项" in html
