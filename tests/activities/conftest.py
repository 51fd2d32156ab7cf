"""Activities fixtures: a brand's staff, customers and customer groups as the community app keeps
them (members with join and leave times, daily rows), and a way to plan an activity on them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from siyu.accounts.models import StaffAccount
from siyu.activities import services
from siyu.community.models import CustomerGroup, GroupMember, GroupType, MemberKind
from siyu.customers.models import Customer
from tests.community.conftest import club, twin  # noqa: F401 - the WeCom twin and a brand connected to it
from tests.conftest import seat

START = dt.datetime(2026, 11, 2, 12, 0, tzinfo=dt.UTC)  # Monday 20:00 in Beijing
END = START + dt.timedelta(days=3)


@dataclass
class Town:
    brand: Any
    workspace: Any
    staff: list[StaffAccount]
    customers: list[Customer]
    groups: dict[str, CustomerGroup]

    def seat(self, role: str = "planner") -> Any:
        return seat(self.brand.members[role], self.workspace)

    def member(self, group: str, customer: int, joined: dt.datetime, left: dt.datetime | None = None) -> GroupMember:
        c = self.customers[customer]
        return GroupMember.objects.create(workspace=self.workspace, group=self.groups[group], userid=c.external_userid,
                                          kind=MemberKind.CUSTOMER, customer=c, join_time=joined, left_at=left)

    def plan(self, **overrides: Any) -> services.ActivityInput:
        values: dict[str, Any] = {
            "name": "周三晚干货分享会", "type": "knowledge", "starts_at": START, "ends_at": END,
            "targets": {"joins": 2, "checkins": 3, "messages": 100, "conversions": 1},
            "group_ids": [self.groups["knowledge"].pk], "budget": Decimal("500"),
            "budget_lines": [services.BudgetInput("讲师酬劳", Decimal("300"))],
            "roles": [services.RoleInput("主持", self.staff[0].pk)],
            "run_sheet": [services.ItemInput("0", "开场", self.staff[0].pk), services.ItemInput("-1d", "预告")]}
        values.update(overrides)
        return services.ActivityInput(**values)

    def create(self, **overrides: Any) -> Any:
        return services.create_activity(self.workspace, self.seat("planner"), self.plan(**overrides))


def make_groups(ws: Any) -> dict[str, CustomerGroup]:
    made = {}
    for key, type_, tags in (("knowledge", GroupType.KNOWLEDGE, ["护肤"]), ("vip", GroupType.VIP, ["高价值"]),
                             ("welfare", GroupType.WELFARE, ["护肤", "新客"]), ("other", GroupType.WELFARE, [])):
        made[key] = CustomerGroup.objects.create(workspace=ws, chat_id=f"wr-{key}", name=f"{key}群", type=type_, tags=tags,
                                                 member_count=10, created_at=START - dt.timedelta(days=30))
    return made


@pytest.fixture
def town(brand_a: Any) -> Town:
    ws = brand_a.workspace
    staff = [StaffAccount.objects.create(workspace=ws, userid=f"staff{n}", name=f"小完子{n}") for n in range(2)]
    customers = [Customer.objects.create(workspace=ws, external_userid=f"wmACT{n:03}", name=f"客户{n}")
                 for n in range(8)]
    return Town(brand_a, ws, staff, customers, make_groups(ws))
