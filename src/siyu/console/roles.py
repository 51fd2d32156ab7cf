"""角色说明 — what each team role may do, in words, read from the permission matrix itself
(`siyu.core.permissions.columns()`), so the page can never say something the services do not
enforce. Only each role's one-line purpose is written here."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from siyu.core.permissions import Action, Role, columns

PURPOSE: dict[str, Promise] = {
    Role.ADMIN: gettext_lazy("Runs the brand, its team and its WeCom connection."),
    Role.OPS_LEAD: gettext_lazy("Leads the operations team and its plans."),
    Role.COPYWRITER: gettext_lazy("Writes the personas, welcome messages and content."),
    Role.PLANNER: gettext_lazy("Plans channels, campaigns and their spend."),
    Role.CUSTOMER_OPS: gettext_lazy("Serves the customers of the staff accounts they operate, day to day: tags, "
                                    "remarks, transfers. Once assigned accounts, sees only their customers."),
    Role.DATA_ANALYST: gettext_lazy("Reads the figures and exports reports."),
    Role.MERCHANDISER: gettext_lazy("Chooses the products of the mall."),
}

MEANING: dict[str, Promise] = {
    Action.VIEW: gettext_lazy("open its pages and see its figures"),
    Action.EDIT: gettext_lazy("create, change and delete"),
    Action.EXPORT: gettext_lazy("download its data (Excel, CSV)"),
    Action.APPROVE: gettext_lazy("approve what others ask for"),
}
ORDER = [Action.VIEW, Action.EDIT, Action.EXPORT, Action.APPROVE]


@dataclass(frozen=True)
class RoleGuide:
    role: str
    label: str
    purpose: str
    may: list[str]  # sentences: "may view, edit: Customers, Brand IP"
    may_not: str  # the modules it cannot open at all, "" when none
    is_admin: bool


@dataclass(frozen=True)
class MatrixRow:
    module: str
    label: str
    cells: list[str]  # one per role, in Role order: "view, edit" or "—"


def _words(items: list[str]) -> str:
    return pgettext("list separator", ", ").join(items)


def _actions(actions: frozenset[Action]) -> list[str]:
    return [str(a.label) for a in ORDER if a in actions]


def role_guides() -> list[RoleGuide]:
    """Per role, in `Role` order: its purpose, then its modules grouped by what it may do there."""
    guides = []
    for role in Role:
        groups: dict[frozenset[Action], list[str]] = {}
        for column in columns():
            groups.setdefault(column.actions(role), []).append(str(column.label))
        may = [
            _("May %(actions)s: %(modules)s") % {"actions": _words(_actions(actions)), "modules": _words(modules)}
            for actions, modules in sorted(groups.items(), key=lambda g: (-len(g[0]), _actions(g[0])))
            if actions
        ]
        guides.append(RoleGuide(role.value, str(role.label), str(PURPOSE[role]), may,
                                _words(groups.get(frozenset(), [])), role == Role.ADMIN))
    return guides


def matrix_rows() -> list[MatrixRow]:
    return [MatrixRow(c.module, str(c.label), [_words(_actions(c.actions(role))) or "—" for role in Role])
            for c in columns()]


def action_meanings() -> list[tuple[str, str]]:
    return [(str(a.label), str(MEANING[a])) for a in ORDER]
