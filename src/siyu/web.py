"""The web kit every app's pages and API routes use: the typed member request, the `member_page`
decorator, small helpers for forms, uploads and the caller's address, and the API's bounded
numbered pages.

It depends on `siyu.core` (and Django) only, never on a domain app or on the console; the
templates it renders (`console/no_workspace.html`, `console/denied.html`) are looked up by name.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.functional import Promise
from ninja import Field
from ninja.pagination import PageNumberPagination

from siyu.core.bounds import MAX_PAGE

if TYPE_CHECKING:
    from django_htmx.middleware import HtmxDetails

    from siyu.core.models import Membership, Workspace


class MemberRequest(HttpRequest):
    """A request from a member seated in a workspace. Only a type, never instantiated: the
    session's seat is put on the request by `siyu.core.middleware.CurrentWorkspaceMiddleware`
    and checked by `member_page`; an API call's seat is its token's or its session's (the
    authentication of `siyu.api`), so ninja routes annotate their request with it too."""

    workspace: Workspace
    membership: Membership
    htmx: HtmxDetails


def client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR")


def choice_field(form: forms.BaseForm, name: str) -> forms.ChoiceField:
    """The form's choice field `name`, to set its choices in `__init__` (`form.fields` holds
    plain `Field`s as far as the types go)."""
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField), f"{name} is not a choice field"
    return field


class DayInput(forms.DateInput):
    """A date field's `<input type="date">`. Its value is always ISO (`2026-12-05`), the only
    form the browser accepts: Django would otherwise write the active language's first input
    format (`2026/12/05` in Chinese), which the browser drops, leaving the field empty."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class MinuteInput(forms.DateTimeInput):
    """A `<input type="datetime-local">` to the minute, with the ISO value it requires
    (`2026-12-05T09:30`) whatever the active language."""

    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


def apply_errors(form: forms.Form, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form's fields (or the form itself)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def private_file(handle: Any, content_type: str) -> FileResponse:
    """An uploaded file streamed to a signed-in member of its brand: never cached by shared
    caches, never sniffed or run as anything but its declared type."""
    response = FileResponse(handle, content_type=content_type)
    response["Cache-Control"] = "private, max-age=300"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'"
    return response


def member_page(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Signed in and seated in a workspace (the view's request is a `MemberRequest`); a refused
    permission renders the 403 page."""

    @wraps(view)
    @login_required
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if getattr(request, "membership", None) is None:
            return render(request, "console/no_workspace.html", status=403)
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied as exc:
            return render(request, "console/denied.html", {"reason": str(exc)}, status=403)
        except ObjectDoesNotExist as exc:
            # Rows of other brands are not found, not forbidden: their existence is not revealed.
            raise Http404 from exc

    return wrapper


class NumberedPages(PageNumberPagination):
    """ninja's numbered pages (`?page=N`) for API lists, with the page number bounded
    (`siyu.core.bounds.MAX_PAGE`) so the row offset it makes fits the database."""

    class Input(PageNumberPagination.Input):
        page: int = Field(1, ge=1, le=MAX_PAGE)


# --- pickers --------------------------------------------------------------------------------------

class PickerMultiple(forms.CheckboxSelectMultiple):
    """A searchable list of checkboxes, grouped like the field's choices (`(group, [(value,
    label), …])`): a filter box above them hides what does not match (`console/picker.js`).
    Rendered by `console/widgets/picker.html`, which loads the script itself."""

    template_name = "console/widgets/picker.html"
    is_picker = True

    def __init__(self, attrs: dict[str, Any] | None = None, *, search_label: str | Promise = "") -> None:
        super().__init__(attrs)
        self.search_label = search_label

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["widget"]["search_label"] = self.search_label
        return context


class PickedValues(forms.MultipleChoiceField):
    """Values picked from a list the service owns: whether each is known is the service's call,
    so an unknown value (a stale page, an API-made id) gets the service's message naming it."""

    widget = PickerMultiple

    def valid_value(self, value: Any) -> bool:
        return True
