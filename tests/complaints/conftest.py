"""Complaints fixtures: a brand with two staff accounts, customers who are their friends, and a
group owned by one of them with the customers in it (rows as the community app keeps them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import timezone

from siyu.accounts.models import StaffAccount
from siyu.community.models import CustomerGroup, GroupMember, GroupType, MemberKind
from siyu.customers.models import Customer, FollowRelation
from siyu.mobile import sessions
from tests.conftest import seat


@dataclass
class Shop:
    brand: Any
    workspace: Any
    accounts: list[StaffAccount]
    customers: list[Customer]
    group: CustomerGroup
    vip_group: CustomerGroup

    def seat(self, role: str) -> Any:
        return seat(self.brand.members[role], self.workspace)


@pytest.fixture
def shop(brand_a: Any) -> Shop:
    ws = brand_a.workspace
    lead = seat(brand_a.members["customer_ops"], ws)
    accounts = [StaffAccount.objects.create(workspace=ws, userid=f"staff{n}", name=f"小完子{n}",
                                            operator=lead if n == 1 else None) for n in range(2)]
    group = CustomerGroup.objects.create(workspace=ws, chat_id="wr-fans", name="福利群", owner=accounts[0],
                                         owner_userid="staff0")
    vip = CustomerGroup.objects.create(workspace=ws, chat_id="wr-vip", name="会员群", owner=accounts[0],
                                       owner_userid="staff0", type=GroupType.VIP)
    customers = []
    for n in range(4):
        customer = Customer.objects.create(workspace=ws, external_userid=f"wm{n:04}", name=f"客户{n}")
        FollowRelation.objects.create(workspace=ws, customer=customer, account=accounts[1], added_at=timezone.now())
        for g in (group, vip):
            GroupMember.objects.create(workspace=ws, group=g, userid=customer.external_userid, customer=customer,
                                       kind=MemberKind.CUSTOMER)
        customers.append(customer)
    return Shop(brand_a, ws, accounts, customers, group, vip)


def as_fan(client: Any, workspace: Any, customer_id: int | None) -> Any:
    response = HttpResponse()
    sessions.start_fan_session(RequestFactory().get("/"), response,
                               sessions.FanSession(workspace.pk, "o1", "u1", customer_id))
    client.cookies[sessions.FAN_COOKIE] = response.cookies[sessions.FAN_COOKIE].value
    return client
