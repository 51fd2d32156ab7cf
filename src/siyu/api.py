"""The JSON API under /api/ (django-ninja): session or token auth, errors in one place."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.module_loading import import_string
from ninja import NinjaAPI
from ninja.security import APIKeyHeader, SessionAuth

from siyu.core import services
from siyu.core.contract import siyu_apps
from siyu.core.middleware import seat_request
from siyu.core.tenancy import switch_request_workspace


class WorkspaceSession(SessionAuth):
    """Session sign-in; the workspace is the session's current one (CurrentWorkspaceMiddleware)."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        if user is None or getattr(request, "membership", None) is None:
            return None
        return user


class WorkspaceToken(APIKeyHeader):
    """`Authorization: Bearer siyu_...`; the token belongs to one workspace."""

    param_name = "Authorization"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        if not key or not key.startswith("Bearer "):
            return None
        found = services.authenticate_token(key.removeprefix("Bearer ").strip())
        if found is None:
            return None
        token, seat = found
        request.user = token.user
        seat_request(request, seat)
        # The request's tenancy context follows the token, not the session.
        switch_request_workspace(seat.workspace)
        return token.user


api = NinjaAPI(
    title="Siyu API",
    version="1",
    urls_namespace="api",
    auth=[WorkspaceToken(), WorkspaceSession()],
    docs_url="/docs",
)


def _error(request: HttpRequest, status: int, message: Any, **extra: Any) -> HttpResponse:
    return api.create_response(request, {"detail": message, **extra}, status=status)


@api.exception_handler(PermissionDenied)
def permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return _error(request, 403, str(exc) or "permission denied")


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return _error(request, 422, "invalid input", errors=errors)


@api.exception_handler(ObjectDoesNotExist)
def not_found(request: HttpRequest, exc: ObjectDoesNotExist) -> HttpResponse:
    return _error(request, 404, "not found")


# Each installed app's routers, under the prefixes its contract declares.
for app in siyu_apps():
    for prefix, router in app.api_routers:
        api.add_router(prefix, import_string(router))
