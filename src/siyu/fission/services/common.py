"""What the fission services share: the module's role checks."""

from __future__ import annotations

from siyu.core.permissions import Action, Seat, allows, require, role_of

MODULE = "fission"


def require_view(membership: Seat | None) -> None:
    require(role_of(membership), MODULE, Action.VIEW)


def require_edit(membership: Seat | None) -> None:
    require(role_of(membership), MODULE, Action.EDIT)


def require_approve(membership: Seat | None) -> None:
    require(role_of(membership), MODULE, Action.APPROVE)


def can_edit(membership: Seat | None) -> bool:
    role = role_of(membership)
    return role is not None and allows(role, MODULE, Action.EDIT)


def can_approve(membership: Seat | None) -> bool:
    role = role_of(membership)
    return role is not None and allows(role, MODULE, Action.APPROVE)
