"""The demo brand's SOP: "新客 7 天" on the demo channel codes (day 1 greet, day 3 a story, day 7
an invitation to the group as a staff task), active, with the customers the codes brought in
the last week enrolled from their add, so the ledger and the task centre show work at once."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from siyu.channels.models import ChannelCode
from siyu.core.models import Workspace
from siyu.core.services import OPERATOR
from siyu.customers.models import FollowRelation
from siyu.sop import services
from siyu.sop.models import Sop, SopStatus, StepChannel, TaskKind

DEMO_NAME = "新客 7 天"
STEPS = [
    services.StepInput(days=1, at_time=dt.time(10, 0), channel=StepChannel.MASS,
                       text="亲爱的，欢迎来到我们的小家～有任何护肤问题随时问我哦 🌷"),
    services.StepInput(days=3, at_time=dt.time(20, 0), channel=StepChannel.MASS,
                       text="给你讲讲我们品牌的小故事：第一瓶精华是在外婆的厨房里熬出来的……"),
    services.StepInput(days=7, at_time=dt.time(11, 0), channel=StepChannel.TASK, task_kind=TaskKind.INVITE,
                       text="邀请进「老客福利群」，附上群里本周的福利预告。"),
]


def seed(workspace: Workspace) -> None:
    if Sop.objects.for_workspace(workspace).filter(name=DEMO_NAME).exists():
        return
    states = sorted(ChannelCode.objects.for_workspace(workspace).values_list("state", flat=True))
    sop = services.create_sop(workspace, OPERATOR, services.SopInput(name=DEMO_NAME, channel_states=states), STEPS)
    sop = services.set_status(workspace, OPERATOR, sop.pk, SopStatus.ACTIVE)
    since = timezone.now() - dt.timedelta(days=7)
    for added_at, customer_id in (FollowRelation.objects.for_workspace(workspace)
                                  .filter(state__in=states, added_at__gte=since, deleted_at=None)
                                  .values_list("added_at", "customer_id").order_by("added_at")[:2000]):
        services.enrol(workspace, sop, [customer_id], added_at)
