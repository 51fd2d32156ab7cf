"""Following a 群发 in WeCom: the per-brand task is safe to run twice, reminders keep to WeCom's
3 a day, and roles that may not edit are refused before any WeCom call."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from siyu.core.permissions import Action, Role, allows
from siyu.messaging import tasks
from siyu.messaging.models import MassMessage, MassStatus
from siyu.messaging.services import MessageInput, confirm_message, plan_message, remind_message
from siyu.wecom.models import ApiCall
from tests.messaging.conftest import Shop, make_customer
from tests.simulator.twin import (
    RunningTwin,
    connect_brand,
)


@pytest.fixture
def sent(shop: Shop, twin: RunningTwin) -> MassMessage:
    connect_brand(shop.workspace, twin)
    for n, staff in enumerate(("staff0", "staff1", "staff0")):
        twin.admin.post("/twin/customers/add", json={"external_userid": f"wm{n}", "name": f"wm{n}",
                                                     "staff_userid": staff}).raise_for_status()
        make_customer(shop, f"wm{n}", follows=((int(staff[-1]), "", True),), tags=("高",))
    message = plan_message(shop.workspace, shop.seat("planner"), MessageInput(
        name="回访", target_kind="tags", tag_ids=[shop.tags["高"].pk], text="回访"))
    confirm_message(shop.workspace, shop.seat("planner"), message.pk)
    return message


def test_the_brand_task_run_twice_creates_each_wecom_task_once(shop, twin, sent):
    assert tasks.tick_brand.call(shop.workspace.pk)["sent"] == 1
    tasks.tick_brand.call(shop.workspace.pk)
    assert sorted(t["creator"] for t in twin.state()["mass_tasks"]) == ["staff0", "staff1"]
    sent.refresh_from_db()
    assert sent.status == MassStatus.SENT
    assert tasks.tick.call() == 1  # the brand still has batches to follow


def test_reminders_keep_to_three_a_day(shop, twin, sent):
    tasks.tick_brand.call(shop.workspace.pk)
    now = timezone.now()
    for n in range(3):
        assert remind_message(shop.workspace, shop.seat("planner"), sent.pk, now + dt.timedelta(minutes=n)) == 2
    with pytest.raises(ValidationError):
        remind_message(shop.workspace, shop.seat("planner"), sent.pk, now + dt.timedelta(minutes=5))
    assert [len(t["reminders"]) for t in twin.state()["mass_tasks"]] == [3, 3]
    # A day later WeCom allows three more.
    twin.advance(24 * 3600 + 120)
    assert remind_message(shop.workspace, shop.seat("planner"), sent.pk, now + dt.timedelta(days=1, minutes=1)) == 2


def test_roles_that_may_not_edit_are_refused_before_wecom(shop, twin, sent, login):
    tasks.tick_brand.call(shop.workspace.pk)
    refused = [r for r in Role.values if not allows(r, "messaging", Action.EDIT)]
    before = ApiCall.objects.for_workspace(shop.workspace).count()
    for role in refused:
        client = login(shop.brand.members[role])
        for url in (f"/content/messages/{sent.pk}/remind/", f"/content/messages/{sent.pk}/cancel/",
                    f"/api/messaging/{sent.pk}/remind", f"/api/messaging/{sent.pk}/cancel"):
            assert client.post(url).status_code == 403, (role, url)
    assert ApiCall.objects.for_workspace(shop.workspace).count() == before
    sent.refresh_from_db()
    assert sent.status == MassStatus.SENT
