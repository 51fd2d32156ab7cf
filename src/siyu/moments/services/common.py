"""What every moments service shares: the module's role checks and the audit subject."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from siyu.core.permissions import Action, Seat, allows, require, role_of

MODULE = "moments"
SUBJECT = gettext_lazy("moment post")


def require_view(membership: Seat | None) -> None:
    require(role_of(membership), MODULE, Action.VIEW)


def require_edit(membership: Seat | None) -> None:
    require(role_of(membership), MODULE, Action.EDIT)


def can_edit(membership: Seat | None) -> bool:
    return allows(role_of(membership) or "", MODULE, Action.EDIT)
