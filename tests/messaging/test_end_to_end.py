"""A 群发 from plan to results against the twin over real HTTP: the receive limit refuses a
customer before sending, staff at the twin confirm part, reminders go out on the ladder, the
result ledger matches the twin's record for every recipient, and a cancel cancels in WeCom."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone

from siyu.messaging.models import (
    BatchStatus,
    BudgetRule,
    MassBatch,
    MassRecipient,
    MassStatus,
    MessagingSettings,
    RecipientStatus,
)
from siyu.messaging.services import (
    MessageInput,
    budget,
    cancel_message,
    confirm_message,
    plan_message,
    progress,
    refused_page,
    send_message,
    summary,
    track,
)
from siyu.messaging.services.budget import Recipients
from siyu.segments.models import Segment, SegmentKind, SegmentMember
from tests.messaging.conftest import Shop, make_customer, make_shop
from tests.simulator.twin import (
    RunningTwin,
    connect_brand,
    running_twin,
    tokens_in_memory,
    twin_config,
)

STAFF = ("staff0", "staff1")
TWIN_STATUS = {1: RecipientStatus.SENT, 2: RecipientStatus.NOT_FRIEND, 3: RecipientStatus.OVER_LIMIT}


@pytest.fixture
def twin(settings: Any) -> Iterator[RunningTwin]:
    with tokens_in_memory(settings), running_twin(twin_config(mass_receive_limit_per_month=4)) as running:
        for userid in STAFF:
            running.add_staff(userid)
        yield running


@pytest.fixture
def world(brand_a: Any, twin: RunningTwin) -> Shop:
    """Ten customers, five per staff account, in the twin and in Siyu; a segment of all of them."""
    shop = make_shop(brand_a)
    connect_brand(shop.workspace, twin)
    segment = Segment.objects.create(workspace=shop.workspace, name="老客", kind=SegmentKind.STATIC)
    for n in range(10):
        external, index = f"wm{n:04}", n % 2
        twin.admin.post("/twin/customers/add", json={
            "external_userid": external, "name": external, "staff_userid": STAFF[index]}).raise_for_status()
        customer = make_customer(shop, external, follows=((index, "", True),))
        SegmentMember.objects.create(workspace=shop.workspace, segment=segment, customer=customer,
                                     added_at=timezone.now())
    MessagingSettings.objects.create(workspace=shop.workspace, budget_rule=BudgetRule.MONTHLY_FOUR)
    shop.segment = segment  # type: ignore[attr-defined]
    return shop


def twin_sends(twin: RunningTwin) -> dict[str, dict[str, Any]]:
    """The twin's record: external_userid → its send in whichever task holds it."""
    return {s["external_userid"]: s | {"msgid": t["msgid"], "cancelled": t["cancelled"]}
            for t in twin.state()["mass_tasks"] for s in t["sends"]}


def test_a_mass_message_goes_from_plan_to_results_in_wecom(world, twin):
    ws, planner = world.workspace, world.seat("planner")
    from siyu.customers.models import Customer

    customers = {c.external_userid: c for c in Customer.objects.for_workspace(ws)}
    # Another sender (an SOP) has spent wm0000's four this month: the limit refuses them.
    now = timezone.now()
    for n in range(4):
        budget.reserve(ws, Recipients.customers([customers["wm0000"].pk]), now, "sop", str(n))

    message = plan_message(ws, planner, MessageInput(name="双十二", target_kind="segment",
                                                     segment_id=world.segment.pk, text="上新啦"), now=now)
    preview = summary(ws, planner, message, now)
    assert (preview.targeted, preview.planned, preview.refused, preview.limit) == (10, 9, 1, 4)
    assert sorted((s.account.userid, s.recipients) for s in preview.senders) == [("staff0", 4), ("staff1", 5)]
    assert [r.customer.external_userid for r in refused_page(ws, planner, message)] == ["wm0000"]

    confirm_message(ws, planner, message.pk, now=now)
    assert send_message(ws, message.pk, now).status == MassStatus.SENT
    assert send_message(ws, message.pk, now).status == MassStatus.SENT  # a retry creates nothing again
    tasks = twin.state()["mass_tasks"]
    assert sorted((t["creator"], len(t["sends"])) for t in tasks) == [("staff0", 4), ("staff1", 5)]
    assert "wm0000" not in twin_sends(twin)

    # Straight after creating, nothing is asked (WeCom would answer 41063).
    assert track(ws, now) == 0
    # wm0002 deletes staff0 before staff0 confirms; staff0 then confirms, staff1 does not.
    twin.admin.post("/twin/customers/delete-staff",
                    json={"staff_userid": "staff0", "external_userid": "wm0002"}).raise_for_status()
    staff0_task = next(t["msgid"] for t in tasks if t["creator"] == "staff0")
    twin.advance(5)
    twin.admin.post("/twin/mass/confirm", json={"msgid": staff0_task, "userid": "staff0"}).raise_for_status()

    assert track(ws, now + dt.timedelta(minutes=31)) == 2
    sends = twin_sends(twin)
    rows = {r.customer.external_userid: r for r in MassRecipient.unscoped.filter(message=message).select_related("customer")}
    for external, send in sends.items():
        if send["status"]:
            assert rows[external].status == TWIN_STATUS[send["status"]], external
        else:
            assert rows[external].status == RecipientStatus.PENDING, external
    assert rows["wm0002"].status == RecipientStatus.NOT_FRIEND
    assert rows["wm0000"].status == RecipientStatus.REFUSED
    # The ladder's first step (30 min) reminded the sender still waiting, and only them.
    reminders = {t["creator"]: len(t["reminders"]) for t in twin.state()["mass_tasks"]}
    assert reminders == {"staff0": 0, "staff1": 1}
    # The budget: sent ones keep their unit, wm0002's came back.
    held = budget.received(ws, [c.pk for c in customers.values()], now)
    assert held[customers["wm0002"].pk] == 0 and held[customers["wm0004"].pk] == 1

    shown = progress(ws, planner, message)
    assert {s.account.userid: s.status for s in shown.senders} == {"staff0": "sent", "staff1": "pending"}

    cancel_message(ws, planner, message.pk, now=now + dt.timedelta(minutes=40))
    staff1_task = next(t for t in twin.state()["mass_tasks"] if t["creator"] == "staff1")
    assert staff1_task["cancelled"] is True
    assert twin.admin.post("/twin/mass/confirm",
                           json={"msgid": staff1_task["msgid"], "userid": "staff1"}).status_code == 409
    message.refresh_from_db()
    assert message.status == MassStatus.CANCELLED
    statuses = {r.customer.external_userid: r.status for r in MassRecipient.unscoped.filter(message=message).select_related("customer")}
    assert {statuses[f"wm{n:04}"] for n in (1, 3, 5, 7, 9)} == {RecipientStatus.CANCELLED}
    assert budget.received(ws, [customers["wm0001"].pk], now) == {customers["wm0001"].pk: 0}
    assert set(MassBatch.unscoped.filter(message=message).values_list("status", flat=True)) == {BatchStatus.SENT, BatchStatus.CANCELLED}


def test_a_batch_whose_answer_was_lost_is_found_in_wecom_not_sent_twice(world, twin):
    ws, planner = world.workspace, world.seat("planner")
    now = timezone.now()
    message = plan_message(ws, planner, MessageInput(name="回访", target_kind="segment", segment_id=world.segment.pk,
                                                     text="回访一下"), now=now)
    confirm_message(ws, planner, message.pk, now=now)
    # The worker died after WeCom made staff0's task, before recording it: send by hand, as it did.
    from siyu.wecom.client import MassMessageSpec
    from siyu.wecom.services import client_for

    batch = MassBatch.objects.for_workspace(ws).get(message=message, sender__userid="staff0")
    MassBatch.objects.for_workspace(ws).filter(pk=batch.pk).update(status=BatchStatus.CREATING, claimed_at=now,
                                                                   next_check_at=now)
    with client_for(ws) as client:
        client.add_mass_message(MassMessageSpec(external_userid=["wm0000"], sender="staff0", text="回访一下"))
    MassMessage = type(message)
    MassMessage.objects.for_workspace(ws).filter(pk=message.pk).update(status=MassStatus.SENDING)

    send_message(ws, message.pk, now)  # creates staff1's batch only
    assert track(ws, now + dt.timedelta(seconds=1)) == 1  # the lost one, looked up
    batch.refresh_from_db()
    assert batch.status == BatchStatus.PENDING and batch.msgid
    assert sorted(t["creator"] for t in twin.state()["mass_tasks"]) == ["staff0", "staff1"]
