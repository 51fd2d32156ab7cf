"""The console shell's API routes: who am I, brands, team, audit log, event deliveries. Thin: services decide."""

from __future__ import annotations

import datetime as dt

from ninja import P, QueryEx, Router, Schema
from ninja.responses import Status

from siyu.core import services
from siyu.core.auditing import AuditFilter, describe, module_label
from siyu.core.bounds import MAX_PAGE
from siyu.core.models import Workspace
from siyu.core.permissions import permissions_of
from siyu.web import MemberRequest

router = Router(tags=["core"])


class WorkspaceOut(Schema):
    id: int
    name: str
    slug: str


class MeOut(Schema):
    username: str
    workspace: WorkspaceOut
    role: str
    permissions: dict[str, list[str]]


class WorkspaceIn(Schema):
    name: str
    slug: str = ""


class MemberOut(Schema):
    id: int
    username: str
    role: str
    joined_at: dt.datetime


class InvitationIn(Schema):
    role: str
    note: str = ""


class InvitationOut(Schema):
    id: int
    role: str
    note: str
    token: str
    expires_at: dt.datetime


class RoleIn(Schema):
    role: str


class AuditOut(Schema):
    id: int
    action: str
    action_label: str
    module: str
    module_label: str
    actor: str
    target: str
    summary: str
    detail: dict
    ip_address: str | None
    at: dt.datetime


class RunOut(Schema):
    id: int
    event: str
    subscriber: str
    status: str
    attempts: int
    last_error: str
    due_at: dt.datetime


def _workspace_out(ws: Workspace) -> WorkspaceOut:
    return WorkspaceOut(id=ws.pk, name=ws.name, slug=ws.slug)


@router.get("/me", response=MeOut)
def me(request: MemberRequest) -> MeOut:
    seat = request.membership
    return MeOut(
        username=request.user.get_username(),
        workspace=_workspace_out(seat.workspace),
        role=seat.role,
        permissions={m: sorted(a) for m, a in permissions_of(seat.role).items()},
    )


@router.get("/workspaces", response=list[WorkspaceOut])
def workspaces(request: MemberRequest) -> list[WorkspaceOut]:
    return [_workspace_out(m.workspace) for m in services.memberships_of(request.user)]


@router.post("/workspaces", response={201: WorkspaceOut})
def create_workspace(request: MemberRequest, body: WorkspaceIn) -> Status[WorkspaceOut]:
    return Status(201, _workspace_out(services.create_workspace(request.user, body.name, body.slug)))


@router.get("/members", response=list[MemberOut])
def members(request: MemberRequest) -> list[MemberOut]:
    seats = services.list_members(request.workspace, request.membership)
    return [MemberOut(id=s.pk, username=s.user.get_username(), role=s.role, joined_at=s.created_at) for s in seats]


@router.patch("/members/{member_id}", response=MemberOut)
def change_role(request: MemberRequest, member_id: int, body: RoleIn) -> MemberOut:
    seat = services.change_role(request.workspace, request.membership, member_id, body.role)
    return MemberOut(id=seat.pk, username=seat.user.get_username(), role=seat.role, joined_at=seat.created_at)


@router.post("/invitations", response={201: InvitationOut})
def invite(request: MemberRequest, body: InvitationIn) -> Status[InvitationOut]:
    inv = services.invite_member(request.workspace, request.membership, body.role, body.note)
    return Status(201, InvitationOut(id=inv.pk, role=inv.role, note=inv.note, token=inv.token, expires_at=inv.expires_at))


@router.get("/audit-log", response=list[AuditOut])
def audit_log(
    request: MemberRequest,
    limit: QueryEx[int, P(ge=1, le=500)] = 100,
    page: QueryEx[int, P(ge=1, le=MAX_PAGE)] = 1,
    actor: str = "",
    module: str = "",
    action: str = "",
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> list[AuditOut]:
    """The newest entries first, `limit` of them (1 to 500) per `page`, narrowed to one person
    (`actor`, a username), one `module` (an app: `channels`, `ip`, …), one `action` and the
    Asia/Shanghai days `since` to `until` (both included). `summary` is the entry in words, in
    the caller's language; `detail` holds the same facts as data."""
    wanted = AuditFilter(actor=actor, module=module, action=action, since=since, until=until)
    entries = services.audit_log(request.workspace, request.membership, limit, wanted, offset=(page - 1) * limit)
    return [
        AuditOut(id=e.pk, action=e.action, action_label=e.get_action_display(), module=e.module,
                 module_label=module_label(e.module), actor=e.actor_name, target=e.target, summary=describe(e),
                 detail=e.detail, ip_address=e.ip_address, at=e.at)
        for e in entries
    ]


@router.get("/task-runs", response=list[RunOut])
def task_runs(request: MemberRequest, status: str = "") -> list[RunOut]:
    runs = services.list_runs(request.workspace, request.membership, status)
    return [
        RunOut(id=r.pk, event=r.event.name, subscriber=r.subscriber, status=r.status, attempts=r.attempts,
               last_error=r.last_error, due_at=r.due_at)
        for r in runs
    ]


@router.post("/task-runs/{run_id}/retry", response=RunOut)
def retry_run(request: MemberRequest, run_id: int) -> RunOut:
    r = services.retry_failed_run(request.workspace, request.membership, run_id)
    return RunOut(id=r.pk, event=r.event.name, subscriber=r.subscriber, status=r.status, attempts=r.attempts,
                  last_error=r.last_error, due_at=r.due_at)
