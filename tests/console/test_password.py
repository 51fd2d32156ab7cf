"""Changing a password revokes the user's API tokens in every brand, however it is changed."""

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from siyu.core import services
from siyu.core.models import ApiToken, AuditEntry, Membership
from siyu.core.permissions import Role
from tests.conftest import PASSWORD, seat

NEW_PASSWORD = "a-new-and-longer-passphrase-7"


def tokens_for(brand_a, brand_b) -> list[str]:
    """Two tokens of alpha's admin in alpha, one in beta (as an admin there too)."""
    Membership.objects.create(workspace=brand_b.workspace, user=brand_a.admin, role=Role.ADMIN)
    keys = [services.create_api_token(brand_a.workspace, seat(brand_a.admin, brand_a.workspace), name)[1]
            for name in ("bi tool", "crm sync")]
    keys.append(services.create_api_token(brand_b.workspace, seat(brand_a.admin, brand_b.workspace), "beta bi")[1])
    return keys


def test_changing_the_password_in_the_console_revokes_every_token_and_says_so(brand_a, brand_b, login):
    keys = tokens_for(brand_a, brand_b)
    client = login(brand_a.admin)
    assert client.get("/api/me", headers={"Authorization": f"Bearer {keys[0]}"}).status_code == 200
    response = client.post("/password/", {
        "current_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password2": NEW_PASSWORD,
    }, follow=True)
    html = response.content.decode()
    assert "API 令牌（3 个）已被撤销" in html
    for key in keys:
        assert Client().get("/api/me", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    assert not ApiToken.unscoped.filter(user=brand_a.admin).exists()
    assert client.get("/").status_code == 200  # this session stays signed in
    brand_a.admin.refresh_from_db()
    assert brand_a.admin.check_password(NEW_PASSWORD)
    revoked = AuditEntry.objects.for_workspace(brand_a.workspace).filter(action="token_deleted")
    assert sorted(revoked.values_list("target", flat=True)) == ["bi tool", "crm sync"]
    assert {e.detail["reason"] for e in revoked} == {"password_changed"}
    changed = AuditEntry.objects.for_workspace(brand_b.workspace).get(action="password_changed")
    assert changed.actor == brand_a.admin and changed.detail == {"tokens_revoked": 3}


def test_other_sessions_end_when_the_password_changes(brand_a, login):
    other = Client()
    other.force_login(brand_a.admin)
    login(brand_a.admin).post("/password/", {
        "current_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password2": NEW_PASSWORD,
    })
    assert other.get("/").status_code == 302


def test_a_wrong_current_password_changes_nothing(brand_a, login):
    _, key = services.create_api_token(brand_a.workspace, seat(brand_a.admin, brand_a.workspace), "bi tool")
    client = login(brand_a.admin)
    client.cookies["django_language"] = "en"
    response = client.post("/password/", {
        "current_password": "not-it", "new_password": NEW_PASSWORD, "new_password2": NEW_PASSWORD,
    })
    assert response.status_code == 200
    assert "This is not your current password." in response.content.decode()
    assert Client().get("/api/me", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    brand_a.admin.refresh_from_db()
    assert brand_a.admin.check_password(PASSWORD)


def test_a_weak_or_mistyped_new_password_is_refused(brand_a, login):
    client = login(brand_a.admin)
    client.cookies["django_language"] = "en"
    weak = client.post("/password/", {"current_password": PASSWORD, "new_password": "1234", "new_password2": "1234"})
    assert "This password is too short." in weak.content.decode()
    differ = client.post("/password/", {
        "current_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password2": NEW_PASSWORD + "x",
    })
    assert "The two passwords differ." in differ.content.decode()


def test_the_password_page_needs_a_signed_in_user(db, client):
    response = client.get("/password/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_an_operator_reset_from_the_command_line_revokes_the_tokens_too(brand_a, brand_b, monkeypatch):
    keys = tokens_for(brand_a, brand_b)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": NEW_PASSWORD)
    call_command("changepassword", "alpha-admin")
    for key in keys:
        assert services.authenticate_token(key) is None
    assert AuditEntry.objects.for_workspace(brand_a.workspace).filter(
        action="token_deleted", detail__reason="password_changed"
    ).count() == 2


def test_set_password_and_save_anywhere_revokes_the_tokens(brand_a):
    _, key = services.create_api_token(brand_a.workspace, seat(brand_a.admin, brand_a.workspace), "bi tool")
    user = get_user_model().objects.get(pk=brand_a.admin.pk)
    user.set_password(NEW_PASSWORD)
    user.save()
    assert services.authenticate_token(key) is None


def test_saving_a_user_without_a_new_password_keeps_the_tokens(brand_a):
    _, key = services.create_api_token(brand_a.workspace, seat(brand_a.admin, brand_a.workspace), "bi tool")
    brand_a.admin.first_name = "Ada"
    brand_a.admin.save()
    assert services.authenticate_token(key) is not None
