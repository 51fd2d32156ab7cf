"""The console's left navigation: the installed apps' modules (`SiyuApp.nav`), in the order ops
teams work, then the modules still planned, listed without a link so nobody lands on a fake page.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from siyu.core.contract import siyu_apps
from siyu.core.permissions import Action, allows, module_label


@dataclass(frozen=True)
class NavItem:
    module: str
    label: str
    url: str | None
    icon: str


# (module key, label, icon): the roadmap's modules until their apps land (wave 2 and later)
PLANNED: list[tuple[str, Promise, str]] = [
    ("content", _("Content & SOP"), "✎"),
    ("community", _("Community"), "❖"),
    ("fission", _("Fission"), "✺"),
    ("commerce", _("Mall"), "▣"),
    ("analytics", _("Data"), "▤"),
]


def business_modules(role: str | None) -> list[NavItem]:
    entries = sorted((app.nav for app in siyu_apps() if app.nav is not None), key=lambda e: e.order)
    items = []
    for entry in entries:
        url = None
        if role and allows(role, entry.module, Action.VIEW):
            try:
                url = reverse(entry.url_name)
            except NoReverseMatch:
                url = None
        items.append(NavItem(entry.module, module_label(entry.module), url, entry.icon))
    installed = {item.module for item in items}
    items += [NavItem(key, str(label), None, icon) for key, label, icon in PLANNED if key not in installed]
    return items
