"""End to end over real HTTP: the twin delivers an encrypted callback to the platform's live
server, a real worker turns it into a domain event, and the console shows it."""

import httpx
import pytest

from siyu.core.models import EventRecord
from siyu.core.services import OPERATOR
from siyu.wecom import services
from siyu.wecom.models import InboundEvent, InboundStatus
from tests.conftest import callbacks_received, wait_for, work_until
from tests.simulator.twin import twin_calling_back

pytestmark = pytest.mark.slow


@pytest.fixture
def twin(transactional_db, live_server, brand_a):
    with twin_calling_back(brand_a.workspace, live_server.url, corp_id="wwe2e0001", callback_token="E2eToken") as running:
        yield running.url


def test_a_customer_added_in_the_twin_shows_up_in_the_console(twin, brand_a, login):
    with httpx.Client(base_url=twin) as http:
        http.post("/twin/staff", json={"userid": "xiaowanzi01", "name": "小完子01"}).raise_for_status()
        http.post("/twin/customers/add", json={"external_userid": "wmE2E01", "name": "王小雨",
                                               "staff_userid": "xiaowanzi01", "state": "store"}).raise_for_status()
        http.post("/twin/customers/delete-staff", json={"external_userid": "wmE2E01",
                                                        "staff_userid": "xiaowanzi01"}).raise_for_status()
    wait_for(lambda: callbacks_received(brand_a.workspace) == 2, timeout=20)
    stored = InboundEvent.objects.for_workspace(brand_a.workspace)
    work_until(lambda: {e.status for e in stored.all()} == {InboundStatus.PROCESSED})
    added = EventRecord.objects.for_workspace(brand_a.workspace).get(name="wecom.friend_added")
    assert (added.payload["external_userid"], added.payload["state"]) == ("wmE2E01", "store")
    assert EventRecord.objects.for_workspace(brand_a.workspace).filter(name="wecom.customer_deleted_staff").count() == 1

    html = login(brand_a.admin).get("/wecom/events/").content.decode()
    assert "change_external_contact/add_external_contact" in html
    assert "change_external_contact/del_follow_user" in html
    with httpx.Client(base_url=twin) as http:
        deliveries = http.get("/twin/state").json()["callbacks"]
    assert [(d["kind"], d["status"], len(d["attempts"])) for d in deliveries] == [
        ("change_external_contact/add_external_contact", "delivered", 1),
        ("change_external_contact/del_follow_user", "delivered", 1),
    ]


def test_test_connection_fetches_a_token_from_the_twin_and_health_shows_it(twin, brand_a, login):
    client = login(brand_a.admin)
    page = client.post("/wecom/settings/test/", follow=True).content.decode()
    assert "7200" in page
    assert "access_token" not in page
    from siyu.wecom.models import ApiCall

    assert ApiCall.objects.for_workspace(brand_a.workspace).filter(endpoint="gettoken", errcode=0).count() == 1
    assert "—" not in client.get("/wecom/settings/").content.decode().split("data-testid=\"health\"")[1].split("</tr>")[1]


def test_test_connection_with_a_wrong_secret_says_what_wecom_answered(twin, brand_a, login):
    connection = services.connection_of(brand_a.workspace)
    services.configure(brand_a.workspace, OPERATOR, corp_id=connection.corp_id, agent_id="1", secret="wrong",
                       token=connection.token, aes_key=connection.aes_key, api_base=connection.api_base)
    page = login(brand_a.admin).post("/wecom/settings/test/", follow=True).content.decode()
    assert "40001" in page
