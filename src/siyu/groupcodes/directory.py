"""The brand's group codes for the apps below this one (channels' "invite to group" and welcome
flow), named through the contract's `group_code_directory`: one query, whatever the number of codes."""

from __future__ import annotations

from collections.abc import Collection

from django.urls import reverse

from siyu.channels.group_codes import GroupCodeRef
from siyu.core.models import Workspace
from siyu.groupcodes.models import CodeStatus, GroupCode

TAKING_JOINS = (CodeStatus.ACTIVE, CodeStatus.WAITING)


def directory(workspace: Workspace, ids: Collection[int] | None = None) -> list[GroupCodeRef]:
    codes = GroupCode.objects.for_workspace(workspace)
    if ids is not None:
        codes = codes.filter(pk__in=list(ids))
    return [GroupCodeRef(pk, name, reverse("groupcodes:detail", args=[pk]), qr, status in TAKING_JOINS and bool(qr))
            for pk, name, qr, status in codes.order_by("name").values_list("pk", "name", "qr_code_url", "status")]
