"""`{% welcome_editor_data as editor %}`: what the welcome-message editor shows, for the brand
and member of the request and the code being edited (None for a new code)."""

from __future__ import annotations

from typing import Any

from django import template

from siyu.channels.services.welcome_editor import EditorData, editor_data

register = template.Library()


@register.simple_tag(takes_context=True)
def welcome_editor_data(context: dict[str, Any]) -> EditorData:
    request = context["request"]
    return editor_data(request.workspace, request.membership, context.get("code"))
