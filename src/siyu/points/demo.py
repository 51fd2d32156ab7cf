"""The demo brand's check-in plan (a 7-day card: 5 a day, 20 on day 3, 50 on day 7) and a goods reward."""

from __future__ import annotations

from siyu.core.models import Workspace
from siyu.core.tenancy import workspace_context
from siyu.points.models import (
    CheckinMode,
    CheckinPlan,
    ExpiryRule,
    PointsPolicy,
    Reward,
    RewardKind,
)


def seed(workspace: Workspace) -> None:
    with workspace_context(workspace):
        PointsPolicy.objects.get_or_create(workspace=workspace, defaults={"expiry": ExpiryRule.YEAR_END})
        if not CheckinPlan.objects.filter(group_chat_id="").exists():
            CheckinPlan.objects.create(workspace=workspace, name="每日打卡", mode=CheckinMode.STREAK, daily_points=5,
                                       tiers=[{"day": 3, "points": 20}, {"day": 7, "points": 50}], make_up_cards=2)
        if not Reward.objects.exists():
            Reward.objects.create(workspace=workspace, name="品牌帆布袋", kind=RewardKind.GOODS, cost=300, stock=100)
