"""`{% channel refs state %}`: a channel code by name, linked to its page, for a follow's `state`
(`refs` from `siyu.customers.channel_codes.channel_refs`, fetched once per page). A state no code
has is shown raw and marked unknown."""

from __future__ import annotations

from collections.abc import Mapping

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from siyu.customers.channel_codes import ChannelRef

register = template.Library()


@register.simple_tag
def channel(refs: Mapping[str, ChannelRef] | None, state: str | None) -> SafeString | str:
    if not state:
        return "—"
    ref = (refs or {}).get(state)
    if ref is not None and ref.known:
        link = format_html('<a href="{}" title="{}" data-channel="{}">{}</a>', ref.url, state, state, ref.name)
        if ref.active:
            return link
        return format_html('{} <span class="badge bg-secondary-lt">{}</span>', link, _("retired"))
    return format_html('<span title="{}" data-channel="{}"><code>{}</code> <span class="badge bg-secondary-lt">{}</span></span>',
                       _("No channel code of this brand has this state."), state, state, _("unknown code"))
