"""Stored progress counters: the detail page reads them (never counting the recipients), within
a query budget that does not grow with the message, and they match the ledger after a full
send through the twin and after a cancel in the middle of a send."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from siyu.customers.models import Customer
from siyu.messaging.models import (
    BatchStatus,
    BudgetRule,
    MassBatch,
    MassMessage,
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
    send_due,
    send_message,
    track,
)
from siyu.messaging.services import sending as sending_service
from siyu.messaging.services.budget import Recipients
from siyu.messaging.services.tally import counts as stored_counts
from siyu.wecom.services import client_for
from tests.messaging.conftest import make_customer, make_customers
from tests.simulator.twin import connect_brand


def ledger(message: MassMessage) -> dict[str, int]:
    return dict(MassRecipient.unscoped.filter(message=message).values("status").order_by()
                .annotate(n=Count("customer_id")).values_list("status", "n"))


def assert_counts_match(message: MassMessage) -> None:
    assert stored_counts(message) == ledger(message)
    for batch in MassBatch.unscoped.filter(message=message):
        sent = MassRecipient.unscoped.filter(message=message, sender_id=batch.sender_id, batch_number=batch.number,
                                             status=RecipientStatus.SENT).count()
        assert batch.sent_count == sent


def planned(shop, customers: int) -> MassMessage:
    make_customers(shop, customers)
    ids = list(Customer.objects.for_workspace(shop.workspace).values_list("pk", flat=True))
    message = plan_message(shop.workspace, shop.seat("planner"), MessageInput(
        name="周末上新", target_kind="customers", customer_ids=ids, text="周末上新"))
    confirm_message(shop.workspace, shop.seat("planner"), message.pk)
    return message


def test_the_progress_refresh_never_counts_recipients_and_keeps_its_budget(shop, login, django_assert_max_num_queries):
    message = planned(shop, 40)
    client = login(shop.brand.members["planner"])
    url = f"/content/messages/{message.pk}/progress/"
    client.get(url)  # warm the session and the brand
    with django_assert_max_num_queries(10), CaptureQueriesContext(connection) as seen:
        page = client.get(url)
    assert page.status_code == 200 and 'data-status="planned"' in page.content.decode()
    assert not [q["sql"] for q in seen.captured_queries if MassRecipient._meta.db_table in q["sql"]]
    with django_assert_max_num_queries(16):
        assert client.get(f"/content/messages/{message.pk}/").status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get("/content/messages/").status_code == 200


def test_counts_match_the_ledger_after_a_full_send(shop, twin):
    ws, planner = shop.workspace, shop.seat("planner")
    connect_brand(ws, twin)
    MessagingSettings.objects.create(workspace=ws, budget_rule=BudgetRule.DAILY_ONE)
    ids = []
    for n in range(6):
        staff = f"staff{n % 2}"
        twin.admin.post("/twin/customers/add", json={"external_userid": f"wm{n}", "name": f"wm{n}",
                                                     "staff_userid": staff}).raise_for_status()
        ids.append(make_customer(shop, f"wm{n}", follows=((n % 2, "", True),)).pk)
    now = timezone.now()
    budget.reserve(ws, Recipients.customers([ids[5]]), now, "sop", "earlier")  # wm5: refused by the limit
    message = plan_message(ws, planner, MessageInput(name="回访", target_kind="customers", customer_ids=ids,
                                                     text="回访"), now=now)
    confirm_message(ws, planner, message.pk, now)
    assert_counts_match(message)
    send_message(ws, message.pk, now)
    assert_counts_match(message)
    # wm2 deletes staff0 before staff0 confirms; both senders confirm.
    twin.admin.post("/twin/customers/delete-staff",
                    json={"staff_userid": "staff0", "external_userid": "wm2"}).raise_for_status()
    twin.advance(61)
    for task in twin.state()["mass_tasks"]:
        twin.admin.post("/twin/mass/confirm", json={"msgid": task["msgid"], "userid": task["creator"]}
                        ).raise_for_status()
    assert track(ws, now + dt.timedelta(minutes=2)) == 2
    message.refresh_from_db()
    assert message.status == MassStatus.DONE
    assert stored_counts(message) == {RecipientStatus.SENT: 4, RecipientStatus.NOT_FRIEND: 1,
                                      RecipientStatus.REFUSED: 1}
    assert_counts_match(message)
    shown = progress(ws, planner, message)
    assert (shown.total, shown.done, shown.percent) == (5, 5, 100)
    assert sorted((s.account.userid, s.sent) for s in shown.senders) == [("staff0", 2), ("staff1", 2)]


def test_a_cancel_in_the_middle_of_a_send(shop, twin):
    """The worker created staff0's batch in WeCom and died before staff1's: the cancel cancels
    staff0's task in WeCom, staff1's never goes, and every unit is given back exactly once."""
    ws, planner = shop.workspace, shop.seat("planner")
    connect_brand(ws, twin)
    ids = []
    for n in range(4):
        twin.admin.post("/twin/customers/add", json={"external_userid": f"wm{n}", "name": f"wm{n}",
                                                     "staff_userid": f"staff{n % 2}"}).raise_for_status()
        ids.append(make_customer(shop, f"wm{n}", follows=((n % 2, "", True),)).pk)
    now = timezone.now()
    # Each customer already holds one unit from an SOP: a double release would take it away.
    budget.reserve(ws, Recipients.customers(ids), now, "sop", "earlier")
    message = plan_message(ws, planner, MessageInput(name="回访", target_kind="customers", customer_ids=ids,
                                                     text="回访"), now=now)
    confirm_message(ws, planner, message.pk, now)
    assert budget.received(ws, ids, now) == dict.fromkeys(ids, 2)

    # The worker starts sending, creates the first batch, and dies.
    MassMessage.unscoped.filter(pk=message.pk).update(status=MassStatus.SENDING)
    first = MassBatch.unscoped.filter(message=message).select_related("sender").order_by("sender_id").first()
    with client_for(ws) as client:
        sending_service._create_batch(ws, client, message, first, now)
    assert [t["creator"] for t in twin.state()["mass_tasks"]] == [first.sender.userid]

    cancel_message(ws, planner, message.pk, now + dt.timedelta(minutes=1))
    tasks = twin.state()["mass_tasks"]
    assert [(t["creator"], t["cancelled"]) for t in tasks] == [(first.sender.userid, True)]
    assert dict(MassBatch.unscoped.filter(message=message).values_list("sender__userid", "status")) == {
        "staff0": BatchStatus.CANCELLED, "staff1": BatchStatus.CANCELLED}
    # The tick that follows sends nothing and gives nothing back again.
    later = now + dt.timedelta(minutes=5)
    assert send_due(ws, later) == 0
    track(ws, later)
    assert len(twin.state()["mass_tasks"]) == 1
    assert budget.received(ws, ids, now) == dict.fromkeys(ids, 1)
    assert stored_counts(message) == {RecipientStatus.CANCELLED: 4}
    assert_counts_match(message)


def test_a_batch_wecom_made_unbeknown_to_us_is_cancelled_when_found(shop, twin):
    """WeCom created a task but its answer was lost (the batch stays `creating`); the message is
    cancelled meanwhile. When the lookup finds the task, it is cancelled in WeCom, not left to go."""
    ws, planner = shop.workspace, shop.seat("planner")
    connect_brand(ws, twin)
    twin.admin.post("/twin/customers/add", json={"external_userid": "wm0", "name": "wm0",
                                                 "staff_userid": "staff0"}).raise_for_status()
    customer = make_customer(shop, "wm0")
    now = timezone.now()
    message = plan_message(ws, planner, MessageInput(name="回访", target_kind="customers",
                                                     customer_ids=[customer.pk], text="回访"), now=now)
    confirm_message(ws, planner, message.pk, now)
    MassMessage.unscoped.filter(pk=message.pk).update(status=MassStatus.SENDING)
    MassBatch.unscoped.filter(message=message).update(status=BatchStatus.CREATING, claimed_at=now,
                                                      next_check_at=now)
    twin.api("externalcontact/add_msg_template", json={
        "chat_type": "single", "external_userid": ["wm0"], "sender": "staff0", "text": {"content": "回访"}})

    cancel_message(ws, planner, message.pk, now)
    assert budget.received(ws, [customer.pk], now) == {customer.pk: 0}
    assert track(ws, now + dt.timedelta(minutes=1)) == 1
    assert [t["cancelled"] for t in twin.state()["mass_tasks"]] == [True]
    assert budget.received(ws, [customer.pk], now) == {customer.pk: 0}
    assert_counts_match(message)
