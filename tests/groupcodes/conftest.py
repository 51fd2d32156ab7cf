"""Group-code fixtures: a brand connected to a WeCom twin over real HTTP whose group caps are
scaled down (QR joins stop at 6 members, full at 10) so that rotations take a few joins, not
hundreds; the rules are WeCom's, only the numbers are smaller."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.utils import timezone

from siyu.community import services as community
from siyu.groupcodes import services, subscribers
from siyu.groupcodes.models import GroupCode
from siyu.wecom.events import GroupCreated, GroupUpdated
from tests.conftest import seat
from tests.simulator.twin import (
    RunningTwin,
    connect_brand,
    running_twin,
    tokens_in_memory,
    twin_config,
)

QR_CAP, FULL_AT = 6, 10
STAFF = ("staff0", "staff1")


@dataclass
class Club:
    brand: Any
    workspace: Any
    twin: RunningTwin
    numbers: Iterator[int] = field(default_factory=itertools.count)

    def seat(self, role: str = "admin") -> Any:
        return seat(self.brand.members[role], self.workspace)

    def group(self, name: str, guests: int = 0, owner: str = "staff0") -> str:
        """A group made by `owner` in their client, read into Siyu as community would."""
        response = self.twin.admin.post("/twin/groups", json={"owner": owner, "name": name, "guests": guests})
        response.raise_for_status()
        chat_id = response.json()["chat_id"]
        community.refresh_group(self.workspace, chat_id)
        return chat_id

    def customer(self) -> str:
        external = f"wmscan{next(self.numbers):05}"
        self.twin.admin.post("/twin/customers/add", json={"external_userid": external, "name": external,
                                                         "staff_userid": "staff1"}).raise_for_status()
        return external

    def scan(self, code: GroupCode, external_userid: str | None = None) -> dict[str, Any]:
        """A customer scans the code's QR in WeChat: the twin puts them in a group (or refuses)."""
        response = self.twin.admin.post("/twin/groups/join", json={
            "config_id": code.config_id, "external_userid": external_userid or self.customer(), "scene": "qr"})
        return {"status": response.status_code, **response.json()}

    def deliver(self, joined: dict[str, Any], created: bool = False) -> None:
        """The callbacks of a join reach Siyu's subscriber (the group created first, when WeCom
        opened one for the scan)."""
        if created:
            subscribers.link_new_group(self.workspace, GroupCreated(occurred_at=timezone.now(),
                                                                   chat_id=joined["chat_id"]), None)
        subscribers.rotate_on_join(self.workspace, GroupUpdated(
            occurred_at=timezone.now(), chat_id=joined["chat_id"], update_detail="add_member", join_scene=3,
            member_change_count=1), None)

    def way(self, code: GroupCode) -> dict[str, Any]:
        return self.twin.api("externalcontact/groupchat/get_join_way", {"config_id": code.config_id})["join_way"]

    def make_code(self, chat_ids: list[str], **extra: Any) -> GroupCode:
        data = services.CodeInput(name=extra.pop("name", "粉丝群活码"), chat_ids=chat_ids,
                                  room_base_name=extra.pop("room_base_name", "粉丝群"),
                                  qr_cap=extra.pop("qr_cap", QR_CAP), full_at=extra.pop("full_at", FULL_AT), **extra)
        return services.create_code(self.workspace, self.seat(), data)


def scaled_twin(**overrides: Any) -> Any:
    return twin_config(group_qr_join_max_members=QR_CAP, group_max_members=FULL_AT, **overrides)


@pytest.fixture
def twin(settings: Any) -> Iterator[RunningTwin]:
    with tokens_in_memory(settings), running_twin(scaled_twin()) as running:
        for userid in STAFF:
            running.add_staff(userid)
        yield running


@pytest.fixture
def club(brand_a: Any, twin: RunningTwin) -> Club:
    connect_brand(brand_a.workspace, twin)
    return Club(brand_a, brand_a.workspace, twin)
