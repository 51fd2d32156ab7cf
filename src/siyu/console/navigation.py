"""The console's left navigation: the platform's modules, in the order ops teams work.

A module is a link only when its app is installed and has a page; the rest are listed as
planned, without a link, so nobody lands on a fake page.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.urls import NoReverseMatch, reverse

from siyu.core.permissions import Action, Module, allows


@dataclass(frozen=True)
class NavItem:
    module: Module
    label: str
    url: str | None
    icon: str


_BUSINESS_MODULES = [
    # (module, app label that provides it, url name of its landing page, icon)
    (Module.IP, "ip", "ip:home", "◎"),
    (Module.CHANNELS, "channels", "channels:home", "⌁"),
    (Module.CUSTOMERS, "customers", "customers:home", "☺"),
    (Module.CONTENT, "content", "content:home", "✎"),
    (Module.COMMUNITY, "community", "community:home", "❖"),
    (Module.FISSION, "fission", "fission:home", "✺"),
    (Module.COMMERCE, "commerce", "commerce:home", "▣"),
    (Module.ANALYTICS, "analytics", "analytics:home", "▤"),
]


def business_modules(role: str | None) -> list[NavItem]:
    items = []
    for module, app_label, url_name, icon in _BUSINESS_MODULES:
        url = None
        if apps.is_installed(f"siyu.{app_label}") and role and allows(role, module, Action.VIEW):
            try:
                url = reverse(url_name)
            except NoReverseMatch:
                url = None
        items.append(NavItem(module, str(module.label), url, icon))
    return items
