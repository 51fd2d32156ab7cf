"""Core services: brands, team and roles, invitations, sign-in, API tokens, the audit log.

Plain functions with explicit arguments; permission checks happen here, not in views.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import Count, Min, Q
from django.db.models.functions import TruncHour
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_tasks_db.models import DBTaskResult

from siyu.core import events, lockout
from siyu.core.auditing import (
    AuditFilter,
    actor_label,
    details_text,
    filtered,
    module_label,
    target_label,
)
from siyu.core.auditing import audit as audit
from siyu.core.auditing import audit_change as audit_change
from siyu.core.auditing import change as change
from siyu.core.auditing import changes as changes
from siyu.core.auditing import fact as fact
from siyu.core.auditing import model_changes as model_changes
from siyu.core.auditing import snapshot as snapshot
from siyu.core.auditing import worded as worded
from siyu.core.exports import Sheet, xlsx_bytes
from siyu.core.models import (
    ApiToken,
    AuditAction,
    AuditEntry,
    EventRecord,
    EventTally,
    Invitation,
    Membership,
    RunStatus,
    SchedulerLease,
    SubscriberRun,
    WorkerHeartbeat,
    Workspace,
)
from siyu.core.permissions import Action, Module, Role, Seat, require, role_of

if TYPE_CHECKING:
    # The configured user model (AUTH_USER_MODEL): django-stubs' plugin resolves this alias.
    from django.contrib.auth.models import _User

logger = logging.getLogger("siyu.core")
User = get_user_model()
INVITATION_VALID_FOR = dt.timedelta(days=7)


class WorkspaceCreated(events.DomainEvent):
    name = "core.workspace_created"
    workspace_id: int
    slug: str


class MemberJoined(events.DomainEvent):
    name = "core.member_joined"
    membership_id: int
    user_id: int
    role: str


@dataclass(frozen=True)
class OperatorSeat:
    """The instance operator acting from the command line (`siyu ...`): an admin seat, no user
    (a `siyu.core.permissions.Seat`, as a member's `Membership` is)."""

    role: str = Role.ADMIN
    user: None = None


OPERATOR = OperatorSeat()


# --- audit ---------------------------------------------------------------------------------

AUDIT_PAGE_SIZE = 50
AUDIT_EXPORT_MAX_ROWS = 50_000


def audit_log(workspace: Workspace, membership: Membership | None, limit: int = 200,
              wanted: AuditFilter | None = None, offset: int = 0) -> list[AuditEntry]:
    """The newest `limit` entries that match `wanted`, after skipping `offset`."""
    require(role_of(membership), Module.AUDIT, Action.VIEW)
    return list(filtered(workspace, wanted or AuditFilter())[offset:offset + limit])


def audit_page(workspace: Workspace, membership: Membership | None, wanted: AuditFilter,
               page: int | str | None = 1, per_page: int = AUDIT_PAGE_SIZE) -> Page[AuditEntry]:
    """One page of the entries that match `wanted`, newest first (two queries: the count and
    the page). A page past the end gives the last one."""
    require(role_of(membership), Module.AUDIT, Action.VIEW)
    return Paginator(filtered(workspace, wanted), per_page).get_page(page)


def export_audit(workspace: Workspace, membership: Membership | None, wanted: AuditFilter,
                 ip_address: str | None = None) -> tuple[bytes, int]:
    """The entries that match `wanted` as .xlsx bytes (at most `AUDIT_EXPORT_MAX_ROWS`, newest
    first), each described in the reader's language, and the row count. Audit-logged."""
    require(role_of(membership), Module.AUDIT, Action.EXPORT)
    entries = filtered(workspace, wanted)[:AUDIT_EXPORT_MAX_ROWS]
    count = 0

    def rows() -> Iterator[list[Any]]:
        nonlocal count
        yield [_("Time"), _("Who"), _("Module"), _("Action"), _("Target"), _("Detail"), _("IP address")]
        for e in entries.iterator(chunk_size=2000):
            count += 1
            yield [timezone.localtime(e.at).strftime("%Y-%m-%d %H:%M:%S"), actor_label(e), module_label(e.module),
                   e.get_action_display(), target_label(e), details_text(e), e.ip_address or ""]

    content = xlsx_bytes([Sheet(_("Audit log"), rows(), widths=[20, 16, 14, 14, 28, 100, 16])])
    audit_change(workspace, membership, AuditAction.EXPORT, module="core", subject=gettext_lazy("audit log"), name="",
                 facts=[fact(gettext_lazy("rows"), count)], ip_address=ip_address)
    return content, count


# --- sign-in ------------------------------------------------------------------------------

class LoginRefused(Exception):
    def __init__(self, message: str, locked: bool = False) -> None:
        super().__init__(message)
        self.locked = locked


def sign_in(username: str, password: str, client_ip: str | None) -> _User:
    """Check a password, with a lockout after repeated failures per (username, client).

    The attempt is claimed before the password is checked (`siyu.core.lockout`), so however
    many attempts arrive at once, at most LOGIN_MAX_FAILURES passwords are checked per window."""
    limit = settings.SIYU["LOGIN_MAX_FAILURES"]
    window = settings.SIYU["LOGIN_LOCKOUT_SECONDS"]
    key = lockout.counter_key(username, client_ip or "-")
    attempt = lockout.claim_attempt(key, limit, window)
    memberships = Membership.unscoped.filter(user__username__iexact=username).select_related("workspace")
    if attempt is None:
        for m in memberships:
            audit(m.workspace, username, AuditAction.LOGIN_LOCKED, username, {"failures": limit}, client_ip)
        raise LoginRefused(
            _("Too many failed sign-ins. Try again in %(minutes)s minutes.") % {"minutes": max(1, window // 60)},
            locked=True,
        )
    user = authenticate(username=username, password=password)
    if user is None:
        for m in memberships:
            audit(m.workspace, username, AuditAction.LOGIN_FAILED, username, {"failures": attempt}, client_ip)
        logger.info("failed sign-in for %r from %s", username, client_ip)
        raise LoginRefused(_("Wrong username or password."))
    lockout.clear(key)
    for m in Membership.unscoped.filter(user=user).select_related("workspace"):
        audit(m.workspace, user, AuditAction.LOGIN, user.get_username(), ip_address=client_ip)
    return user


def change_password(user: Any, current: str, new: str, new_again: str) -> int:
    """The signed-in user changes their own password. Their API tokens are revoked (returns how
    many) and their other sessions end (Django's session hash follows the password)."""
    problems: dict[str, list[str]] = {}
    if not user.check_password(current):
        problems["current_password"] = [_("This is not your current password.")]
    if new != new_again:
        problems["new_password2"] = [_("The two passwords differ.")]
    elif current and new == current:
        problems["new_password"] = [_("Choose a password different from the current one.")]
    else:
        try:
            validate_password(new, user)
        except ValidationError as exc:
            problems["new_password"] = exc.messages
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        revoked = revoke_api_tokens(user, user)
        user.set_password(new)
        user.save(update_fields=["password"])
        for m in Membership.unscoped.filter(user=user).select_related("workspace"):
            audit(m.workspace, user, AuditAction.PASSWORD_CHANGED, user.get_username(), {"tokens_revoked": revoked})
    return revoked


# --- workspaces and members ----------------------------------------------------------------

def memberships_of(user: Any) -> list[Membership]:
    return list(Membership.unscoped.filter(user=user).select_related("workspace").order_by("workspace__name"))


def membership_in(user: Any, workspace: Workspace) -> Membership | None:
    return Membership.unscoped.filter(user=user, workspace=workspace).first()


def create_workspace(actor: Any, name: str, slug: str = "") -> Workspace:
    """A new brand; its creator becomes its admin. Admins of an existing brand (or the
    instance's superuser) may create brands, each at most SIYU["MAX_BRANDS_PER_USER"] of them
    (the superuser as many as they like)."""
    if not (actor.is_superuser or Membership.unscoped.filter(user=actor, role=Role.ADMIN).exists()):
        raise PermissionDenied(_("Only an administrator may create a brand."))
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the brand a name.")})
    slug = slugify(slug or name)
    if not slug:
        raise ValidationError({"slug": _("Give the brand a short name in Latin letters, digits or hyphens.")})
    if Workspace.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": _("The short name “%(slug)s” is taken.") % {"slug": slug}})
    with transaction.atomic():
        if not actor.is_superuser:
            # Locking the creator's row serialises their concurrent requests, so the cap holds.
            User.objects.select_for_update().get(pk=actor.pk)
            limit = settings.SIYU["MAX_BRANDS_PER_USER"]
            if Workspace.objects.filter(created_by=actor).count() >= limit:
                raise ValidationError(
                    _("You have created %(limit)s brands, the most one person may create. "
                      "Ask the operator of this instance if you need more.") % {"limit": limit}
                )
        workspace = Workspace.objects.create(name=name[:80], slug=slug[:40], created_by=actor)
        Membership.objects.create(workspace=workspace, user=actor, role=Role.ADMIN)
        audit(workspace, actor, AuditAction.WORKSPACE_CREATED, slug)
        events.publish(workspace, WorkspaceCreated(workspace_id=workspace.pk, slug=slug))
    return workspace


def list_members(workspace: Workspace, membership: Membership | None) -> list[Membership]:
    require(role_of(membership), Module.TEAM, Action.VIEW)
    return list(Membership.objects.for_workspace(workspace).select_related("user"))


def invite_member(workspace: Workspace, membership: Membership | None, role: str, note: str = "") -> Invitation:
    require(role_of(membership), Module.TEAM, Action.EDIT)
    if role not in Role.values:
        raise ValidationError({"role": _("Choose one of the team roles.")})
    invitation = Invitation.objects.create(
        workspace=workspace,
        token=secrets.token_urlsafe(32),
        role=role,
        note=note.strip()[:80],
        invited_by=membership.user if membership else None,
        expires_at=timezone.now() + INVITATION_VALID_FOR,
    )
    audit(workspace, membership.user if membership else None, AuditAction.MEMBER_INVITED, note, {"role": role})
    return invitation


def pending_invitations(workspace: Workspace, membership: Membership | None) -> list[Invitation]:
    require(role_of(membership), Module.TEAM, Action.VIEW)
    return list(
        Invitation.objects.for_workspace(workspace).filter(accepted_at__isnull=True, expires_at__gt=timezone.now())
    )


def open_invitation(token: str) -> Invitation:
    invitation = Invitation.unscoped.select_related("workspace").filter(token=token).first()
    if invitation is None or invitation.accepted_at is not None or invitation.expires_at <= timezone.now():
        raise ValidationError(_("This invitation link is invalid, used or expired."))
    return invitation


def accept_invitation(token: str, username: str, password: str, user: Any = None) -> Membership:
    """Join the invitation's brand, as a new user (username + password) or as the signed-in user."""
    with transaction.atomic():
        invitation = open_invitation(token)
        if user is None or not user.is_authenticated:
            username = username.strip()
            if not username:
                raise ValidationError({"username": _("Choose a username.")})
            if User.objects.filter(username__iexact=username).exists():
                raise ValidationError({"username": _("This username is taken.")})
            candidate = User(username=username)
            validate_password(password, candidate)
            candidate.set_password(password)
            candidate.save()
            user = candidate
        if Membership.unscoped.filter(workspace=invitation.workspace, user=user).exists():
            raise ValidationError(_("You are already a member of this brand."))
        claimed = Invitation.unscoped.filter(pk=invitation.pk, accepted_at__isnull=True).update(
            accepted_at=timezone.now(), accepted_by=user
        )
        if not claimed:
            raise ValidationError(_("This invitation link is invalid, used or expired."))
        seat = Membership.objects.create(workspace=invitation.workspace, user=user, role=invitation.role)
        audit(invitation.workspace, user, AuditAction.MEMBER_JOINED, user.get_username(), {"role": invitation.role})
        events.publish(invitation.workspace, MemberJoined(membership_id=seat.pk, user_id=user.pk, role=seat.role))
    return seat


def _admins_left_after(workspace: Workspace, seat: Membership) -> int:
    return Membership.objects.for_workspace(workspace).filter(role=Role.ADMIN).exclude(pk=seat.pk).count()


def change_role(workspace: Workspace, membership: Membership | None, member_id: int, role: str) -> Membership:
    require(role_of(membership), Module.TEAM, Action.EDIT)
    if role not in Role.values:
        raise ValidationError({"role": _("Choose one of the team roles.")})
    seat = Membership.objects.for_workspace(workspace).select_related("user").get(pk=member_id)
    if seat.role == Role.ADMIN and role != Role.ADMIN and _admins_left_after(workspace, seat) == 0:
        raise ValidationError(_("A brand needs at least one administrator."))
    old = seat.role
    seat.role = role
    seat.save(update_fields=["role"])
    audit(workspace, membership.user if membership else None, AuditAction.ROLE_CHANGED,
          seat.user.get_username(), {"from": old, "to": role})
    return seat


def remove_member(workspace: Workspace, membership: Membership | None, member_id: int) -> None:
    require(role_of(membership), Module.TEAM, Action.EDIT)
    seat = Membership.objects.for_workspace(workspace).select_related("user").get(pk=member_id)
    if seat.role == Role.ADMIN and _admins_left_after(workspace, seat) == 0:
        raise ValidationError(_("A brand needs at least one administrator."))
    seat.delete()
    audit(workspace, membership.user if membership else None, AuditAction.MEMBER_REMOVED,
          seat.user.get_username(), {"role": seat.role})


# --- API tokens ------------------------------------------------------------------------------

def _hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_token(workspace: Workspace, membership: Membership, name: str) -> tuple[ApiToken, str]:
    """A token for the member in this workspace; the key is shown once and only its hash kept."""
    if not name.strip():
        raise ValidationError({"name": _("Name the token so you recognise it later.")})
    key = f"siyu_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        workspace=workspace, user=membership.user, name=name.strip()[:60], prefix=key[:12], key_hash=_hash_key(key)
    )
    audit(workspace, membership.user, AuditAction.TOKEN_CREATED, token.name)
    return token, key


def api_tokens_of(workspace: Workspace, membership: Membership) -> list[ApiToken]:
    return list(ApiToken.objects.for_workspace(workspace).filter(user=membership.user))


def delete_api_token(workspace: Workspace, membership: Membership, token_id: int) -> None:
    token = ApiToken.objects.for_workspace(workspace).get(pk=token_id, user=membership.user)
    token.delete()
    audit(workspace, membership.user, AuditAction.TOKEN_DELETED, token.name)


def revoke_api_tokens(user: Any, actor: Any = None) -> int:
    """Delete all of the user's API tokens, in every brand, each audited in its brand. Called
    when the password changes: a token must not outlive the password that created it."""
    tokens = list(ApiToken.unscoped.filter(user=user).select_related("workspace"))
    if not tokens:
        return 0
    ApiToken.unscoped.filter(pk__in=[t.pk for t in tokens]).delete()
    for token in tokens:
        audit(token.workspace, actor, AuditAction.TOKEN_DELETED, token.name, {"reason": "password_changed"})
    return len(tokens)


def authenticate_token(key: str) -> tuple[ApiToken, Membership] | None:
    token = ApiToken.unscoped.select_related("workspace", "user").filter(key_hash=_hash_key(key)).first()
    if token is None or not token.user.is_active:
        return None
    seat = membership_in(token.user, token.workspace)
    if seat is None:
        return None
    ApiToken.unscoped.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token, seat


# --- overview figures ------------------------------------------------------------------------

@dataclass(frozen=True)
class Overview:
    members: int
    workspaces: int
    events_processed: int  # ever, from `EventTally`
    events_waiting: int  # with a run not done yet (queued, retrying or failed)
    runs_queued: int
    runs_failed: int
    events_per_hour: list[tuple[str, int]]


def overview(workspace: Workspace, user: Any, now: dt.datetime | None = None) -> Overview:
    """The event bus's figures for the console's Tasks page. Each query is bounded by the last 24
    hours or by the open part of the queue, never by the whole event history."""
    now = now or timezone.now()
    since = (now - dt.timedelta(hours=23)).replace(minute=0, second=0, microsecond=0)
    events_qs = EventRecord.objects.for_workspace(workspace)
    per_hour = dict(
        events_qs.filter(published_at__gte=since)
        .annotate(hour=TruncHour("published_at"))
        .values_list("hour")
        .annotate(n=Count("id"))
        .values_list("hour", "n")
    )
    per_hour_local = {timezone.localtime(h).strftime("%H:00"): n for h, n in per_hour.items()}
    hours = [timezone.localtime(since + dt.timedelta(hours=i)).strftime("%H:00") for i in range(24)]
    open_statuses = [RunStatus.PENDING, RunStatus.RUNNING, RunStatus.RETRYING]
    # Filtered in WHERE on (workspace, status), so done runs (the history) are never read.
    unfinished = SubscriberRun.objects.for_workspace(workspace).filter(status__in=[*open_statuses, RunStatus.FAILED])
    runs = unfinished.aggregate(
        queued=Count("id", filter=Q(status__in=open_statuses)),
        failed=Count("id", filter=Q(status=RunStatus.FAILED)),
        waiting=Count("event_id", distinct=True),
    )
    tally = EventTally.objects.for_workspace(workspace).values_list("processed", flat=True).first()
    return Overview(
        members=Membership.objects.for_workspace(workspace).count(),
        workspaces=Membership.unscoped.filter(user=user).count(),
        events_processed=tally or 0,
        events_waiting=runs["waiting"],
        runs_queued=runs["queued"],
        runs_failed=runs["failed"],
        events_per_hour=[(h, per_hour_local.get(h, 0)) for h in hours],
    )


# --- task runs -------------------------------------------------------------------------------

def list_runs(workspace: Workspace, membership: Membership | None, status: str = "", limit: int = 200) -> list[SubscriberRun]:
    """Event deliveries of this brand: queued, running, failed (failed first), with errors."""
    require(role_of(membership), Module.SYSTEM, Action.VIEW)
    runs = SubscriberRun.objects.for_workspace(workspace).select_related("event")
    runs = runs.filter(status=status) if status else runs.exclude(status=RunStatus.DONE)
    return list(runs.order_by("-due_at", "-id")[:limit])


def retry_failed_run(workspace: Workspace, membership: Membership | None, run_id: int) -> SubscriberRun:
    require(role_of(membership), Module.SYSTEM, Action.EDIT)
    run = SubscriberRun.objects.for_workspace(workspace).get(pk=run_id)
    if run.status not in (RunStatus.FAILED, RunStatus.RETRYING):
        raise ValidationError(_("Only a failed or waiting task can be retried."))
    events.retry_run(run)
    audit(workspace, membership.user if membership else None, AuditAction.TASK_RETRIED, run.subscriber, {"run": run.pk})
    run.refresh_from_db()
    return run


# --- the platform's health ------------------------------------------------------------------------

@dataclass(frozen=True)
class WorkerSeen:
    worker_id: str
    last_seen: dt.datetime
    alive: bool


@dataclass(frozen=True)
class QueueLane:
    """Tasks waiting at one priority (the welcome's lane runs above bookkeeping)."""

    priority: int
    waiting: int
    oldest_waiting_since: dt.datetime | None


@dataclass(frozen=True)
class SystemHealth:
    workers: list[WorkerSeen]
    leader: str  # the scheduler holding an unexpired lease, "" when none does
    lanes: list[QueueLane]
    running: int


def system_health(membership: Seat | None, now: dt.datetime | None = None) -> SystemHealth:
    """Workers and their heartbeats, the scheduler leader, and the task queue by priority. The
    queue is the platform's, shared by every brand: counts only, nothing of any brand's work."""
    require(role_of(membership), Module.SYSTEM, Action.VIEW)
    now = now or timezone.now()
    dead_before = now - dt.timedelta(seconds=settings.SIYU["WORKER_DEAD_AFTER_SECONDS"])
    workers = [WorkerSeen(w.worker_id, w.last_seen, w.last_seen >= dead_before)
               for w in WorkerHeartbeat.objects.order_by("-last_seen")[:50]]
    lease = SchedulerLease.objects.filter(expires_at__gt=now).first()
    ready = DBTaskResult.objects.ready()  # due now: the queue's own definition
    lanes = [QueueLane(row["priority"], row["n"], row["oldest"]) for row in
             ready.values("priority").annotate(n=Count("id"), oldest=Min("enqueued_at")).order_by("-priority")]
    running = DBTaskResult.objects.running().count()
    return SystemHealth(workers, lease.holder if lease else "", lanes, running)
