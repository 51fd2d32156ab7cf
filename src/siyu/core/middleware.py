from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import cast

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from siyu.core.models import Membership, Workspace
from siyu.core.tenancy import workspace_context

SESSION_WORKSPACE_KEY = "siyu_workspace_id"


class SeatedRequest(HttpRequest):
    """A request as `seat_request` leaves it: the seat and its workspace, or None and None.
    Only a type, never instantiated (`siyu.web.MemberRequest` is one with a seat for certain)."""

    membership: Membership | None
    workspace: Workspace | None


def seat_request(request: HttpRequest, seat: Membership | None) -> SeatedRequest:
    """Put the seat (the session's, or an API token's) and its workspace on the request."""
    seated = cast(SeatedRequest, request)
    seated.membership = seat
    seated.workspace = seat.workspace if seat is not None else None
    return seated


class ConsoleLanguageMiddleware:
    """Simplified Chinese unless the user chose another language (remembered in a cookie);
    the browser's Accept-Language is deliberately not consulted."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.supported = {code for code, _ in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in self.supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        translation.deactivate()
        return response


class CurrentWorkspaceMiddleware:
    """Puts the signed-in user's current workspace (kept in the session, checked against their
    memberships) on the request and into the tenancy context for the whole request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        seat = None
        if request.user.is_authenticated:
            seats = Membership.unscoped.filter(user=request.user).select_related("workspace")
            wanted = request.session.get(SESSION_WORKSPACE_KEY)
            seat = seats.filter(workspace_id=wanted).first() if wanted else None
            seat = seat or seats.order_by("workspace__name").first()
        seated = seat_request(request, seat)
        with workspace_context(seated.workspace):
            return self.get_response(request)


class ContentSecurityPolicyMiddleware:
    """A strict Content-Security-Policy on every response that does not set its own.

    The console loads nothing from another origin: scripts and styles are files of this site,
    inline `<script>` elements carry the request's nonce (`{{ request.csp_nonce }}`), and event
    handlers are bound from `console/console.js`, never written as `onclick=`. Style attributes
    stay allowed (`style-src-attr`): the templates and ECharts' tooltips use them, and an
    attribute cannot select or read other elements.

    Alpine's standard build compiles `x-*` expressions with `new Function`, so a page whose
    template uses them says `{% load csp %}{% csp_allows_eval %}` and only that page's policy
    has 'unsafe-eval'; everywhere else an injected `x-data` runs nothing.
    Clickjacking (X-Frame-Options: DENY), MIME sniffing (nosniff) and the referrer
    (same-origin) are Django's SecurityMiddleware and XFrameOptionsMiddleware defaults."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        nonce = secrets.token_urlsafe(16)
        request.csp_nonce = nonce  # type: ignore[attr-defined]
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = content_security_policy(
                nonce, allow_eval=getattr(request, "csp_allows_eval", False)
            )
        return response


def content_security_policy(nonce: str, allow_eval: bool = False) -> str:
    scripts = f"'self' 'nonce-{nonce}'" + (" 'unsafe-eval'" if allow_eval else "")
    return "; ".join([
        "default-src 'self'",
        f"script-src {scripts}",
        "style-src 'self'",
        "style-src-attr 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])
