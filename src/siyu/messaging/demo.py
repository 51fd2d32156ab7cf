"""The demo brand's 群发: one mass message to a demo segment, sent for real to the twin, whose
population's staff confirm part of it (the twin's confirm probability, faster with the
population's speed), so the detail page shows real progress within minutes."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from siyu.core.models import Workspace
from siyu.core.queue import enqueue
from siyu.core.services import OPERATOR
from siyu.messaging import services
from siyu.messaging.models import MassMessage
from siyu.segments.models import Segment

DEMO_NAME = "双十二会员日预告"
DEMO_TEXT = "姐妹们～双十二会员日要来啦！老客专属券已经放进你的账户，当天下单还有小样相送，记得来找我呀 🌸"
SEGMENTS = ("近7天新增且未流失", "门店新客", "高意向或已购买")
RETRY_AFTER = dt.timedelta(minutes=2)  # the twin's population brings customers within minutes
ATTEMPTS = 30


def seed(workspace: Workspace, attempt: int = 0) -> None:
    """Once per brand. Until a demo segment has members, looks again every two minutes (for an
    hour) through the worker."""
    if MassMessage.objects.for_workspace(workspace).filter(name=DEMO_NAME).exists():
        return
    segment = (Segment.objects.for_workspace(workspace).filter(name__in=SEGMENTS, member_count__gt=0)
               .order_by("-member_count").first())
    if segment is None:
        if attempt < ATTEMPTS:
            enqueue("siyu.messaging.tasks.seed_demo", workspace.pk, attempt + 1,
                    run_after=timezone.now() + RETRY_AFTER)
        return
    message = services.plan_message(workspace, OPERATOR, services.MessageInput(
        name=DEMO_NAME, target_kind="segment", segment_id=segment.pk, text=DEMO_TEXT,
        attachments=[{"msgtype": "link", "link": {"title": "会员日攻略", "url": "https://example.com/member-day"}}]))
    if message.planned_count:
        services.confirm_message(workspace, OPERATOR, message.pk)
