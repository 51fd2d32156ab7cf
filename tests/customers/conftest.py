"""Customers fixtures: brands connected to a WeCom twin, and the add/loss events the connector
would publish from WeCom's callbacks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone

from siyu.core import events
from siyu.core.worker import HeartbeatWorker
from siyu.wecom.events import CustomerDeletedStaff, FriendAdded, StaffDeletedCustomer
from tests.simulator.twin import (
    RunningTwin,
    running_twin,
    tokens_in_memory,
    twin_config,
)
from tests.simulator.twin import connect_brand as connect  # noqa: F401  (used by the tests here)


@pytest.fixture(autouse=True)
def _local_cache(settings: Any) -> Iterator[None]:
    with tokens_in_memory(settings):
        yield


@pytest.fixture
def twin() -> Iterator[RunningTwin]:
    with running_twin(twin_config()) as running:
        running.add_staff("xiaowanzi01", name="小完子01")
        running.add_staff("xiaowanzi02", name="小完子02")
        yield running


def drain() -> None:
    HeartbeatWorker(interval=0, batch=True).run()


def at(seconds_ago: float = 0) -> dt.datetime:
    return (timezone.now() - dt.timedelta(seconds=seconds_ago)).replace(microsecond=0)


def publish(workspace: Any, event: Any) -> Any:
    """As the inbox drain publishes a callback: one event per WeCom delivery's dedupe key."""
    key = f"test:{event.name}:{event.staff_userid}:{event.external_userid}:{int(event.occurred_at.timestamp())}"
    return events.publish(workspace, event, dedupe_key=key, occurred_at=event.occurred_at)


def added(when: dt.datetime, external: str = "wmCUST01", staff: str = "xiaowanzi01", state: str = "chstore") -> FriendAdded:
    return FriendAdded(occurred_at=when, staff_userid=staff, external_userid=external, state=state)


def churned(when: dt.datetime, external: str = "wmCUST01", staff: str = "xiaowanzi01") -> CustomerDeletedStaff:
    return CustomerDeletedStaff(occurred_at=when, staff_userid=staff, external_userid=external)


def staff_deleted(when: dt.datetime, external: str = "wmCUST01", staff: str = "xiaowanzi01",
                  source: str = "") -> StaffDeletedCustomer:
    return StaffDeletedCustomer(occurred_at=when, staff_userid=staff, external_userid=external, source=source)
