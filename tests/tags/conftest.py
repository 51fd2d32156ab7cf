"""Tags fixtures: brand alpha connected to a running WeCom twin with two staff members, their
staff accounts, and customers who added them (kept through the customers services)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone

from siyu.accounts.models import StaffAccount
from siyu.core.worker import HeartbeatWorker
from siyu.customers import services as customers
from tests.conftest import seat
from tests.simulator.twin import (
    RunningTwin,
    connect_brand,
    running_twin,
    tokens_in_memory,
    twin_calling_back,
    twin_config,
)

STAFF = ["xiaowanzi01", "xiaowanzi02"]


@pytest.fixture(autouse=True)
def _local_cache(settings: Any) -> Iterator[None]:
    with tokens_in_memory(settings):
        yield


@pytest.fixture
def twin() -> Iterator[RunningTwin]:
    with running_twin(twin_config()) as running:
        for userid in STAFF:
            running.add_staff(userid, name=userid)
        yield running


@pytest.fixture
def shop(brand_a: Any, twin: RunningTwin) -> Any:
    """Brand alpha connected to the twin, with its staff accounts; `ops` is a customer-ops seat."""
    connect_brand(brand_a.workspace, twin)
    brand_a.accounts = {u: StaffAccount.objects.create(workspace=brand_a.workspace, userid=u, name=u) for u in STAFF}
    brand_a.twin = twin
    brand_a.ops = seat(brand_a.members["customer_ops"], brand_a.workspace)
    return brand_a


def channel_codes(shop: Any, *states: str) -> None:
    """Channel codes with these states (a channel rule picks codes, so their states must exist)."""
    from siyu.channels.models import ChannelCode

    for state in states:
        ChannelCode.objects.for_workspace(shop.workspace).create(workspace=shop.workspace, name=f"活码{state}",
                                                                 state=state, touchpoint="store")


def drain() -> None:
    HeartbeatWorker(interval=0, batch=True).run()


def befriend(shop: Any, external_userid: str, staff: str = "xiaowanzi01", state: str = "",
             days_ago: float = 0) -> Any:
    """A customer adds a staff member at the twin, and we keep the add (as the callback would)."""
    shop.twin.admin.post("/twin/customers/add", json={"name": external_userid, "external_userid": external_userid,
                                                       "staff_userid": staff, "state": state,
                                                       "welcome": False}).raise_for_status()
    at = (timezone.now() - dt.timedelta(days=days_ago)).replace(microsecond=0)
    relation = customers.record_add(shop.workspace, staff_userid=staff, external_userid=external_userid,
                                    state=state, at=at)
    return relation.customer


def twin_tags(twin: RunningTwin) -> dict[str, Any]:
    """The twin's corp tags by name: {group name: {tag name: tag id}, ...} plus ids."""
    return {g["group_name"]: {t["name"]: t["id"] for t in g["tags"]} for g in twin.state()["tag_groups"]}


def twin_marks(twin: RunningTwin, staff: str, external_userid: str) -> list[str]:
    friendship = next(f for f in twin.state()["friendships"]
                      if f["userid"] == staff and f["external_userid"] == external_userid)
    return friendship["tag_ids"]


def seed_twin_tags(twin: RunningTwin, group: str, names: list[str]) -> dict[str, str]:
    """Tags an admin made at WeCom before the brand connected (through the API: no callback)."""
    answer = twin.api("externalcontact/add_corp_tag", {"group_name": group, "tag": [{"name": n} for n in names]})
    assert answer["errcode"] == 0, answer
    return {t["name"]: t["id"] for t in answer["tag_group"]["tag"]}


@pytest.fixture
def callback_twin(transactional_db: None, live_server: Any, brand_a: Any) -> Iterator[str]:
    """A twin that delivers its callbacks to the live server, brand alpha connected to it."""
    with twin_calling_back(brand_a.workspace, live_server.url, corp_id="wwtagstwin0001") as running:
        yield running.url
