from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from siyu.console.navigation import business_modules, current_section, tabs_of
from siyu.core import services
from siyu.core.permissions import Action, Module, allows


def console(request: HttpRequest) -> dict[str, Any]:
    seat = getattr(request, "membership", None)
    if seat is None:
        return {"LANGUAGES": settings.LANGUAGES}
    role = seat.role
    section = current_section(request)
    tabs = tabs_of(request, role, section) if section else []
    return {
        "LANGUAGES": settings.LANGUAGES,
        "nav_section": section,
        "nav_modules": business_modules(role, section),
        "nav_tabs": tabs if len(tabs) > 1 else [],
        "can": {
            "team": allows(role, Module.TEAM, Action.VIEW),
            "audit": allows(role, Module.AUDIT, Action.VIEW),
            "system": allows(role, Module.SYSTEM, Action.VIEW),
        },
        "my_workspaces": [m.workspace for m in services.memberships_of(request.user)],
    }
