"""Console pages. Thin: parse the form, call a service, render; services check roles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_POST

from siyu.channels.services import daily
from siyu.console import roles, task_labels
from siyu.console.forms import (
    InviteForm,
    JoinForm,
    LoginForm,
    PasswordForm,
    RoleForm,
    TokenForm,
    WorkspaceForm,
)
from siyu.core import services
from siyu.core.middleware import SESSION_WORKSPACE_KEY
from siyu.core.models import RunStatus
from siyu.core.permissions import Action, Module, Role, allows
from siyu.web import MemberRequest, apply_errors, client_ip, member_page
from siyu.wecom import services as wecom


def login_view(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.sign_in(form.cleaned_data["username"], form.cleaned_data["password"], client_ip(request))
        except services.LoginRefused as refused:
            form.add_error(None, str(refused))
            return render(request, "console/login.html", {"form": form}, status=429 if refused.locked else 200)
        login(request, user)
        return redirect(_next_page(request))
    return render(request, "console/login.html", {"form": form})


def _next_page(request: HttpRequest) -> str:
    """Where to go after signing in: `?next=` if it is a path on this site, else the home page.
    Only an absolute path with a single leading slash is taken, never another host, a scheme
    (`javascript:`) or a relative name, which `redirect` would try to reverse (a 500)."""
    wanted = request.GET.get("next", "")
    if (
        wanted.startswith("/")
        and not wanted.startswith("//")
        and "\\" not in wanted
        and url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    ):
        return wanted
    return resolve_url("console:home")


@login_required
def password(request: HttpRequest) -> HttpResponse:
    user: Any = request.user  # signed in: login_required
    form = PasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            revoked = services.change_password(user, data["current_password"], data["new_password"], data["new_password2"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            update_session_auth_hash(request, user)  # this session stays; the others end
            if revoked:
                messages.success(request, _(
                    "Password changed. Your API tokens (%(count)s) were revoked: create new ones where you need them."
                ) % {"count": revoked})
            else:
                messages.success(request, _("Password changed."))
            return redirect("console:home")
    return render(request, "console/password.html", {"form": form})


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("console:login")


@dataclass(frozen=True)
class Card:
    """One of the home page's figures as shown: today, yesterday, the week's trend."""

    key: str
    label: str
    figure: daily.Figure
    up_is_good: bool
    url: str = ""

    @property
    def arrow(self) -> str:
        return "↑" if self.figure.change > 0 else "↓" if self.figure.change < 0 else "→"

    @property
    def tone(self) -> str:
        if not self.figure.change:
            return "text-secondary"
        return "text-green" if (self.figure.change > 0) == self.up_is_good else "text-red"


def _cards(figures: daily.DailyFigures, role: str) -> list[Card]:
    channels = allows(role, Module.CHANNELS, Action.VIEW)
    cards = [
        Card("adds", pgettext("overview", "Adds today"), figures.adds, True, reverse("channels:analytics") if channels else ""),
        Card("net", pgettext("overview", "Net adds today"), figures.net, True, reverse("channels:analytics") if channels else ""),
        Card("churn", pgettext("overview", "Churn today"), figures.churn, False, reverse("customers:churn")),
    ]
    if figures.welcome_missed is not None:
        cards.append(Card("welcome_missed", pgettext("overview", "Welcome messages missed today"), figures.welcome_missed, False))
    return cards


@member_page
def home(request: MemberRequest) -> HttpResponse:
    """今日概况: the ops numbers of today and their trends, for roles that see customers."""
    role = request.membership.role
    if not allows(role, Module.CUSTOMERS, Action.VIEW):
        return render(request, "console/home.html", {"cards": [], "chart": None})
    figures = daily.daily_figures(request.workspace, request.membership)
    chart = {
        "days": [d.strftime("%m-%d") for d in figures.days],
        "series": [{"name": str(label), "data": figure.series} for label, figure in (
            (pgettext("overview", "Adds"), figures.adds), (_("Net adds"), figures.net), (_("Churn"), figures.churn))],
        "empty": _("No adds or losses in the last 14 days yet.")
        if not any(figures.adds.series + figures.churn.series + figures.net.series) else "",
        "hint": _("Customers who add a staff account show here the same day."),
    }
    return render(request, "console/home.html", {"cards": _cards(figures, role), "chart": chart})


@member_page
@require_POST
def switch_workspace(request: MemberRequest) -> HttpResponse:
    seat = next((m for m in services.memberships_of(request.user) if str(m.workspace_id) == request.POST.get("workspace")), None)
    if seat is not None:
        request.session[SESSION_WORKSPACE_KEY] = seat.workspace_id
    return redirect("console:home")


@member_page
def workspace_new(request: MemberRequest) -> HttpResponse:
    form = WorkspaceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            workspace = services.create_workspace(request.user, form.cleaned_data["name"], form.cleaned_data["slug"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            request.session[SESSION_WORKSPACE_KEY] = workspace.pk
            messages.success(request, _("Brand “%(name)s” created. You are its administrator.") % {"name": workspace.name})
            return redirect("console:home")
    return render(request, "console/workspace_new.html", {"form": form})


@member_page
def team(request: MemberRequest) -> HttpResponse:
    workspace, seat = request.workspace, request.membership
    members = services.list_members(workspace, seat)
    invite_form = InviteForm(request.POST or None) if request.method == "POST" else InviteForm()
    new_link = None
    if (request.method == "POST" and invite_form.is_valid() and invite_form.cleaned_data["role"] == Role.ADMIN
            and request.POST.get("confirmed") != "1"):  # console.js sets it once the person said yes
        invite_form.add_error("role", _("Inviting an administrator needs your confirmation."))
    if request.method == "POST" and invite_form.is_valid():
        try:
            invitation = services.invite_member(workspace, seat, invite_form.cleaned_data["role"], invite_form.cleaned_data["note"])
        except ValidationError as exc:
            apply_errors(invite_form, exc)
        else:
            new_link = request.build_absolute_uri(f"/join/{invitation.token}/")
            invite_form = InviteForm()
    return render(request, "console/team.html", {
        "members": members,
        "invitations": services.pending_invitations(workspace, seat),
        "invite_form": invite_form,
        "new_link": new_link,
        "roles": Role.choices,
        "can_edit": allows(seat.role, Module.TEAM, Action.EDIT),
    })


@member_page
def team_roles(request: MemberRequest) -> HttpResponse:
    """What each role may do, for every member (so each can see what their own role allows)."""
    return render(request, "console/team_roles.html", {
        "guides": roles.role_guides(), "matrix": roles.matrix_rows(), "roles": Role.choices,
        "meanings": roles.action_meanings(),
    })


@member_page
@require_POST
def member_role(request: MemberRequest, member_id: int) -> HttpResponse:
    form = RoleForm(request.POST)
    if form.is_valid():
        granting_admin = form.cleaned_data["role"] == Role.ADMIN and not any(
            m.pk == member_id and m.role == Role.ADMIN for m in services.list_members(request.workspace, request.membership))
        if granting_admin and not form.cleaned_data["confirmed"]:
            messages.error(request, _("Granting the administrator role needs your confirmation: nothing was changed."))
            return redirect("console:team")
        try:
            services.change_role(request.workspace, request.membership, member_id, form.cleaned_data["role"])
            messages.success(request, _("Role changed."))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    return redirect("console:team")


@member_page
@require_POST
def member_remove(request: MemberRequest, member_id: int) -> HttpResponse:
    try:
        services.remove_member(request.workspace, request.membership, member_id)
        messages.success(request, _("Member removed."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("console:team")


def join(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = services.open_invitation(token)
    except ValidationError as exc:
        return render(request, "console/join_invalid.html", {"reason": " ".join(exc.messages)}, status=404)
    form = JoinForm(request.POST or None)
    if request.method == "POST" and (request.user.is_authenticated and "accept" in request.POST or form.is_valid()):
        try:
            seat = services.accept_invitation(
                token, form.data.get("username", ""), form.data.get("password", ""), request.user
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            if not request.user.is_authenticated:
                login(request, seat.user, backend="django.contrib.auth.backends.ModelBackend")
            request.session[SESSION_WORKSPACE_KEY] = seat.workspace_id
            return redirect("console:home")
    return render(request, "console/join.html", {"form": form, "invitation": invitation})


@member_page
def tasks(request: MemberRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    runs = services.list_runs(request.workspace, request.membership, status if status in RunStatus.values else "")
    health = services.system_health(request.membership)
    backlog, oldest_callback = wecom.inbox_backlog(request.workspace)
    figures = services.overview(request.workspace, request.user)  # the event bus's counts
    chart = {"hours": [h for h, _n in figures.events_per_hour], "counts": [n for _h, n in figures.events_per_hour],
             "empty": "" if any(n for _h, n in figures.events_per_hour) else _("No event in the last 24 hours.")}
    return render(request, "console/tasks.html", {
        "runs": [(run, task_labels.run_label(run)) for run in runs], "status": status,
        "statuses": RunStatus.choices, "health": health,
        "backlog": backlog, "oldest_callback": oldest_callback, "figures": figures, "chart": chart,
    })


@member_page
@require_POST
def task_retry(request: MemberRequest, run_id: int) -> HttpResponse:
    try:
        services.retry_failed_run(request.workspace, request.membership, run_id)
        messages.success(request, _("Queued again."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("console:tasks")


@member_page
def tokens(request: MemberRequest) -> HttpResponse:
    workspace, seat = request.workspace, request.membership
    form = TokenForm(request.POST or None)
    new_key = None
    if request.method == "POST":
        if request.POST.get("delete", "").isdigit():
            services.delete_api_token(workspace, seat, int(request.POST["delete"]))
            messages.success(request, _("Token deleted."))
            return redirect("console:tokens")
        if form.is_valid():
            try:
                _token, new_key = services.create_api_token(workspace, seat, form.cleaned_data["name"])
                form = TokenForm()
            except ValidationError as exc:
                apply_errors(form, exc)
    return render(request, "console/tokens.html", {
        "form": form, "tokens": services.api_tokens_of(workspace, seat), "new_key": new_key,
    })
