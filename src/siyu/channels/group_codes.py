"""The brand's group live codes (群活码) as channels sees them: the app that owns them (groupcodes,
above this one) names them through the contract's `group_code_directory`, so a channel code can
invite its new friends to a group code without channels importing it."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from siyu.core import contract
from siyu.core.models import Workspace


@dataclass(frozen=True)
class GroupCodeRef:
    """What a channel code needs to send a customer to a group code: its name, its page, and
    the QR image URL WeCom serves (empty once the join way is gone)."""

    id: int
    name: str
    url: str
    qr_code_url: str
    taking_joins: bool


def group_code_refs(workspace: Workspace, ids: Collection[int] | None = None) -> list[GroupCodeRef]:
    """The brand's group codes with these ids (all with None); none when no app owns group codes."""
    directory = contract.group_code_directory()
    return list(directory(workspace, ids)) if directory else []


def group_code_choices(workspace: Workspace) -> list[tuple[int, str]]:
    return [(ref.id, ref.name) for ref in group_code_refs(workspace)]


def invite_attachment(workspace: Workspace, group_code_id: int | None) -> dict[str, str] | None:
    """The welcome attachment that invites to the group code: its QR as a picture, which the
    customer long-presses to join; None when the code is gone or takes no joins."""
    if group_code_id is None:
        return None
    ref = next(iter(group_code_refs(workspace, [group_code_id])), None)
    if ref is None or not ref.taking_joins:
        return None
    return {"type": "image", "pic_url": ref.qr_code_url}
