"""Lifecycle fixtures: customers made through the customers services (adds and losses), and a
test provider of orders and spend standing in for the commerce module."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone

from siyu.customers import services as customers
from siyu.customers.models import Customer, DeletedBy
from siyu.lifecycle import inputs

NOW = timezone.now().replace(microsecond=0)


def days_ago(days: float) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


def add(workspace: Any, external: str = "wmA", *, when: dt.datetime | None = None, staff: str = "xiaowanzi01") -> Customer:
    relation = customers.record_add(workspace, staff_userid=staff, external_userid=external, state="chstore",
                                    at=when or days_ago(1))
    return Customer.objects.for_workspace(workspace).get(pk=relation.customer_id)


def lose(workspace: Any, external: str = "wmA", *, when: dt.datetime | None = None, staff: str = "xiaowanzi01") -> None:
    customers.record_loss(workspace, staff_userid=staff, external_userid=external, at=when or days_ago(0.5),
                          by=DeletedBy.CUSTOMER)


def engage(customer: Customer, when: dt.datetime) -> None:
    Customer.objects.for_workspace(customer.workspace).filter(pk=customer.pk).update(last_engaged_at=when)


def fresh(customer: Customer) -> Customer:
    return Customer.objects.for_workspace(customer.workspace).get(pk=customer.pk)


class Shop:
    """What a commerce module would know: orders and spend per customer."""

    def __init__(self) -> None:
        self.orders: dict[int, int] = {}
        self.spend: dict[int, int] = {}

    def order_counts(self, workspace: Any, ids: list[int]) -> dict[int, int]:
        return {i: self.orders[i] for i in ids if i in self.orders}

    def spend_fen(self, workspace: Any, ids: list[int]) -> dict[int, int]:
        return {i: self.spend[i] for i in ids if i in self.spend}


@pytest.fixture
def shop() -> Iterator[Shop]:
    found = Shop()
    inputs.register_input(inputs.ORDERS, found.order_counts, key="test.orders")
    inputs.register_input(inputs.SPEND_FEN, found.spend_fen, key="test.spend")
    yield found
    inputs.unregister_input(inputs.ORDERS, "test.orders")
    inputs.unregister_input(inputs.SPEND_FEN, "test.spend")
