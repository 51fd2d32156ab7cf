"""Core records: workspaces (brands), members and roles, invitations, API tokens, the audit
log, the domain event inbox/outbox, worker heartbeats and the scheduler's state."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from siyu.core.permissions import Role
from siyu.core.tenancy import WorkspaceScoped


class Workspace(models.Model):
    """品牌 — a brand: the tenant every domain row belongs to."""

    name = models.CharField(_("brand name"), max_length=80)
    slug = models.SlugField(_("short name"), max_length=40, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Who created it in the console or the API (SIYU["MAX_BRANDS_PER_USER"] counts these).
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(WorkspaceScoped):
    """团队成员 — a user's seat in a workspace, with one team role."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(WorkspaceScoped.Meta):
        constraints = [models.UniqueConstraint(fields=["workspace", "user"], name="one_seat_per_user")]
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) @ {self.workspace_id}"


class Invitation(WorkspaceScoped):
    """邀请 — an invitation link that makes its holder a member with the given role."""

    token = models.CharField(max_length=64, unique=True)
    role = models.CharField(max_length=20, choices=Role.choices)
    note = models.CharField(max_length=80, blank=True)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta(WorkspaceScoped.Meta):
        ordering = ["-created_at"]


class ApiToken(WorkspaceScoped):
    """A personal API token for one workspace; only its SHA-256 is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=60)
    prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta(WorkspaceScoped.Meta):
        ordering = ["-created_at"]


class SignInCounter(models.Model):
    """Sign-in attempts of one (username, client) in the current lockout window.

    A row, not a cache entry: an attempt is claimed with a conditional UPDATE before the
    password is checked (`siyu.core.lockout`), which the database serialises on SQLite and
    PostgreSQL alike. The database cache's `incr` is a read-then-write, its `add` races on an
    expired key, and it culls entries when full, so a flood of other keys could erase a lockout."""

    key = models.CharField(max_length=64, unique=True)
    attempts = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)


class AuditAction(models.TextChoices):
    LOGIN = "login", _("Signed in")
    LOGIN_FAILED = "login_failed", _("Failed sign-in")
    LOGIN_LOCKED = "login_locked", _("Sign-in locked")
    WORKSPACE_CREATED = "workspace_created", _("Brand created")
    MEMBER_INVITED = "member_invited", _("Member invited")
    MEMBER_JOINED = "member_joined", _("Member joined")
    ROLE_CHANGED = "role_changed", _("Role changed")
    MEMBER_REMOVED = "member_removed", _("Member removed")
    TOKEN_CREATED = "token_created", _("API token created")
    TOKEN_DELETED = "token_deleted", _("API token deleted")
    EXPORT = "export", _("Export")
    DELETION = "deletion", _("Deletion")
    TASK_RETRIED = "task_retried", _("Task retried")
    SETTINGS_CHANGED = "settings_changed", _("Settings changed")
    TRANSFER_REQUESTED = "transfer_requested", _("Customer transfer requested")
    PASSWORD_CHANGED = "password_changed", _("Password changed")
    CREATED = "created", pgettext_lazy("audit action", "Created")
    UPDATED = "updated", pgettext_lazy("audit action", "Changed")
    REDEEMED = "redeemed", pgettext_lazy("audit action", "Redeemed")


class AuditEntry(WorkspaceScoped):
    """审计日志 — one sensitive action: who, what, on what, from where."""

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_name = models.CharField(max_length=150, blank=True)
    # The app the change belongs to (its label: "channels", "ip", …), for the module filter.
    module = models.CharField(max_length=30, blank=True, default="")
    action = models.CharField(max_length=30, choices=AuditAction.choices)
    target = models.CharField(max_length=200, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta(WorkspaceScoped.Meta):
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["workspace", "module", "at"], name="audit_module_at")]


class EventRecord(WorkspaceScoped):
    """A published domain event: the outbox its subscribers' runs hang from."""

    name = models.CharField(max_length=80, db_index=True)
    payload = models.JSONField()
    dedupe_key = models.CharField(max_length=200, null=True, blank=True)
    occurred_at = models.DateTimeField(db_index=True)
    published_at = models.DateTimeField(auto_now_add=True)
    # Set once, when the last of its runs is done (or at publication with no subscribers): the
    # claim that counts it in `EventTally` exactly once.
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta(WorkspaceScoped.Meta):
        constraints = [
            models.UniqueConstraint(fields=["workspace", "dedupe_key"], name="event_dedupe_per_workspace")
        ]
        indexes = [models.Index(fields=["workspace", "published_at"])]
        ordering = ["-published_at", "-id"]


class RunStatus(models.TextChoices):
    PENDING = "pending", _("Queued")
    RUNNING = "running", _("Running")
    RETRYING = "retrying", _("Waiting to retry")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class SubscriberRun(WorkspaceScoped):
    """One subscriber's handling of one event, with its own attempts, error and retry.

    `generation` changes whenever the run is (re-)enqueued; a task carrying an older
    generation finds nothing to claim, so a run is never handled by two tasks at once.
    """

    event = models.ForeignKey(EventRecord, on_delete=models.CASCADE, related_name="runs")
    subscriber = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.PENDING)
    generation = models.PositiveIntegerField(default=1)
    task_id = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    due_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(WorkspaceScoped.Meta):
        constraints = [models.UniqueConstraint(fields=["event", "subscriber"], name="one_run_per_subscriber")]
        indexes = [models.Index(fields=["status", "due_at"]), models.Index(fields=["workspace", "status"])]
        ordering = ["-id"]


class EventTally(WorkspaceScoped):
    """A brand's running count of processed events (the Tasks page's figure), kept up as events
    finish so the page never counts the whole event history."""

    processed = models.BigIntegerField(default=0)

    class Meta(WorkspaceScoped.Meta):
        constraints = [models.UniqueConstraint(fields=["workspace"], name="one_event_tally_per_workspace")]


class WorkerHeartbeat(models.Model):
    """A live worker process; a stale heartbeat means its running task must be re-queued."""

    worker_id = models.CharField(max_length=64, primary_key=True)
    pid = models.PositiveIntegerField()
    hostname = models.CharField(max_length=200)
    started_at = models.DateTimeField()
    last_seen = models.DateTimeField()


class SchedulerLease(models.Model):
    """The scheduler's leader lock: only the holder of an unexpired lease fires jobs."""

    name = models.CharField(max_length=40, primary_key=True)
    holder = models.CharField(max_length=80)
    expires_at = models.DateTimeField()


class ScheduledJobState(models.Model):
    """When a cron job is next due; advanced with a conditional UPDATE so it fires once."""

    name = models.CharField(max_length=100, primary_key=True)
    next_run_at = models.DateTimeField()
    last_fired_at = models.DateTimeField(null=True, blank=True)
    fired_count = models.PositiveIntegerField(default=0)


class Notification(WorkspaceScoped):
    """站内通知 — a console notification for one member (a churn alert, a capacity alert...)."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=40)
    # Title and body are kept as message ids with their `params` and translated when shown, so
    # each member reads them in the console's language of the moment.
    title = models.CharField(max_length=120)
    body = models.CharField(max_length=500, blank=True)
    params = models.JSONField(default=dict, blank=True)
    url = models.CharField(max_length=300, blank=True)
    dedupe_key = models.CharField(max_length=120, blank=True)  # one notice per member per cause
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta(WorkspaceScoped.Meta):
        constraints = [models.UniqueConstraint(fields=["membership", "dedupe_key"], condition=~models.Q(dedupe_key=""),
                                               name="notification_dedupe")]
        indexes = [models.Index(fields=["membership", "read_at", "-created_at"])]
        ordering = ["-created_at", "-id"]

    def _shown(self, message: str) -> str:
        if not message:
            return ""
        for text in (gettext(message), message):  # the source if a translation's placeholders drifted
            try:
                return text % self.params if self.params else text
            except (KeyError, TypeError, ValueError):
                continue
        return message

    @property
    def shown_title(self) -> str:
        return self._shown(self.title)

    @property
    def shown_body(self) -> str:
        return self._shown(self.body)
