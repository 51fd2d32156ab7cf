"""Points fixtures: customers of a brand, a check-in plan, rewards (a welfare with a code pool, goods)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from siyu.channels.models import Welfare, WelfareCode, WelfareKind
from siyu.customers.models import Customer
from siyu.points.models import CheckinMode, CheckinPlan, Reward, RewardKind

SHANGHAI_NOON = dt.datetime(2026, 12, 7, 4, 0, tzinfo=dt.UTC)  # Monday 12:00 in Beijing


def make_customer(workspace: Any, n: int = 1) -> Customer:
    return Customer.objects.create(workspace=workspace, external_userid=f"wmPTS{workspace.pk}x{n:04d}", name=f"粉丝{n}",
                                   first_added_at=timezone.now())


def make_plan(workspace: Any, **overrides: Any) -> CheckinPlan:
    values: dict[str, Any] = {"name": "每日打卡", "mode": CheckinMode.STREAK, "daily_points": 5,
                              "tiers": [{"day": 3, "points": 20}, {"day": 7, "points": 50}], "make_up_cards": 0}
    values.update(overrides)
    return CheckinPlan.objects.create(workspace=workspace, **values)


def code_reward(workspace: Any, codes: int = 3, cost: int = 30, name: str = "满100减20") -> Reward:
    welfare = Welfare.objects.create(workspace=workspace, name=name, kind=WelfareKind.COUPON, description="优惠券")
    WelfareCode.unscoped.bulk_create([WelfareCode(workspace=workspace, welfare=welfare, code=f"HM-{welfare.pk}-{i:03d}")
                                     for i in range(codes)])
    return Reward.objects.create(workspace=workspace, name=name, kind=RewardKind.WELFARE, cost=cost, welfare=welfare)


def goods_reward(workspace: Any, cost: int = 10, stock: int | None = None) -> Reward:
    return Reward.objects.create(workspace=workspace, name="帆布袋", kind=RewardKind.GOODS, cost=cost, stock=stock)


@pytest.fixture
def customer(brand_a: Any) -> Customer:
    return make_customer(brand_a.workspace)
