"""What the SOP engine asks about customer groups (客户群), answered by the app that stores them.

The community app sits above sop, so the engine cannot import it: community registers a
`GroupDirectory` here when it loads (`community/sop_groups.py`), and group SOPs read groups only
through it. Without the community app installed no group SOP enrols anyone, and the editor
refuses the kind.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from siyu.core.models import Workspace


@dataclass(frozen=True)
class GroupRef:
    """One group as a group SOP needs it: where to send (chat_id, owner) and whether it still can."""

    group_id: int
    chat_id: str
    name: str
    owner_id: int | None  # the owner's StaffAccount
    operator_id: int | None  # the owner's console membership, for the task centre
    member_count: int
    live: bool  # not dismissed, and its owner an active staff account
    url: str = ""  # its page in the console


class GroupDirectory(Protocol):
    def audience(self, workspace: Workspace, *, group_type: str, group_tag: str) -> list[int]:
        """Live groups of this type (any when empty) carrying this tag (any when empty)."""

    def describe(self, workspace: Workspace, group_ids: Iterable[int]) -> dict[int, GroupRef]:
        """The brand's groups among these ids (dismissed ones included, `live` False)."""

    def types(self) -> list[tuple[str, str]]:
        """The group types an SOP's audience may name (value, label)."""


_directory: list[GroupDirectory] = []


def register(directory: GroupDirectory) -> None:
    _directory[:] = [directory]


def directory() -> GroupDirectory | None:
    return _directory[0] if _directory else None
