"""群发 for other apps (`send_to_customers`): planned and confirmed without a console member,
idempotent on (brand, source, ref), spending the shared budget under its own source, shown in
the console with that source, and sent through the twin once however often it is asked."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from siyu.core.models import AuditEntry
from siyu.customers.models import Customer
from siyu.messaging.models import (
    BudgetRule,
    MassMessage,
    MassRecipient,
    MassStatus,
    MessagingSettings,
    RecipientStatus,
)
from siyu.messaging.services import (
    MessageInput,
    budget,
    plan_message,
    send_message,
    send_to_customers,
    summary,
)
from tests.messaging.conftest import NOW, make_customer, make_customers
from tests.simulator.twin import connect_brand


@pytest.fixture
def four_a_month(shop):
    MessagingSettings.objects.create(workspace=shop.workspace, budget_rule=BudgetRule.MONTHLY_FOUR)
    return shop


def sop_send(shop, ref: str, ids, **kwargs):
    return send_to_customers(shop.workspace, source="sop", ref=ref, name="入会第 3 天", customer_ids=ids,
                             text="今天的护肤小贴士", now=NOW, **kwargs)


def test_the_same_ref_twice_is_one_message_and_one_unit_each(four_a_month):
    shop = four_a_month
    ids = [c.pk for c in make_customers(shop, 3)]
    first = sop_send(shop, "rule-7:day-3", ids)
    again = sop_send(shop, "rule-7:day-3", ids)
    assert again.pk == first.pk
    assert MassMessage.objects.for_workspace(shop.workspace).count() == 1
    assert (first.status, first.source, first.planned_count, first.created_by) == (MassStatus.SCHEDULED, "sop", 3, None)
    assert budget.received(shop.workspace, ids, NOW) == dict.fromkeys(ids, 1)
    # Another ref is another message, and spends another unit.
    sop_send(shop, "rule-7:day-4", ids)
    assert budget.received(shop.workspace, ids, NOW) == dict.fromkeys(ids, 2)


def test_customers_over_the_limit_are_refused_and_the_console_counts_sop_units(four_a_month):
    shop = four_a_month
    full, fresh = make_customer(shop, "wmFULL"), make_customer(shop, "wmFRESH")
    for n in range(4):
        sop_send(shop, f"full-{n}", [full.pk])
    message = sop_send(shop, "both", [full.pk, fresh.pk])
    assert (message.planned_count, message.refused_count) == (1, 1)
    statuses = dict(MassRecipient.unscoped.filter(message=message).values_list("customer_id", "status"))
    assert statuses == {full.pk: RecipientStatus.REFUSED, fresh.pk: RecipientStatus.PLANNED}
    # The SOP's units are the console's too: a planner's 群发 sees wmFULL refused.
    console = plan_message(shop.workspace, shop.seat("planner"), MessageInput(
        name="周末", target_kind="customers", customer_ids=[full.pk, fresh.pk], text="周末上新"), now=NOW)
    assert summary(shop.workspace, shop.seat("planner"), console, NOW).refused == 1


def test_a_queryset_of_customers_is_scoped_to_the_brand(four_a_month, brand_b):
    shop = four_a_month
    make_customers(shop, 2)
    Customer.objects.create(workspace=brand_b.workspace, external_userid="other-brand", name="other")
    message = sop_send(shop, "all", Customer.unscoped.values("pk"))
    assert message.planned_count == 2


def test_bad_input_is_refused_with_reasons(four_a_month):
    shop = four_a_month
    with pytest.raises(ValidationError) as caught:
        sop_send(shop, "empty", [])
    assert "customers" in caught.value.message_dict
    with pytest.raises(ValueError, match="source"):
        send_to_customers(shop.workspace, source="mass", ref="x", name="n", customer_ids=[1], text="t")
    with pytest.raises(ValueError):
        send_to_customers(shop.workspace, source="robot", ref="x", name="n", customer_ids=[1], text="t")
    assert not MassMessage.objects.for_workspace(shop.workspace).exists()


def test_it_is_audited_as_the_system_and_listed_with_its_source(four_a_month, login):
    shop = four_a_month
    message = sop_send(shop, "listed", [c.pk for c in make_customers(shop, 2)])
    entry = AuditEntry.objects.for_workspace(shop.workspace).get(module="messaging")
    assert (entry.actor, entry.actor_name, entry.detail["source"]) == (None, "", "sop")
    client = login(shop.brand.members["planner"])
    assert [(m["id"], m["source"]) for m in client.get("/api/messaging/").json()["items"]] == [(message.pk, "sop")]
    page = client.get("/content/messages/").content.decode()
    row = page.split(f'data-message="{message.pk}"')[1].split("</tr>")[0]
    assert 'data-testid="source"' in row and "SOP" in row


def test_a_later_send_at_is_kept_and_a_past_one_means_now(four_a_month):
    shop = four_a_month
    ids = [make_customer(shop, "wm1").pk]
    later = sop_send(shop, "later", ids, send_at=NOW + timezone.timedelta(hours=2))
    past = sop_send(shop, "past", ids, send_at=NOW - timezone.timedelta(hours=2))
    assert later.send_at == NOW + timezone.timedelta(hours=2)
    assert past.send_at is None


def test_asked_twice_it_reaches_wecom_once(shop, twin):
    connect_brand(shop.workspace, twin)
    for n in range(2):
        twin.admin.post("/twin/customers/add", json={"external_userid": f"wm{n}", "name": f"wm{n}",
                                                     "staff_userid": "staff0"}).raise_for_status()
        make_customer(shop, f"wm{n}")
    ids = list(Customer.objects.for_workspace(shop.workspace).values_list("pk", flat=True))
    now = timezone.now()
    for _ in range(2):
        message = send_to_customers(shop.workspace, source="sop", ref="welcome-day-1", name="欢迎",
                                    customer_ids=ids, text="欢迎加入", now=now)
        send_message(shop.workspace, message.pk, now)
    tasks = twin.state()["mass_tasks"]
    assert [(t["creator"], len(t["sends"])) for t in tasks] == [("staff0", 2)]
