"""The demo brand's 群规与治理: the seed 003 rules for every group, a member removed from the
declining after-sales group (so blacklisted) who then rejoins the learning group, flagged with a
removal task for its owner; the moves are made in the twin like a person in the WeCom client,
and applied at once (the callbacks that follow change nothing more)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from siyu.community.models import CustomerGroup, GroupMember, MemberKind
from siyu.core.models import Workspace
from siyu.core.queue import enqueue
from siyu.core.services import OPERATOR
from siyu.moderation import services
from siyu.moderation.models import BlacklistEntry, BlacklistSource
from siyu.wecom import twin
from siyu.wecom.services import connection_of

FROM_GROUP, TO_GROUP = "老客售后群", "护肤知识学习群"  # community's demo groups
RETRY_AFTER = dt.timedelta(minutes=2)
ATTEMPTS = 30


def seed(workspace: Workspace, attempt: int = 0) -> None:
    """Once per brand; waits (through the worker) for the community demo's groups."""
    if not services.rules_of(workspace).exists():
        t = services.TEMPLATE_KEYS["welfare"]
        services.save_rules(workspace, OPERATOR, name=t.title, join_rules=t.join_rules, behaviour=t.behaviour,
                            penalties=t.penalties, template=t.key)
    connection = connection_of(workspace)
    api_base = connection.api_base if connection is not None and twin.twin_url(connection.api_base) else None
    if api_base is None or BlacklistEntry.objects.for_workspace(workspace).filter(source=BlacklistSource.REMOVED).exists():
        return
    groups = {g.name: g for g in CustomerGroup.objects.for_workspace(workspace).filter(
        name__in=(FROM_GROUP, TO_GROUP), dismissed_at__isnull=True)}
    member = (GroupMember.objects.for_workspace(workspace).filter(
        group=groups.get(FROM_GROUP), kind=MemberKind.CUSTOMER, left_at__isnull=True)
        .exclude(userid__in=GroupMember.objects.for_workspace(workspace).filter(group=groups.get(TO_GROUP))
                 .values("userid")).order_by("join_time").first() if len(groups) == 2 else None)
    if member is None:
        if attempt < ATTEMPTS:
            enqueue("siyu.moderation.tasks.seed_demo", workspace.pk, attempt + 1, run_after=timezone.now() + RETRY_AFTER)
        return
    source, target = groups[FROM_GROUP], groups[TO_GROUP]
    now = timezone.now()
    if twin.act(api_base, "groups/leave", {"chat_id": source.chat_id, "external_userid": member.userid,
                                           "scene": "removed"}):
        services.screen_member_change(workspace, chat_id=source.chat_id, update_detail="del_member",
                                      userids=[member.userid], current_version="", at=now, quit_scene=1)
    if twin.act(api_base, "groups/join", {"chat_id": target.chat_id, "external_userid": member.userid,
                                          "scene": "invite"}):
        services.screen_member_change(workspace, chat_id=target.chat_id, update_detail="add_member",
                                      userids=[member.userid], current_version="", at=now)
