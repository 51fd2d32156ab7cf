"""Role checks and errors the points services share."""

from __future__ import annotations

from siyu.core.permissions import Action, Seat, allows, require, role_of

MODULE = "points"


class PointsError(Exception):
    """A refusal the fan or the operator is told about (not enough points, out of stock, ...)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotEnoughPoints(PointsError):
    pass


class OutOfStock(PointsError):
    pass


def require_view(membership: Seat | None) -> None:
    require(role_of(membership), MODULE, Action.VIEW)


def require_edit(membership: Seat | None) -> None:
    require(role_of(membership), MODULE, Action.EDIT)


def require_adjust(membership: Seat | None) -> None:
    """Manual adjustments are for the ops lead and admins (the column's approve letter)."""
    require(role_of(membership), MODULE, Action.APPROVE)


def can_edit(membership: Seat | None) -> bool:
    return allows(role_of(membership) or "", MODULE, Action.EDIT)


def can_adjust(membership: Seat | None) -> bool:
    return allows(role_of(membership) or "", MODULE, Action.APPROVE)
