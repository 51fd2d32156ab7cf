"""What the content services share: the permission column and small text checks."""

from __future__ import annotations

from django.utils.translation import gettext as _

from siyu.core.permissions import Action, Seat, allows, require, role_of

MODULE = "content"
TAG_MAX_ITEMS = 20
TAG_MAX_CHARS = 20


def require_view(membership: Seat | None) -> None:
    require(role_of(membership), MODULE, Action.VIEW)


def require_edit(membership: Seat | None) -> None:
    require(role_of(membership), MODULE, Action.EDIT)


def can_edit(membership: Seat | None) -> bool:
    role = role_of(membership)
    return role is not None and allows(role, MODULE, Action.EDIT)


def clean_text(value: str | None, field: str, max_chars: int, errors: dict[str, list[str]], *,
               required_message: str | None = None) -> str:
    text = (value or "").strip()
    if not text and required_message:
        errors.setdefault(field, []).append(required_message)
    elif len(text) > max_chars:
        errors.setdefault(field, []).append(_("Keep this within %(n)s characters.") % {"n": max_chars})
    if "\x00" in text:
        errors.setdefault(field, []).append(_("This text holds a character that cannot be stored."))
    return text


def clean_tags(values: list[str] | None, errors: dict[str, list[str]]) -> list[str]:
    """Free tags: stripped, without blanks or repeats, order kept."""
    seen: list[str] = []
    for raw in values or []:
        item = str(raw or "").strip()
        if item and item not in seen:
            seen.append(item)
    if len(seen) > TAG_MAX_ITEMS:
        errors.setdefault("tags", []).append(_("At most %(n)s tags, please.") % {"n": TAG_MAX_ITEMS})
    if any(len(t) > TAG_MAX_CHARS for t in seen):
        errors.setdefault("tags", []).append(_("Keep each tag within %(n)s characters.") % {"n": TAG_MAX_CHARS})
    return seen
