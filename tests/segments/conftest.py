"""Segments fixtures: a brand with staff accounts, tags, custom fields and a way to build
customers with their tags, follows and field values in one call."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from siyu.accounts.models import StaffAccount
from siyu.customers.models import Customer, CustomField, FieldKind, FollowRelation
from siyu.tags.models import CustomerTag, Tag, TagGroup
from tests.conftest import seat

NOW = dt.datetime(2025, 6, 15, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@dataclass
class Shop:
    brand: Any
    workspace: Any
    accounts: list[StaffAccount]
    tags: list[Tag]
    fields: dict[str, CustomField]

    def seat(self, role: str) -> Any:
        return seat(self.brand.members[role], self.workspace)


def make_shop(brand: Any) -> Shop:
    ws = brand.workspace
    accounts = [StaffAccount.objects.create(workspace=ws, userid=f"staff{i}", name=f"小完子{i}") for i in range(3)]
    skin = TagGroup.objects.create(workspace=ws, name="肤质", required=True)
    intent = TagGroup.objects.create(workspace=ws, name="意向")
    tags = [Tag.objects.create(workspace=ws, group=skin, name=n) for n in ("干皮", "油皮")] + [
        Tag.objects.create(workspace=ws, group=intent, name=n) for n in ("高", "低")]
    fields = {
        "skin": CustomField.objects.create(workspace=ws, key="skin", label="肤质说明", kind=FieldKind.TEXT),
        "spend": CustomField.objects.create(workspace=ws, key="spend", label="消费", kind=FieldKind.NUMBER),
        "visit": CustomField.objects.create(workspace=ws, key="visit", label="到店日", kind=FieldKind.DATE),
        "store": CustomField.objects.create(workspace=ws, key="store", label="门店", kind=FieldKind.CHOICE,
                                            choices=["a", "b", "c"]),
    }
    return Shop(brand, ws, accounts, tags, fields)


@pytest.fixture
def shop(brand_a: Any) -> Shop:
    return make_shop(brand_a)


def make_customer(shop: Shop, external: str, *, tags: list[int] = (), follows: list[tuple[int, str, bool]] = (),
                  **values: Any) -> Customer:
    """A customer with tag ids, follows as (account index, state, active) and column values."""
    ws = shop.workspace
    values.setdefault("first_added_at", timezone.now())
    customer = Customer.objects.create(workspace=ws, external_userid=external, **values)
    CustomerTag.unscoped.bulk_create([CustomerTag(workspace=ws, customer=customer, tag_id=t) for t in tags])
    for index, state, active in follows:
        FollowRelation.objects.create(workspace=ws, customer=customer, account=shop.accounts[index], state=state,
                                      added_at=values["first_added_at"] or timezone.now(),
                                      deleted_at=None if active else timezone.now())
    return customer
