"""群群发 — a mass message to customer groups picked here (by type, stage, tag, or one by one),
planned by the messaging app: each group is sent by its owner (群主) within the groups' own
receive limit (WECOM.md §5). The planner previews and confirms it on the message's page."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from siyu.community.models import CustomerGroup
from siyu.community.services.groups import require_view
from siyu.core.models import Workspace
from siyu.core.permissions import Seat
from siyu.messaging import services as messaging
from siyu.messaging.models import MassMessage, TargetKind

MAX_GROUPS = 10_000


@dataclass(frozen=True)
class GroupPick:
    """Which groups: these ids (when given), narrowed by type, stage and tag (each when set)."""

    group_ids: list[int] = field(default_factory=list)
    type: str | None = None
    stage: str = ""
    tag: str = ""


def picked_groups(workspace: Workspace, pick: GroupPick) -> QuerySet[CustomerGroup]:
    groups = CustomerGroup.objects.for_workspace(workspace).filter(dismissed_at__isnull=True)
    if pick.group_ids:
        groups = groups.filter(pk__in=pick.group_ids)
    if pick.type is not None:
        groups = groups.filter(type=pick.type)
    if pick.stage:
        groups = groups.filter(stage=pick.stage)
    if pick.tag:  # tags are a short JSON list per group; containment is not portable to SQLite
        groups = groups.filter(pk__in=[pk for pk, tags in groups.values_list("pk", "tags") if pick.tag in (tags or [])])
    return groups.select_related("owner").order_by("-member_count", "pk")


def plan_group_message(workspace: Workspace, membership: Seat | None, pick: GroupPick, *, name: str, text: str,
                       send_at: dt.datetime | None = None, now: dt.datetime | None = None) -> MassMessage:
    """A draft group 群发 to the picked groups (roles: view groups here, edit in messaging)."""
    require_view(membership)
    groups = list(picked_groups(workspace, pick).values_list("pk", "chat_id", "owner_id", "name")[:MAX_GROUPS + 1])
    if len(groups) > MAX_GROUPS:
        raise ValidationError({"groups": _("At most 10,000 groups in one mass message; narrow the choice.")})
    return messaging.plan_message(workspace, membership, messaging.MessageInput(
        name=name, target_kind=TargetKind.GROUPS, text=text, send_at=send_at,
        groups=[messaging.GroupTarget(pk, chat_id, owner_id, group_name or chat_id)
                for pk, chat_id, owner_id, group_name in groups]), now=now)
