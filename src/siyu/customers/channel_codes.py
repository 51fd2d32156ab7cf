"""渠道活码 as the pages below the channels app show them: a follow relation carries the `state`
of the code the customer came through, and ops read the code's name, linked to its page.

The codes live in the channels app, above this hub; it names its directory in its contract
(`SiyuApp.channel_directory`: `(workspace, states or None) -> [ChannelRef]`). Pages ask once per
page for the states they show (`channel_refs`: one query), never per row. A state no code has
(a code made outside Siyu, or no channels app) comes back unknown and is shown raw, marked so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from siyu.core.contract import channel_directory
from siyu.core.models import Workspace


@dataclass(frozen=True)
class ChannelRef:
    """A channel code as a page links to it; `name` and `url` are blank for an unknown state."""

    state: str
    name: str = ""
    url: str = ""
    active: bool = True

    @property
    def known(self) -> bool:
        return bool(self.name)

    @property
    def label(self) -> str:
        return self.name or self.state


def channel_refs(workspace: Workspace, states: Iterable[str]) -> dict[str, ChannelRef]:
    """Each non-blank state → its code (unknown ones included, marked): one query for the lot."""
    wanted = {s for s in states if s}
    if not wanted:
        return {}
    directory = channel_directory()
    found: dict[str, ChannelRef] = {}
    if directory is not None:
        found = {ref.state: ref for ref in directory(workspace, wanted)}
    return {state: found.get(state) or ChannelRef(state) for state in wanted}


def channel_codes(workspace: Workspace) -> list[ChannelRef]:
    """Every code of the brand, by name, for pickers (none without the channels app)."""
    directory = channel_directory()
    refs: list[ChannelRef] = list(directory(workspace, None)) if directory is not None else []
    return sorted(refs, key=lambda r: (not r.active, r.name))


def channel_choices(workspace: Workspace) -> list[tuple[str, str]]:
    """(state, name) of every code, for a choice field; a retired code is marked."""
    retired = _("retired")
    return [(r.state, r.name if r.active else f"{r.name} ({retired})") for r in channel_codes(workspace)]
