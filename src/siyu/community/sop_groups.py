"""The community app's answers to the SOP engine about customer groups (`sop/groups.py`), and the
group SOP triggers it fires: a group created, a group's member count reached.

Autoloaded (`apps.py`), so every process registers the directory before the sweep or the
schedule job asks it anything.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.urls import reverse

from siyu.community.models import CustomerGroup, GroupType
from siyu.core.models import Workspace
from siyu.sop import groups as sop_groups
from siyu.sop import services as sop


class CommunityDirectory:
    def audience(self, workspace: Workspace, *, group_type: str, group_tag: str) -> list[int]:
        live = CustomerGroup.objects.for_workspace(workspace).filter(dismissed_at__isnull=True)
        if group_type:
            live = live.filter(type=group_type)
        if not group_tag:
            return list(live.order_by("pk").values_list("pk", flat=True))
        # Tags are a short JSON list per group; JSON containment is not portable to SQLite.
        return [pk for pk, tags in live.order_by("pk").values_list("pk", "tags") if group_tag in (tags or [])]

    def describe(self, workspace: Workspace, group_ids: Iterable[int]) -> dict[int, sop_groups.GroupRef]:
        rows = (CustomerGroup.objects.for_workspace(workspace).filter(pk__in=list(group_ids))
                .select_related("owner"))
        return {g.pk: sop_groups.GroupRef(
            group_id=g.pk, chat_id=g.chat_id, name=g.name or g.chat_id, owner_id=g.owner_id,
            operator_id=g.owner.operator_id if g.owner else None, member_count=g.member_count,
            live=g.dismissed_at is None and g.owner is not None and g.owner.active,
            url=reverse("community:group", args=[g.pk])) for g in rows}


    def types(self) -> list[tuple[str, str]]:
        return [(value, str(label)) for value, label in GroupType.choices if value]


sop_groups.register(CommunityDirectory())


def group_changed(workspace: Workspace, chat_id: str, *, created: bool = False,
                  at: dt.datetime | None = None) -> int:
    """After an event about a group was applied: enrol it into the group SOPs it now triggers
    (created; a member count reached). Idempotent: each SOP enrols a group once."""
    found = (CustomerGroup.objects.for_workspace(workspace).filter(chat_id=chat_id, dismissed_at__isnull=True)
             .values_list("pk", "member_count", "created_at").first())
    if found is None:
        return 0
    pk, members, created_at = found
    at = at or created_at
    enrolled = sop.groups_sized(workspace, {pk: members}, at) if at else 0
    if created and at:
        enrolled += sop.groups_created(workspace, [pk], at)
    return enrolled
