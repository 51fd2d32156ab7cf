"""Community fixtures: a brand with two staff accounts and customers, and the WeCom twin over
real HTTP holding the same staff and customers, the brand connected to it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from siyu.accounts.models import StaffAccount
from siyu.customers.models import Customer, FollowRelation
from tests.conftest import seat
from tests.simulator.twin import (
    RunningTwin,
    connect_brand,
    running_twin,
    tokens_in_memory,
    twin_config,
)

STAFF = ("staff0", "staff1")


@dataclass
class Club:
    brand: Any
    workspace: Any
    twin: RunningTwin
    accounts: list[StaffAccount]
    customers: list[Customer]

    def seat(self, role: str) -> Any:
        return seat(self.brand.members[role], self.workspace)

    def group(self, name: str, members: list[str] = (), owner: str = "staff0", **extra: Any) -> str:  # type: ignore[assignment]
        """A group made by `owner` in their WeCom client; its chat_id."""
        response = self.twin.admin.post("/twin/groups", json={"owner": owner, "name": name, "members": list(members),
                                                             **extra})
        response.raise_for_status()
        return response.json()["chat_id"]

    def join(self, chat_id: str, external_userid: str) -> None:
        self.twin.admin.post("/twin/groups/join", json={"chat_id": chat_id, "external_userid": external_userid,
                                                        "scene": "invite"}).raise_for_status()

    def leave(self, chat_id: str, external_userid: str, scene: str = "left") -> None:
        self.twin.admin.post("/twin/groups/leave", json={"chat_id": chat_id, "external_userid": external_userid,
                                                         "scene": scene}).raise_for_status()

    def version(self, chat_id: str) -> str:
        return self.twin.api("externalcontact/groupchat/get", {"chat_id": chat_id})["group_chat"]["member_version"]


@pytest.fixture
def twin(settings: Any) -> Iterator[RunningTwin]:
    with tokens_in_memory(settings), running_twin(twin_config()) as running:
        for userid in STAFF:
            running.add_staff(userid)
        yield running


@pytest.fixture
def club(brand_a: Any, twin: RunningTwin) -> Club:
    """Six customers, friends of the two staff members, at the twin and in the brand."""
    ws = brand_a.workspace
    connect_brand(ws, twin)
    accounts = [StaffAccount.objects.create(workspace=ws, userid=u, name=f"小完子{n}") for n, u in enumerate(STAFF)]
    customers = []
    for n in range(6):
        external = f"wm{n:04}"
        twin.admin.post("/twin/customers/add", json={"external_userid": external, "name": f"客户{n}",
                                                     "staff_userid": STAFF[n % 2]}).raise_for_status()
        customer = Customer.objects.create(workspace=ws, external_userid=external, name=f"客户{n}")
        FollowRelation.objects.create(workspace=ws, customer=customer, account=accounts[n % 2], added_at=timezone.now())
        customers.append(customer)
    return Club(brand_a, ws, twin, accounts, customers)
