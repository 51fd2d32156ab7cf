"""Messaging fixtures: a brand with staff accounts, tags and customers built in bulk."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from siyu.accounts.models import StaffAccount
from siyu.customers.models import Customer, FollowRelation
from siyu.tags.models import CustomerTag, Tag, TagGroup
from tests.conftest import seat
from tests.simulator.twin import RunningTwin, running_twin, tokens_in_memory, twin_config

# Mid-month in Asia/Shanghai: periods of both rules are unambiguous.
NOW = dt.datetime(2026, 12, 15, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@dataclass
class Shop:
    brand: Any
    workspace: Any
    accounts: list[StaffAccount]
    tags: dict[str, Tag]

    def seat(self, role: str) -> Any:
        return seat(self.brand.members[role], self.workspace)


def make_shop(brand: Any, accounts: int = 2) -> Shop:
    ws = brand.workspace
    staff = [StaffAccount.objects.create(workspace=ws, userid=f"staff{i}", name=f"小完子{i}") for i in range(accounts)]
    skin = TagGroup.objects.create(workspace=ws, name="肤质", wecom_group_id="g-skin")
    intent = TagGroup.objects.create(workspace=ws, name="意向", wecom_group_id="g-intent")
    tags = {n: Tag.objects.create(workspace=ws, group=g, name=n, wecom_tag_id=f"t-{n}")
            for g, names in ((skin, ("干皮", "油皮")), (intent, ("高", "低"))) for n in names}
    return Shop(brand, ws, staff, tags)


@pytest.fixture
def shop(brand_a: Any) -> Shop:
    return make_shop(brand_a)


@pytest.fixture
def twin(settings: Any) -> Iterator[RunningTwin]:
    """A running WeCom twin with the shop's two staff members (connect a brand with `connect_brand`)."""
    with tokens_in_memory(settings), running_twin(twin_config()) as running:
        running.add_staff("staff0")
        running.add_staff("staff1")
        yield running


def make_customer(shop: Shop, external: str, *, follows: tuple[tuple[int, str, bool], ...] = ((0, "", True),),
                  tags: tuple[str, ...] = (), added_at: dt.datetime = NOW) -> Customer:
    """A customer with follows as (account index, state, active) and tags by name."""
    ws = shop.workspace
    customer = Customer.objects.create(workspace=ws, external_userid=external, name=external, first_added_at=added_at)
    for n, (index, state, active) in enumerate(follows):
        FollowRelation.objects.create(workspace=ws, customer=customer, account=shop.accounts[index], state=state,
                                      added_at=added_at + dt.timedelta(minutes=n),
                                      deleted_at=None if active else added_at)
    CustomerTag.unscoped.bulk_create([CustomerTag(workspace=ws, customer=customer, tag=shop.tags[t]) for t in tags])
    return customer


def make_customers(shop: Shop, count: int, prefix: str = "wm") -> list[Customer]:
    return [make_customer(shop, f"{prefix}{n:04}", follows=((n % len(shop.accounts), "", True),))
            for n in range(count)]
