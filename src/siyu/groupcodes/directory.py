"""The brand's group codes for the apps below this one (channels' "invite to group" and welcome
flow), once the contract names it: one query, whatever the number of codes. Proposed contract
attribute: `SiyuApp.group_code_directory = "siyu.groupcodes.directory.directory"`, read by
channels through `core.contract.group_code_directory()` (the lead wires it)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from django.urls import reverse

from siyu.core.models import Workspace
from siyu.groupcodes.models import CodeStatus, GroupCode


@dataclass(frozen=True)
class GroupCodeRef:
    """What a channel code needs to send a customer to a group code: its name, its page, and
    the QR image URL WeCom serves (empty once the join way is gone)."""

    id: int
    name: str
    url: str
    qr_code_url: str
    taking_joins: bool


def directory(workspace: Workspace, ids: Collection[int] | None = None) -> list[GroupCodeRef]:
    codes = GroupCode.objects.for_workspace(workspace)
    if ids is not None:
        codes = codes.filter(pk__in=list(ids))
    return [GroupCodeRef(pk, name, reverse("groupcodes:detail", args=[pk]), qr, status != CodeStatus.EXPIRED and bool(qr))
            for pk, name, qr, status in codes.order_by("name").values_list("pk", "name", "qr_code_url", "status")]
