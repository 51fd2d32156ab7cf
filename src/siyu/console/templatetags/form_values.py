"""`{{ field|input_value }}`: a bound field's value as its widget writes it into `value=""`.

The console's form templates draw their own Tabler inputs instead of rendering the widgets, so
they must ask the widget for the text: `{{ field.value }}` would print a date the way the page
shows dates (`2026年12月5日`), which `<input type="date">` refuses and shows empty."""

from __future__ import annotations

from typing import Any

from django import template
from django.forms import BoundField

register = template.Library()


@register.filter
def input_value(field: BoundField) -> Any:
    value = field.field.widget.format_value(field.value())
    return "" if value is None else value
