"""Channel code fixtures: a WeCom twin with four staff members, brands connected to it, and the
matching staff accounts; helpers that build valid code input."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from siyu.accounts.models import StaffAccount
from siyu.channels.services import codes
from tests.conftest import seat
from tests.simulator.twin import (
    RunningTwin,
    running_twin,
    tokens_in_memory,
    twin_config,
)
from tests.simulator.twin import (
    connect_brand as connect,
)

STAFF = ["xiaowanzi01", "xiaowanzi02", "xiaowanzi03", "backup01"]


@pytest.fixture(autouse=True)
def _local_cache(settings: Any) -> Iterator[None]:
    with tokens_in_memory(settings):
        yield


@pytest.fixture
def twin() -> Iterator[RunningTwin]:
    with running_twin(twin_config()) as running:
        for userid in STAFF:
            running.add_staff(userid)
        yield running


def make_accounts(workspace: Any, userids: list[str] = STAFF) -> dict[str, StaffAccount]:
    return {u: StaffAccount.objects.create(workspace=workspace, userid=u, name=u.replace("xiaowanzi", "小完子"))
            for u in userids}


@pytest.fixture
def shop(brand_a: Any, twin: RunningTwin) -> Any:
    """Brand alpha connected to the twin, with its four staff accounts."""
    connect(brand_a.workspace, twin)
    brand_a.accounts = make_accounts(brand_a.workspace)
    brand_a.twin = twin
    brand_a.planner = seat(brand_a.members["planner"], brand_a.workspace)
    return brand_a


def code_input(accounts: dict[str, StaffAccount], **overrides: Any) -> codes.CodeInput:
    """A valid store code routing among the first two accounts, with a backup."""
    values: dict[str, Any] = {
        "name": "南京西路店", "touchpoint": "store",
        "seats": [codes.SeatInput(accounts["xiaowanzi01"].pk), codes.SeatInput(accounts["xiaowanzi02"].pk),
                  codes.SeatInput(accounts["backup01"].pk, is_backup=True)],
    }
    values.update(overrides)
    return codes.CodeInput(**values)


def way_of(twin: RunningTwin, config_id: str) -> dict[str, Any] | None:
    return next((w for w in twin.state()["contact_ways"] if w["config_id"] == config_id), None)


# --- first touch: welcome, welfare, tags (test_welcome*.py, test_welfare*.py, test_tagging*.py) ---

def drain() -> None:
    """Run every ready subscriber task with a real worker, as `siyu worker` does."""
    from siyu.core.worker import HeartbeatWorker

    HeartbeatWorker(interval=0, batch=True).run()


def scan_and_add(twin: RunningTwin, staff_userid: str, state: str, name: str = "王小雨",
                 external_userid: str | None = None, welcome: bool = True) -> dict[str, Any]:
    """A customer adds a staff member at the twin; the answer holds the welcome code."""
    body: dict[str, Any] = {"name": name, "staff_userid": staff_userid, "state": state, "welcome": welcome}
    if external_userid:
        body["external_userid"] = external_userid
    response = twin.admin.post("/twin/customers/add", json=body)
    response.raise_for_status()
    return response.json()


def publish_add(workspace: Any, added: dict[str, Any], at: Any = None, half: bool = False) -> Any:
    """The connector's work for that add: the FriendAdded domain event on the bus, with the
    inbox's dedupe key (so a second publish of the same add is the same event)."""
    from django.utils import timezone

    from siyu.core import events
    from siyu.wecom.events import FriendAdded, FriendHalfAdded

    at = (at or timezone.now()).replace(microsecond=0)  # WeCom's CreateTime has whole seconds
    kind = FriendHalfAdded if half else FriendAdded
    event = kind(occurred_at=at, staff_userid=added["userid"], external_userid=added["external_userid"],
                 state=added["state"], welcome_code=added["welcome_code"])
    key = f"test:{kind.name}:{added['userid']}:{added['external_userid']}:{int(at.timestamp())}"
    return events.publish(workspace, event, dedupe_key=key, occurred_at=at)


def make_code(workspace: Any, state: str = "chwelcome01", **fields: Any) -> Any:
    """A channel code row as the code form saves it (the contact way itself is not needed:
    the twin takes the add's state directly)."""
    from siyu.channels.models import ChannelCode

    values: dict[str, Any] = {"name": f"渠道{state}", "touchpoint": "store", "state": state,
                              "welcome_text": "{customer_nickname}你好，我是{persona_name}（{staff_name}）。福利：{welfare}"}
    return ChannelCode.objects.create(workspace=workspace, **(values | fields))


@pytest.fixture
def live_shop(transactional_db: None, shop: Any) -> Any:
    """`shop` with committed rows, for tests that run the real worker."""
    return shop


def welcome_of(relation):
    """The welcome record of the relation's current add (None before the add is welcomed)."""
    from siyu.channels.models import WelcomeRecord

    relation.refresh_from_db()
    return WelcomeRecord.unscoped.filter(relation=relation, added_at=relation.added_at).first()
