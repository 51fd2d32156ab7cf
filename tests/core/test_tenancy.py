import pytest

from siyu.core import services
from siyu.core.models import AuditEntry, EventRecord, Invitation, Membership, SubscriberRun
from siyu.core.tenancy import WorkspaceRequired, workspace_context
from tests.conftest import seat

SCOPED_MODELS = [Membership, Invitation, AuditEntry, EventRecord, SubscriberRun]


@pytest.mark.parametrize("model", SCOPED_MODELS)
def test_scoped_model_refuses_a_query_without_a_workspace(db, model):
    with pytest.raises(WorkspaceRequired):
        list(model.objects.all())


def test_current_workspace_scopes_the_default_manager(brand_a, brand_b):
    with workspace_context(brand_a.workspace):
        usernames = {m.user.username for m in Membership.objects.select_related("user")}
    assert usernames and all(name.startswith("alpha-") for name in usernames)


def test_asking_for_another_brand_inside_a_brand_context_yields_nothing(brand_a, brand_b):
    with workspace_context(brand_a.workspace):
        assert not Membership.objects.for_workspace(brand_b.workspace).exists()
        assert Membership.objects.for_workspace(brand_a.workspace).exists()


def test_audit_entries_of_one_brand_are_invisible_to_the_other(brand_a, brand_b):
    services.audit(brand_b.workspace, brand_b.admin, "export", "secret-segment")
    entries = services.audit_log(brand_a.workspace, seat(brand_a.admin, brand_a.workspace))
    assert all(e.workspace_id == brand_a.workspace.pk for e in entries)
    assert "secret-segment" not in {e.target for e in entries}


def test_api_lists_only_the_token_brand_members(brand_a, brand_b, client):
    _, key = services.create_api_token(brand_a.workspace, seat(brand_a.admin, brand_a.workspace), "ci")
    response = client.get("/api/members", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200
    names = {m["username"] for m in response.json()}
    assert names == {u.username for u in brand_a.members.values()}


def test_api_audit_log_and_task_runs_stay_inside_the_brand(brand_a, brand_b, client):
    services.audit(brand_b.workspace, brand_b.admin, "export", "beta-only")
    services.create_workspace(brand_b.admin, "Beta two", "beta-two")  # publishes an event in beta-two
    _, key = services.create_api_token(brand_a.workspace, seat(brand_a.admin, brand_a.workspace), "ci")
    headers = {"Authorization": f"Bearer {key}"}
    audit = client.get("/api/audit-log", headers=headers).json()
    assert "beta-only" not in {e["target"] for e in audit}
    assert client.get("/api/task-runs?status=pending", headers=headers).json() == []


def test_api_cannot_change_a_member_of_another_brand(brand_a, brand_b, client):
    _, key = services.create_api_token(brand_a.workspace, seat(brand_a.admin, brand_a.workspace), "ci")
    victim = seat(brand_b.members["planner"], brand_b.workspace)
    response = client.patch(
        f"/api/members/{victim.pk}", {"role": "admin"}, content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 404
    victim.refresh_from_db()
    assert victim.role == "planner"


def test_console_team_page_shows_only_the_current_brand(brand_a, brand_b, login):
    client = login(brand_a.admin)
    html = client.get("/team/").content.decode()
    assert "alpha-planner" in html and "beta-planner" not in html


def test_console_cannot_switch_into_a_brand_without_a_seat(brand_a, brand_b, login):
    client = login(brand_a.admin)
    client.post("/workspaces/switch/", {"workspace": brand_b.workspace.pk})
    html = client.get("/team/").content.decode()
    assert "beta-planner" not in html and "alpha-planner" in html


def test_console_cannot_change_a_role_in_another_brand(brand_a, brand_b, login):
    client = login(brand_a.admin)
    victim = seat(brand_b.members["copywriter"], brand_b.workspace)
    response = client.post(f"/team/{victim.pk}/role/", {"role": "admin", "confirmed": "1"})
    assert response.status_code == 404
    victim.refresh_from_db()
    assert victim.role == "copywriter"


def test_member_of_two_brands_switches_between_them(brand_a, brand_b, login):
    from siyu.core.models import Membership

    user = brand_a.members["data_analyst"]
    Membership.objects.create(workspace=brand_b.workspace, user=user, role="planner")
    client = login(user)
    client.post("/workspaces/switch/", {"workspace": brand_b.workspace.pk})
    assert client.get("/api/me").json()["workspace"]["slug"] == "beta"
    client.post("/workspaces/switch/", {"workspace": brand_a.workspace.pk})
    assert client.get("/api/me").json()["workspace"]["slug"] == "alpha"
