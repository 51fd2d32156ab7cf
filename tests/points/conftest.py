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


def make_group(workspace: Any, customers: list[Customer], *, joined: dt.datetime, owner: Any = None,
               name: str = "打卡群") -> Any:
    """A customer group as community's sync writes it: the owner and these customers, joined at `joined`."""
    from siyu.community.models import CustomerGroup, GroupMember, MemberKind

    group = CustomerGroup.objects.create(workspace=workspace, chat_id=f"wr{name}{len(customers)}", name=name,
                                         owner=owner, owner_userid=getattr(owner, "userid", ""),
                                         member_count=len(customers) + 1, customer_count=len(customers))
    GroupMember.objects.create(workspace=workspace, group=group, userid=getattr(owner, "userid", "owner"),
                               kind=MemberKind.STAFF, join_time=joined)
    for c in customers:
        GroupMember.objects.create(workspace=workspace, group=group, userid=c.external_userid, kind=MemberKind.CUSTOMER,
                                   customer=c, nickname=c.name, join_time=joined)
    return group


def member_joins(group: Any, customer: Customer, at: dt.datetime) -> None:
    from siyu.community.models import CustomerGroup, GroupMember, MemberKind

    GroupMember.objects.create(workspace=group.workspace, group=group, userid=customer.external_userid,
                               kind=MemberKind.CUSTOMER, customer=customer, nickname=customer.name, join_time=at)
    CustomerGroup.unscoped.filter(pk=group.pk).update(member_count=GroupMember.unscoped.filter(group=group, left_at__isnull=True).count())


def member_leaves(group: Any, customer: Customer, at: dt.datetime) -> None:
    from siyu.community.models import CustomerGroup, GroupMember

    GroupMember.unscoped.filter(group=group, customer=customer).update(left_at=at, quit_scene=1)
    CustomerGroup.unscoped.filter(pk=group.pk).update(member_count=GroupMember.unscoped.filter(group=group, left_at__isnull=True).count())
