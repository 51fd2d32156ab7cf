"""The console's left navigation: the installed apps' modules (`SiyuApp.nav`), in the order ops
teams work, then the modules still planned, listed without a link so nobody lands on a fake page.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from siyu.core.contract import section_tabs, siyu_apps
from siyu.core.permissions import Action, allows, module_label


@dataclass(frozen=True)
class NavItem:
    module: str
    label: str
    url: str | None
    icon: str
    active: bool = False  # the section the page being shown belongs to


# (module key, label, icon): the roadmap's modules until their apps land (wave 2 and later)
PLANNED: list[tuple[str, Promise, str]] = [
    ("community", _("Community"), "❖"),
    ("fission", _("Fission"), "✺"),
    ("commerce", _("Mall"), "▣"),
    ("analytics", _("Data"), "▤"),
]


# Pages of an app without a menu entry of its own, shown as tabs of another module's section:
# the staff accounts (企微号) are the first tab of 账号与渠道.
SECTION_OF_NAMESPACE = {"accounts": "channels"}

# The shell's own entries (console/base.html): URL name (namespace:name) -> section key.
SHELL_SECTIONS = {
    "console:home": "home", "console:team": "team", "console:team_roles": "team", "console:member_role": "team",
    "console:member_remove": "team", "console:audit": "audit", "console:audit_export": "audit", "console:tasks": "tasks",
    "console:task_retry": "tasks", "console:tokens": "tokens",
}


def current_section(request: HttpRequest) -> str:
    """The section of the menu the page belongs to: a module key for the business modules
    (by the page's URL namespace, else the module whose URL starts the page's path), a shell
    key (`home`, `team`, `audit`, `tasks`, `tokens`, `wecom`), or "" when none."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return ""
    if match.view_name in SHELL_SECTIONS:
        return SHELL_SECTIONS[match.view_name]
    namespace = SECTION_OF_NAMESPACE.get(match.namespace, match.namespace)
    if namespace == "wecom":
        return "wecom"
    best, best_length = "", 0
    for app in siyu_apps():
        if app.nav is None:
            continue
        app_namespace = app.nav.url_name.split(":", 1)[0]
        if app_namespace == namespace:
            return app.nav.module
        try:
            prefix = reverse(app.nav.url_name)
        except NoReverseMatch:
            continue
        if request.path.startswith(prefix) and len(prefix) > best_length:
            best, best_length = app.nav.module, len(prefix)
    return best


def tabs_of(request: HttpRequest, role: str | None, section: str) -> list[NavItem]:
    """The section's tabs the role may open, the one whose URL starts the path the longest active."""
    tabs = []
    for tab in section_tabs(section):
        if role and allows(role, tab.module or section, Action.VIEW):
            try:
                tabs.append(NavItem(tab.module or section, str(tab.label), reverse(tab.url_name), ""))
            except NoReverseMatch:
                continue
    active = max((t for t in tabs if t.url and request.path.startswith(t.url)), key=lambda t: len(t.url or ""),
                 default=None)
    return [NavItem(t.module, t.label, t.url, t.icon, active=t is active) for t in tabs]


def business_modules(role: str | None, section: str = "") -> list[NavItem]:
    entries = sorted((app.nav for app in siyu_apps() if app.nav is not None), key=lambda e: e.order)
    items = []
    for entry in entries:
        url = None
        if role and allows(role, entry.module, Action.VIEW):
            try:
                url = reverse(entry.url_name)
            except NoReverseMatch:
                url = None
        items.append(NavItem(entry.module, module_label(entry.module), url, entry.icon, active=entry.module == section))
    installed = {item.module for item in items}
    items += [NavItem(key, str(label), None, icon) for key, label, icon in PLANNED if key not in installed]
    return items
