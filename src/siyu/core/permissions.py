"""The permission matrix: which team role may view, edit, export or approve what, per module.

One column per module: core writes its own (team, audit, system) here, and each domain app
declares its column in its contract (`siyu.core.contract.SiyuApp.permission_column`). Enforced in
services through `require`. Letters: v view, e edit, x export, a approve; `-` nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    OPS_LEAD = "ops_lead", _("Ops lead")
    COPYWRITER = "copywriter", _("Copywriter")
    PLANNER = "planner", _("Planner")
    CUSTOMER_OPS = "customer_ops", _("Customer ops")
    DATA_ANALYST = "data_analyst", _("Data analyst")
    MERCHANDISER = "merchandiser", _("Merchandiser")


class Seat(Protocol):
    """Who acts in a service call: a member's `siyu.core.models.Membership`, or the command
    line's `siyu.core.services.OPERATOR` (an admin seat with no user). Services read its role
    (through `role_of`) and its user (for audit entries and `created_by`, None for the operator)."""

    @property
    def role(self) -> str: ...

    @property
    def user(self) -> AbstractBaseUser | None: ...


class Module:
    """Keys of the matrix's columns. Core owns team, audit and system; each domain app declares
    its column in its contract (`SiyuApp.permission_column`). The constants name the columns that
    code of several apps shares; a new app may use its own key without adding one here."""

    IP = "ip"
    CHANNELS = "channels"
    CUSTOMERS = "customers"
    TEAM = "team"
    AUDIT = "audit"
    SYSTEM = "system"


class Action(models.TextChoices):
    VIEW = "v", _("view")
    EDIT = "e", _("edit")
    EXPORT = "x", _("export")
    APPROVE = "a", _("approve")


@dataclass(frozen=True)
class PermissionColumn:
    """One module's column of the matrix: for each role, the letters it is granted
    (`"vexa"`, `"v"`, `"-"` for nothing). Every role must have a cell."""

    module: str
    label: Promise | str
    grants: Mapping[str, str]
    order: int = 100

    def __post_init__(self) -> None:
        if set(self.grants) != set(Role.values):
            raise ValueError(f"permission column {self.module!r} needs a cell for every role")
        for cell in self.grants.values():
            if cell != "-" and not set(cell) <= set(Action.values):
                raise ValueError(f"permission column {self.module!r}: bad cell {cell!r}")

    def actions(self, role: str) -> frozenset[Action]:
        return frozenset(Action(letter) for letter in self.grants[role] if letter != "-")


def _column(module: str, label: Promise, cells: str, order: int) -> PermissionColumn:
    """A column written as one cell per role, in `Role` order."""
    return PermissionColumn(module, label, dict(zip(Role.values, cells.split(), strict=True)), order)


#                        admin ops_lead copywriter planner customer_ops data_analyst merchandiser
_CORE_COLUMNS = [
    _column(Module.TEAM, _("Team & roles"),         "vexa  v  -  -  -  -  -", order=900),
    _column(Module.AUDIT, _("Audit log"),           "vx    -  -  -  -  -  -", order=910),
    _column(Module.SYSTEM, _("Tasks & connector"),  "vexa  v  -  -  -  -  -", order=920),
]
_columns: dict[str, PermissionColumn] = {c.module: c for c in _CORE_COLUMNS}


def register_column(column: PermissionColumn) -> None:
    """Add an app's column (its `AppConfig.ready`); a module has exactly one column."""
    existing = _columns.get(column.module)
    if existing is not None and existing != column:
        raise ValueError(f"two apps declare the permission column {column.module!r}")
    _columns[column.module] = column


def columns() -> list[PermissionColumn]:
    return sorted(_columns.values(), key=lambda c: (c.order, c.module))


def module_label(module: str) -> str:
    return str(_columns[module].label)


def permissions_of(role: str) -> dict[str, frozenset[Action]]:
    """The role's row of the matrix: module -> actions."""
    return {c.module: c.actions(role) for c in columns()}


def allows(role: str, module: str, action: Action | str) -> bool:
    column = _columns.get(module)
    if column is None:
        raise LookupError(f"no installed app declares the permission module {module!r}")
    return action in column.actions(Role(role))


def role_of(membership: Seat | None) -> str | None:
    """The seat's role (a Membership, or the command line's OPERATOR), or None without a seat."""
    return membership.role if membership is not None else None


def require(role: str | None, module: str, action: Action) -> None:
    """Raise PermissionDenied unless the role may take the action on the module."""
    if role is None or not allows(role, module, action):
        raise PermissionDenied(
            _("Your role may not %(action)s %(module)s.")
            % {"action": Action(action).label, "module": module_label(module)}
        )
