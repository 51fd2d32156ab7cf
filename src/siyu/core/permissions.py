"""The permission matrix: which team role may view, edit, export or approve what, per module.

Written once here and enforced in services through `require`. Letters: v view, e edit,
x export, a approve; `-` nothing.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    OPS_LEAD = "ops_lead", _("Ops lead")
    COPYWRITER = "copywriter", _("Copywriter")
    PLANNER = "planner", _("Planner")
    CUSTOMER_OPS = "customer_ops", _("Customer ops")
    DATA_ANALYST = "data_analyst", _("Data analyst")
    MERCHANDISER = "merchandiser", _("Merchandiser")


class Module(models.TextChoices):
    IP = "ip", _("Brand IP")
    CHANNELS = "channels", _("Accounts & channels")
    CUSTOMERS = "customers", _("Customers")
    CONTENT = "content", _("Content & SOP")
    COMMUNITY = "community", _("Community")
    FISSION = "fission", _("Fission")
    COMMERCE = "commerce", _("Mall")
    ANALYTICS = "analytics", _("Data")
    TEAM = "team", _("Team & roles")
    AUDIT = "audit", _("Audit log")
    SYSTEM = "system", _("Tasks & connector")


class Action(models.TextChoices):
    VIEW = "v", _("view")
    EDIT = "e", _("edit")
    EXPORT = "x", _("export")
    APPROVE = "a", _("approve")


_COLUMNS = [
    Module.IP, Module.CHANNELS, Module.CUSTOMERS, Module.CONTENT, Module.COMMUNITY,
    Module.FISSION, Module.COMMERCE, Module.ANALYTICS, Module.TEAM, Module.AUDIT, Module.SYSTEM,
]  # fmt: skip
_MATRIX = """
#              ip    channels customers content community fission commerce analytics team  audit system
admin          vexa  vexa     vexa      vexa    vexa      vexa    vexa     vexa      vexa  vx    vexa
ops_lead       vexa  vexa     vexa      vexa    vexa      vexa    vexa     vexa      v     -     v
copywriter     v     v        -         ve      v         v       v        v         -     -     -
planner        ve    ve       v         v       ve        ve      v        v         -     -     -
customer_ops   v     v        ve        v       ve        v       v        v         -     -     -
data_analyst   v     vx       vx        v       vx        vx      vx       vx        -     -     -
merchandiser   -     -        v         v       v         v       vex      v         -     -     -
"""


def _parse(matrix: str) -> dict[Role, dict[Module, frozenset[Action]]]:
    table: dict[Role, dict[Module, frozenset[Action]]] = {}
    for line in matrix.strip().splitlines():
        if line.startswith("#"):
            continue
        role, *cells = line.split()
        if len(cells) != len(_COLUMNS):
            raise ValueError(f"permission row {role!r} has {len(cells)} cells")
        table[Role(role)] = {
            module: frozenset(Action(letter) for letter in cell if letter != "-")
            for module, cell in zip(_COLUMNS, cells, strict=True)
        }
    if set(table) != set(Role):
        raise ValueError("every role needs a row in the permission matrix")
    return table


PERMISSIONS = _parse(_MATRIX)


def allows(role: str, module: Module, action: Action) -> bool:
    return action in PERMISSIONS[Role(role)][module]


def role_of(membership: Any) -> str | None:
    """The seat's role (a Membership, or the command line's OPERATOR), or None without a seat."""
    return membership.role if membership is not None else None


def require(role: str | None, module: Module, action: Action) -> None:
    """Raise PermissionDenied unless the role may take the action on the module."""
    if role is None or not allows(role, module, action):
        raise PermissionDenied(
            _("Your role may not %(action)s %(module)s.")
            % {"action": Action(action).label, "module": Module(module).label}
        )
