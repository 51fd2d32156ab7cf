"""The channel codes by state, for the pages below this app (the customers hub's
`channel_codes`, named in this app's contract): one query, whatever the number of states."""

from __future__ import annotations

from collections.abc import Collection

from django.urls import reverse

from siyu.channels.models import ChannelCode
from siyu.core.models import Workspace
from siyu.customers.channel_codes import ChannelRef


def directory(workspace: Workspace, states: Collection[str] | None) -> list[ChannelRef]:
    """The brand's codes with these states (every code with None), each linked to its page."""
    codes = ChannelCode.objects.for_workspace(workspace)
    if states is not None:
        codes = codes.filter(state__in=list(states))
    return [ChannelRef(state, name, reverse("channels:code", args=[pk]), active)
            for pk, state, name, active in codes.order_by("name").values_list("pk", "state", "name", "active")]
