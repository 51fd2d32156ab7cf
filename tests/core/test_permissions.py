import pytest
from django.core.exceptions import PermissionDenied

from siyu.core import services
from siyu.core.permissions import Action, Module, Role, allows, columns, permissions_of, require
from tests.conftest import seat

# The matrix as the team agreed it, spelled out cell by cell where it matters most.
EXPECTED = [
    # role, module, action, allowed
    (Role.ADMIN, Module.TEAM, Action.EDIT, True),
    (Role.ADMIN, Module.AUDIT, Action.VIEW, True),
    (Role.OPS_LEAD, Module.CHANNELS, Action.APPROVE, True),
    (Role.OPS_LEAD, Module.TEAM, Action.EDIT, False),
    (Role.OPS_LEAD, Module.AUDIT, Action.VIEW, False),
    (Role.COPYWRITER, Module.IP, Action.VIEW, True),
    (Role.COPYWRITER, Module.CUSTOMERS, Action.VIEW, False),
    (Role.COPYWRITER, Module.IP, Action.EDIT, False),
    (Role.PLANNER, Module.CHANNELS, Action.EDIT, True),
    (Role.PLANNER, Module.CUSTOMERS, Action.EXPORT, False),
    (Role.CUSTOMER_OPS, Module.CUSTOMERS, Action.EDIT, True),
    (Role.CUSTOMER_OPS, Module.CUSTOMERS, Action.EXPORT, False),
    (Role.DATA_ANALYST, Module.CHANNELS, Action.EXPORT, True),
    (Role.DATA_ANALYST, Module.CUSTOMERS, Action.EDIT, False),
    (Role.MERCHANDISER, Module.CUSTOMERS, Action.VIEW, True),
    (Role.MERCHANDISER, Module.IP, Action.VIEW, False),
    (Role.MERCHANDISER, Module.SYSTEM, Action.VIEW, False),
]


@pytest.mark.parametrize(("role", "module", "action", "allowed"), EXPECTED)
def test_matrix_cell(role, module, action, allowed):
    assert allows(role, module, action) is allowed


def test_every_role_has_a_cell_in_every_column_the_installed_apps_declare():
    modules = {c.module for c in columns()}
    assert {Module.IP, Module.CHANNELS, Module.CUSTOMERS, Module.TEAM, Module.AUDIT, Module.SYSTEM} <= modules
    for role in Role:
        assert set(permissions_of(role)) == modules


def test_a_column_without_every_role_is_refused():
    from siyu.core.permissions import PermissionColumn

    with pytest.raises(ValueError, match="every role"):
        PermissionColumn("half", "Half", {"admin": "vexa"})
    with pytest.raises(LookupError):
        allows(Role.ADMIN, "not-installed", Action.VIEW)


def test_admin_may_do_everything_but_edit_the_audit_log():
    for column in columns():
        expected = {Action.VIEW, Action.EXPORT} if column.module == Module.AUDIT else set(Action)
        assert permissions_of(Role.ADMIN)[column.module] == expected


def test_only_admins_may_manage_the_team():
    assert [r for r in Role if allows(r, Module.TEAM, Action.EDIT)] == [Role.ADMIN]


def test_whoever_may_edit_or_export_may_view():
    for role in Role:
        for module, actions in permissions_of(role).items():
            if actions:
                assert Action.VIEW in actions, (role, module)


def test_require_refuses_with_a_reason():
    with pytest.raises(PermissionDenied, match="."):
        require(Role.COPYWRITER, Module.TEAM, Action.EDIT)
    with pytest.raises(PermissionDenied):
        require(None, Module.IP, Action.VIEW)


@pytest.mark.parametrize("role", [r for r in Role if r != Role.ADMIN])
def test_service_refuses_invitations_from_non_admins(brand_a, role):
    with pytest.raises(PermissionDenied):
        services.invite_member(brand_a.workspace, seat(brand_a.members[role], brand_a.workspace), Role.PLANNER)


@pytest.mark.parametrize("role", list(Role))
def test_audit_log_service_follows_the_matrix(brand_a, role):
    member = seat(brand_a.members[role], brand_a.workspace)
    if allows(role, Module.AUDIT, Action.VIEW):
        services.audit_log(brand_a.workspace, member)
    else:
        with pytest.raises(PermissionDenied):
            services.audit_log(brand_a.workspace, member)


@pytest.mark.parametrize("role", list(Role))
def test_task_runs_page_follows_the_matrix(brand_a, role, login):
    status = login(brand_a.members[role]).get("/tasks/").status_code
    assert status == (200 if allows(role, Module.SYSTEM, Action.VIEW) else 403)


def test_api_refuses_a_copywriter_invitation_with_403(brand_a, client):
    _, key = services.create_api_token(brand_a.workspace, seat(brand_a.members["copywriter"], brand_a.workspace), "t")
    response = client.post("/api/invitations", {"role": "planner"}, content_type="application/json",
                           headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 403


def test_a_brand_keeps_at_least_one_admin(brand_a):
    from django.core.exceptions import ValidationError

    admin_seat = seat(brand_a.admin, brand_a.workspace)
    with pytest.raises(ValidationError):
        services.change_role(brand_a.workspace, admin_seat, admin_seat.pk, Role.PLANNER)
    with pytest.raises(ValidationError):
        services.remove_member(brand_a.workspace, admin_seat, admin_seat.pk)


def test_role_change_is_audit_logged(brand_a):
    admin_seat = seat(brand_a.admin, brand_a.workspace)
    target = seat(brand_a.members["planner"], brand_a.workspace)
    services.change_role(brand_a.workspace, admin_seat, target.pk, Role.OPS_LEAD)
    entry = services.audit_log(brand_a.workspace, admin_seat)[0]
    assert (entry.action, entry.target, entry.detail) == ("role_changed", "alpha-planner", {"from": "planner", "to": "ops_lead"})
