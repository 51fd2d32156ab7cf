"""The demo brand's check-in plan (a 7-day card: 5 a day, 20 on day 3, 50 on day 7), a goods
reward, and two weeks of check-ins by the customers the twin brings into its groups, each at
their own rate (some every day, some now and then), so the ledger, streaks and leaderboards have
numbers within minutes."""

from __future__ import annotations

import datetime as dt
import random

from django.utils import timezone

from siyu.community.models import GroupMember, MemberKind
from siyu.core.models import Workspace
from siyu.core.queue import enqueue
from siyu.core.tenancy import workspace_context
from siyu.points.models import (
    Checkin,
    CheckinMode,
    CheckinPlan,
    ExpiryRule,
    PointsPolicy,
    Reward,
    RewardKind,
)
from siyu.points.services import PointsError, check_in

FANS = 60  # group members who check in
DAYS = 14
RETRY_AFTER = dt.timedelta(minutes=2)
ATTEMPTS = 15


def seed(workspace: Workspace) -> None:
    with workspace_context(workspace):
        PointsPolicy.objects.get_or_create(workspace=workspace, defaults={"expiry": ExpiryRule.YEAR_END})
        if not CheckinPlan.objects.filter(group_chat_id="").exists():
            CheckinPlan.objects.create(workspace=workspace, name="每日打卡", mode=CheckinMode.STREAK, daily_points=5,
                                       tiers=[{"day": 3, "points": 20}, {"day": 7, "points": 50}], make_up_cards=2)
        if not Reward.objects.exists():
            Reward.objects.create(workspace=workspace, name="品牌帆布袋", kind=RewardKind.GOODS, cost=300, stock=100)


def seed_checkins(workspace: Workspace, attempt: int = 0) -> None:
    """Two weeks of check-ins by customers in the brand's groups, once (the demo groups fill as
    the twin runs, so this waits for members a few times before giving up)."""
    with workspace_context(workspace):
        plan = CheckinPlan.objects.filter(group_chat_id="").first()
        if plan is None or Checkin.objects.exists():
            return
        fans = sorted(set(GroupMember.objects.filter(kind=MemberKind.CUSTOMER, customer__isnull=False,
                                                     left_at__isnull=True).values_list("customer_id", flat=True)))
        if len(fans) < FANS and attempt < ATTEMPTS:
            enqueue("siyu.points.tasks.seed_demo_checkins", workspace.pk, attempt + 1, run_after=timezone.now() + RETRY_AFTER)
            return
        now = timezone.now()
        for customer_id in fans[:FANS]:
            rate = random.Random(customer_id).choice((0.95, 0.8, 0.6, 0.35))  # how keen this fan is
            chance = random.Random(f"{customer_id}:days")
            for back in range(DAYS, -1, -1):
                if chance.random() < rate:
                    try:
                        check_in(workspace, plan, customer_id, now=now - dt.timedelta(days=back))
                    except PointsError:
                        return  # the plan was closed meanwhile
