"""`{% notification_bell %}`: the top bar's bell with the member's unread notices (站内通知)."""

from __future__ import annotations

from typing import Any

from django import template

from siyu.core import notifications

register = template.Library()


@register.inclusion_tag("console/notifications_bell.html", takes_context=True)
def notification_bell(context: dict[str, Any]) -> dict[str, Any]:
    request = context.get("request")
    seat = getattr(request, "membership", None)
    if seat is None:
        return {"unread": 0}
    return {"unread": notifications.unread_count(seat.workspace, seat)}  # the request's workspace
