"""End to end over real HTTP: the twin's callbacks reach the live server and a real worker; a churn
becomes a console notification, and a transfer polled after the twin's 24 h keeps every account's
friend count right whether WeCom's callbacks or our poll record it first."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from siyu.accounts.models import StaffAccount
from siyu.accounts.services import account_for_userid
from siyu.core.models import Notification
from siyu.core.permissions import Role
from siyu.core.services import OPERATOR
from siyu.customers.models import CustomerTransfer, DeletedBy, FollowRelation, TransferStatus
from siyu.customers.services import transfers
from siyu.simulator.app import make_twin_server
from siyu.simulator.config import TwinConfig
from siyu.wecom import services as wecom
from siyu.wecom.models import InboundEvent, InboundStatus
from tests.conftest import callbacks_received, seat, wait_for, work_until

pytestmark = pytest.mark.slow


@pytest.fixture
def twin(transactional_db, live_server, brand_a, settings):
    from tests.simulator.twin import tokens_in_memory

    # WeCom's 24 h shortened to one real second: the twin signs callbacks with its own clock, and
    # the platform refuses a callback signed a day ahead (a replay), so its clock must not jump.
    config = TwinConfig(corp_id="wwchurn0001", callback_token="ChurnToken", transfer_sends_add_event=True,
                        transfer_delay_seconds=1.0,
                        callback_url=f"{live_server.url}/wecom/callback/alpha/")
    server, app = make_twin_server("127.0.0.1", 0, config)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    with tokens_in_memory(settings):
        wecom.configure(brand_a.workspace, OPERATOR, corp_id=config.corp_id, agent_id=config.agent_id,
                        secret=config.corp_secret, token=config.callback_token, aes_key=config.encoding_aes_key,
                        api_base=f"{url}/cgi-bin/")
        with httpx.Client(base_url=url) as http:
            for userid in ("xiaowanzi01", "xiaowanzi02"):
                http.post("/twin/staff", json={"userid": userid, "name": userid}).raise_for_status()
                account_for_userid(brand_a.workspace, userid)  # as the staff sync leaves them
            yield http
    server.shutdown()
    server.server_close()
    app.close()


def settled(workspace, count: int) -> None:
    wait_for(lambda: callbacks_received(workspace) >= count, timeout=20)
    stored = InboundEvent.objects.for_workspace(workspace)
    work_until(lambda: stored.count() >= count and {e.status for e in stored.all()} == {InboundStatus.PROCESSED})
    work_until(lambda: True)  # the fan-out of the last batch


def friends(workspace, userid: str) -> int:
    return StaffAccount.objects.for_workspace(workspace).get(userid=userid).friend_count


def test_a_churn_in_the_twin_notifies_the_operator(twin, brand_a):
    ws = brand_a.workspace
    twin.post("/twin/customers/add", json={"external_userid": "wmE2E", "name": "王小雨", "staff_userid": "xiaowanzi01",
                                           "welcome": False}).raise_for_status()
    settled(ws, 1)
    operator = seat(brand_a.members[Role.CUSTOMER_OPS], ws)
    StaffAccount.objects.for_workspace(ws).filter(userid="xiaowanzi01").update(operator=operator)
    twin.post("/twin/customers/delete-staff", json={"external_userid": "wmE2E",
                                                    "staff_userid": "xiaowanzi01"}).raise_for_status()
    settled(ws, 2)
    work_until(lambda: Notification.objects.for_workspace(ws).count() == 2)
    assert set(Notification.objects.for_workspace(ws).values_list("membership__role", flat=True)) == {
        Role.CUSTOMER_OPS, Role.OPS_LEAD}


def test_a_transfer_counts_once_when_the_callbacks_arrive_before_the_poll(twin, brand_a):
    ws = brand_a.workspace
    for ext in ("wmA", "wmB"):
        twin.post("/twin/customers/add", json={"external_userid": ext, "name": ext, "staff_userid": "xiaowanzi01",
                                               "welcome": False}).raise_for_status()
    settled(ws, 2)
    assert (friends(ws, "xiaowanzi01"), friends(ws, "xiaowanzi02")) == (2, 0)
    me = seat(brand_a.members[Role.CUSTOMER_OPS], ws)
    accounts = {a.userid: a.pk for a in StaffAccount.objects.for_workspace(ws)}
    ids = list(FollowRelation.objects.for_workspace(ws).values_list("customer_id", flat=True))
    result = transfers.request_transfer(ws, me, accounts["xiaowanzi01"], accounts["xiaowanzi02"], ids)
    assert result.accepted == 2
    time.sleep(1.2)
    twin.get("/twin/state")  # the twin settles due transfers: del (DELETE_BY_TRANSFER) and add callbacks
    settled(ws, 6)
    assert (friends(ws, "xiaowanzi01"), friends(ws, "xiaowanzi02")) == (0, 2)
    assert transfers.poll_transfers(ws).done == 2
    assert set(CustomerTransfer.objects.for_workspace(ws).values_list("status", flat=True)) == {TransferStatus.DONE}
    assert (friends(ws, "xiaowanzi01"), friends(ws, "xiaowanzi02")) == (0, 2)
    ended = FollowRelation.objects.for_workspace(ws).filter(account_id=accounts["xiaowanzi01"])
    assert {f.deleted_by for f in ended} == {DeletedBy.TRANSFER}
