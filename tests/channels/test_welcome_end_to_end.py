"""The whole first touch over real HTTP: the twin's customer adds a staff member, the twin
delivers the encrypted callback to the live server, a real worker processes the inbox and the
subscribers; the twin received the welcome message with variables filled, inside 20 s, and the
customer and the account's counter are kept."""

from __future__ import annotations

import pytest

from siyu.accounts.models import StaffAccount
from siyu.channels.models import WelcomeStatus
from siyu.customers.models import FollowRelation
from tests.channels.conftest import make_code, welcome_of
from tests.conftest import callbacks_received, wait_for, work_until
from tests.simulator.twin import twin_calling_back

pytestmark = pytest.mark.slow


@pytest.fixture
def callback_twin(transactional_db, live_server, brand_a):
    with twin_calling_back(brand_a.workspace, live_server.url, corp_id="wwfirsttouch01",
                           callback_token="FirstTouch") as running:
        yield running.url


def test_a_scan_through_the_twin_is_welcomed_within_twenty_seconds(callback_twin, brand_a):
    import httpx

    make_code(brand_a.workspace, state="chstore01", welcome_text="{customer_nickname}，欢迎！我是{staff_name}")
    with httpx.Client(base_url=callback_twin) as http:
        http.post("/twin/staff", json={"userid": "xiaowanzi01", "name": "小完子01"}).raise_for_status()
        StaffAccount.objects.create(workspace=brand_a.workspace, userid="xiaowanzi01", name="小完子01")
        http.post("/twin/customers/add", json={"external_userid": "wmE2E01", "name": "王小雨",
                                               "staff_userid": "xiaowanzi01", "state": "chstore01"}).raise_for_status()
        wait_for(lambda: callbacks_received(brand_a.workspace), timeout=20)
        state = work_until(lambda: _welcomed(http))
    [welcome] = [m for m in state["messages"] if m["kind"] == "welcome"]
    assert welcome["text"] == "王小雨，欢迎！我是小完子01"
    code = next(c for c in state["welcome_codes"] if c["external_userid"] == "wmE2E01")
    assert code["used"] and welcome["received_at"] - code["issued_at"] < 20
    relation = FollowRelation.objects.for_workspace(brand_a.workspace).get()
    assert welcome_of(relation).status == WelcomeStatus.SENT and relation.state == "chstore01"
    assert StaffAccount.objects.for_workspace(brand_a.workspace).get().friend_count == 1


def _welcomed(http) -> dict | None:
    state = http.get("/twin/state").json()
    return state if any(m["kind"] == "welcome" for m in state["messages"]) else None
