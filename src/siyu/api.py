"""The JSON API under /api/ (django-ninja): session or token auth, errors in one place."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.module_loading import import_string
from ninja import NinjaAPI
from ninja.security import APIKeyHeader, SessionAuth

from siyu.core import bounds, services
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


def signed_in_docs(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """`/api/openapi.json` and `/api/docs` are for signed-in users and API-token holders only:
    the schema maps every route and parameter, which strangers need not be shown. A browser is
    sent to the sign-in page; a program gets 401."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        header = request.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
        if request.user.is_authenticated or (token and services.authenticate_token(token) is not None):
            return view(request, *args, **kwargs)
        match = request.resolver_match
        if match is not None and match.url_name == "openapi-json":
            return JsonResponse({"detail": "Sign in, or send an API token: Authorization: Bearer <token>."}, status=401)
        return redirect_to_login(request.get_full_path())

    return guarded


api = NinjaAPI(
    title="Siyu API",
    version="1",
    urls_namespace="api",
    auth=[WorkspaceToken(), WorkspaceSession()],
    docs_url="/docs",
    docs_decorator=signed_in_docs,
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


def within_bounds(view: Callable[..., Any]) -> Callable[..., Any]:
    """Every operation's parameters, once validated, checked against `siyu.core.bounds`: whole
    numbers that fit a database integer, finite numbers, days in range, text without NUL or
    unpaired surrogates, down to the values inside a JSON body (segment rules, custom fields).
    One check for all routes, so an edge value is a 422 saying what is wrong, not a 500."""

    @wraps(view)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        found = bounds.problems(kwargs)
        if found:
            raise ValidationError(found)
        return view(request, *args, **kwargs)

    return checked


api.add_decorator(within_bounds)


# Each installed app's routers, under the prefixes its contract declares.
for app in siyu_apps():
    for prefix, router in app.api_routers:
        api.add_router(prefix, import_string(router))
