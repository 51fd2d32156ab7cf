"""`{% data_scope_note %}`: the line that tells a customer ops member (客户运营) a page lists only the
customers of the staff accounts they operate (数据范围, `customers.services.scope`). Nothing for
the roles that see the whole brand, so their pages cost no query."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from siyu.core.permissions import Role, role_of
from siyu.customers.services.scope import Scope, scope_of

register = template.Library()


@register.simple_tag(takes_context=True)
def data_scope_note(context: Any) -> SafeString | str:
    request = context.get("request")
    seat, workspace = getattr(request, "membership", None), getattr(request, "workspace", None)
    if workspace is None or role_of(seat) != Role.CUSTOMER_OPS:
        return ""
    if scope_of(workspace, seat) == Scope.OWN_ACCOUNTS:
        text = _("Only the customers of the staff accounts you operate are listed.")
    else:
        text = _("You operate no staff account yet, so every customer is listed.")
    return format_html('<div class="alert alert-info py-2 small" data-testid="data-scope-note">{}</div>', text)
