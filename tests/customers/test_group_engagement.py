"""A customer joining a customer group (客户群) is engagement: over real HTTP the twin's
`change_external_chat` callback reaches the platform, the join lands on the timeline, sets
`last_engaged_at` and moves the customer to the engaged stage; leaving is recorded too."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from django.utils import timezone

from siyu.core import events
from siyu.customers import services
from siyu.customers.models import Customer, LifecycleStage, TimelineEntry
from siyu.customers.timeline import TimelineKind
from siyu.wecom.events import GroupUpdated
from tests.conftest import work_until
from tests.simulator.twin import twin_calling_back


def entries(ws, kind) -> list[TimelineEntry]:
    return list(TimelineEntry.objects.for_workspace(ws).filter(kind=kind))


@pytest.mark.slow
def test_a_customer_who_joins_a_group_in_the_twin_becomes_engaged(transactional_db, live_server, brand_a):
    ws = brand_a.workspace
    with twin_calling_back(ws, live_server.url) as twin, httpx.Client(base_url=twin.url) as http:
        http.post("/twin/staff", json={"userid": "xiaowanzi01", "name": "小完子01"}).raise_for_status()
        http.post("/twin/customers/add", json={"external_userid": "wmG1", "name": "林小满",
                                               "staff_userid": "xiaowanzi01"}).raise_for_status()
        customer = work_until(lambda: Customer.objects.for_workspace(ws).filter(external_userid="wmG1",
                                                                                score__gt=0).first())
        assert customer.stage == LifecycleStage.NEW and customer.last_engaged_at is None
        chat_id = http.post("/twin/groups", json={"owner": "xiaowanzi01", "name": "小完子福利群"}).json()["chat_id"]
        http.post("/twin/groups/join", json={"chat_id": chat_id, "external_userid": "wmG1", "scene": "invite",
                                             "invitor": "xiaowanzi01"}).raise_for_status()
        engaged = work_until(lambda: Customer.objects.for_workspace(ws).filter(
            pk=customer.pk, stage=LifecycleStage.ENGAGED).first(), timeout=30)
        [joined] = entries(ws, TimelineKind.GROUP_JOINED)
        assert (joined.customer_id, joined.detail, engaged.last_engaged_at) == (customer.pk, chat_id, joined.at)

        http.post("/twin/groups/leave", json={"chat_id": chat_id, "external_userid": "wmG1"}).raise_for_status()
        work_until(lambda: entries(ws, TimelineKind.GROUP_LEFT), timeout=30)
    assert Customer.objects.for_workspace(ws).get(pk=customer.pk).last_engaged_at == joined.at


def test_a_replayed_join_counts_once_and_staff_members_are_not_customers(transactional_db, brand_a):
    ws = brand_a.workspace
    services.record_add(ws, staff_userid="xiaowanzi01", external_userid="wmG1", state="",
                        at=timezone.now() - dt.timedelta(days=3))
    at = timezone.now().replace(microsecond=0) - dt.timedelta(hours=1)
    join = GroupUpdated(occurred_at=at, chat_id="wrGROUP", update_detail="add_member", join_scene=0,
                        member_change_count=3, member_changes=["wmG1", "xiaowanzi01", "wmNOBODY"])
    for key in ("delivery-1", "delivery-2"):  # WeCom delivered it twice under different keys
        events.publish(ws, join, dedupe_key=key)
    work_until(lambda: entries(ws, TimelineKind.GROUP_JOINED))
    assert len(entries(ws, TimelineKind.GROUP_JOINED)) == 1
    assert Customer.objects.for_workspace(ws).get(external_userid="wmG1").last_engaged_at == at
    # An older join arriving late does not move the latest engagement back.
    events.publish(ws, GroupUpdated(occurred_at=at - dt.timedelta(days=1), chat_id="wrOTHER",
                                    update_detail="add_member", member_changes=["wmG1"]), dedupe_key="late")
    work_until(lambda: len(entries(ws, TimelineKind.GROUP_JOINED)) == 2)
    assert Customer.objects.for_workspace(ws).get(external_userid="wmG1").last_engaged_at == at
    assert Customer.objects.for_workspace(ws).count() == 1  # nobody was created for unknown members
