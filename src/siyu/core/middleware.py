from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from siyu.core.models import Membership
from siyu.core.tenancy import workspace_context

SESSION_WORKSPACE_KEY = "siyu_workspace_id"


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
        request.membership = None  # type: ignore[attr-defined]
        request.workspace = None  # type: ignore[attr-defined]
        if request.user.is_authenticated:
            seats = Membership.unscoped.filter(user=request.user).select_related("workspace")
            wanted = request.session.get(SESSION_WORKSPACE_KEY)
            seat = seats.filter(workspace_id=wanted).first() if wanted else None
            seat = seat or seats.order_by("workspace__name").first()
            if seat is not None:
                request.membership = seat  # type: ignore[attr-defined]
                request.workspace = seat.workspace  # type: ignore[attr-defined]
        with workspace_context(request.workspace):  # type: ignore[attr-defined]
            return self.get_response(request)
