"""What the activity services share: the module they are checked against, and the role checks."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from siyu.core.permissions import Action, Seat, allows, require, role_of

# Activities are a section of 社群: they are checked against the community column.
MODULE = "community"
SUBJECT = gettext_lazy("activity")


def require_view(membership: Seat | None) -> None:
    require(role_of(membership), MODULE, Action.VIEW)


def require_edit(membership: Seat | None) -> None:
    require(role_of(membership), MODULE, Action.EDIT)


def can(membership: Seat | None, action: Action) -> bool:
    role = role_of(membership)
    return role is not None and allows(role, MODULE, action)
