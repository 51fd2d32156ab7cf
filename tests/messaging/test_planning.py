"""Planning a 群发: the target (segment, WeCom tag_filter semantics, chosen customers), one
sender per customer picked deterministically, batches of at most 10,000 per sender, and who the
receive limit refuses — with clear errors for bad input and the messaging column's roles."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from siyu.channels.models import ChannelCode
from siyu.customers.models import Customer
from siyu.ip.models import Persona
from siyu.messaging.models import MassBatch, MassRecipient, MassStatus, RecipientStatus
from siyu.messaging.services import (
    MessageInput,
    budget,
    plan_message,
    refused_page,
    reschedule,
    summary,
)
from siyu.messaging.services.budget import Recipients
from siyu.segments.models import Segment, SegmentKind, SegmentMember
from tests.messaging.conftest import NOW, make_customer, make_shop


def planned(message) -> dict[str, tuple[str, str]]:
    rows = MassRecipient.unscoped.filter(message=message).select_related("customer", "sender")
    return {r.customer.external_userid: (r.sender.userid, r.status) for r in rows}


def tags_input(shop, *names: str) -> MessageInput:
    return MessageInput(name="标签群发", target_kind="tags", tag_ids=[shop.tags[n].pk for n in names], text="你好")


def test_tags_are_or_within_a_group_and_and_across_groups(shop):
    make_customer(shop, "dry-high", tags=("干皮", "高"))
    make_customer(shop, "oily-high", tags=("油皮", "高"))
    make_customer(shop, "dry-low", tags=("干皮", "低"))
    make_customer(shop, "high-only", tags=("高",))
    message = plan_message(shop.workspace, shop.seat("planner"), tags_input(shop, "干皮", "油皮", "高"))
    assert set(planned(message)) == {"dry-high", "oily-high"}


def test_a_segments_members_are_the_target(shop):
    segment = Segment.objects.create(workspace=shop.workspace, name="老客", kind=SegmentKind.STATIC)
    member = make_customer(shop, "member")
    make_customer(shop, "outsider")
    SegmentMember.objects.create(workspace=shop.workspace, segment=segment, customer=member, added_at=NOW)
    message = plan_message(shop.workspace, shop.seat("planner"), MessageInput(
        name="人群", target_kind="segment", segment_id=segment.pk, text="你好"))
    assert set(planned(message)) == {"member"}


def test_the_persona_account_of_the_channel_that_brought_them_sends_else_the_earliest_follow(shop):
    persona = Persona.objects.create(workspace=shop.workspace, name="小完子")
    shop.accounts[1].persona = persona
    shop.accounts[1].save()
    ChannelCode.objects.create(workspace=shop.workspace, name="门店", touchpoint="store", state="store")
    make_customer(shop, "by-channel", follows=((0, "", True), (1, "store", True)))
    make_customer(shop, "earliest", follows=((1, "", True), (0, "", True)))
    make_customer(shop, "lost-first", follows=((0, "", False), (1, "", True)))
    make_customer(shop, "lost", follows=((0, "", False),))
    message = plan_message(shop.workspace, shop.seat("planner"), MessageInput(
        name="谁发", target_kind="customers", text="你好",
        customer_ids=list(Customer.objects.for_workspace(shop.workspace).values_list("pk", flat=True))))
    assert {k: v[0] for k, v in planned(message).items()} == {
        "by-channel": "staff1", "earliest": "staff1", "lost-first": "staff1"}
    shown = summary(shop.workspace, shop.seat("planner"), message)
    assert (shown.targeted, shown.planned, shown.unreachable) == (4, 3, 1)


def test_batches_hold_at_most_ten_thousand_customers_of_one_sender(shop, monkeypatch):
    from siyu.messaging.services import planning

    monkeypatch.setattr(planning, "BATCH_SIZE", 2)  # the same SQL, at a size a test can build
    for n in range(5):
        make_customer(shop, f"wm{n}", follows=((0, "", True),), tags=("高",))
    make_customer(shop, "other", follows=((1, "", True),), tags=("高",))
    message = plan_message(shop.workspace, shop.seat("planner"), tags_input(shop, "高"))
    batches = sorted(MassBatch.unscoped.filter(message=message).values_list("sender__userid", "number", "size"))
    assert batches == [("staff0", 0, 2), ("staff0", 1, 2), ("staff0", 2, 1), ("staff1", 0, 1)]


def test_the_preview_lists_who_the_limit_refuses_and_a_new_time_plans_again(shop):
    full = make_customer(shop, "full", tags=("高",))
    make_customer(shop, "fresh", tags=("高",))
    now = timezone.now()
    days = budget.period_of(budget.rule_of(shop.workspace), now).limit
    for n in range(days):
        budget.reserve(shop.workspace, Recipients.customers([full.pk]), now, "sop", str(n))
    message = plan_message(shop.workspace, shop.seat("planner"), tags_input(shop, "高"), now=now)
    assert planned(message)["full"][1] == RecipientStatus.REFUSED
    assert [r.customer.external_userid for r in refused_page(shop.workspace, shop.seat("planner"), message)] == ["full"]
    next_month = (now.replace(day=1) + dt.timedelta(days=40)).replace(day=2)
    reschedule(shop.workspace, shop.seat("planner"), message.pk, next_month, now=now)
    message.refresh_from_db()
    assert (message.planned_count, message.refused_count) == (2, 0)


@pytest.mark.parametrize("data, field", [
    (MessageInput(name="", target_kind="tags", tag_ids=[10**9], text="x"), "name"),
    (MessageInput(name="x", target_kind="tags", tag_ids=[10**9], text="x"), "tags"),
    (MessageInput(name="x", target_kind="segment", segment_id=10**9, text="x"), "segment"),
    (MessageInput(name="x", target_kind="customers", customer_ids=[10**9], text="x"), "customers"),
    (MessageInput(name="x", target_kind="groups", text="x"), "target_kind"),
    (MessageInput(name="x", target_kind="customers", customer_ids=[], text="好" * 1400), "text"),
    (MessageInput(name="x", target_kind="customers", customer_ids=[], text=""), "text"),
    (MessageInput(name="x", target_kind="customers", customer_ids=[], text="x",
                  attachments=[{"msgtype": "link", "link": {"title": "t", "url": "javascript:1"}}]), "attachments"),
    (MessageInput(name="x", target_kind="customers", customer_ids=[], text="x",
                  attachments=[{"msgtype": "image", "image": {"media_id": "m"}}] * 10), "attachments"),
    (MessageInput(name="x", target_kind="customers", customer_ids=[], text="x",
                  send_at=NOW - dt.timedelta(days=400)), "send_at"),
])
def test_bad_input_is_refused_with_the_field_at_fault(shop, data, field):
    with pytest.raises(ValidationError) as refused:
        plan_message(shop.workspace, shop.seat("planner"), data)
    assert field in refused.value.message_dict


@pytest.mark.parametrize("role", ["copywriter", "customer_ops", "data_analyst", "merchandiser"])
def test_only_roles_that_edit_messaging_may_plan(shop, role):
    make_customer(shop, "a", tags=("高",))
    with pytest.raises(PermissionDenied):
        plan_message(shop.workspace, shop.seat(role), tags_input(shop, "高"))


def test_another_brands_tags_and_customers_are_unknown(brand_a, brand_b):
    shop_a, shop_b = make_shop(brand_a), make_shop(brand_b)
    theirs = make_customer(shop_b, "theirs", tags=("高",))
    with pytest.raises(ValidationError):
        plan_message(shop_a.workspace, shop_a.seat("planner"), MessageInput(
            name="x", target_kind="customers", customer_ids=[theirs.pk], text="x"))
    with pytest.raises(ValidationError):
        plan_message(shop_a.workspace, shop_a.seat("planner"), tags_input(shop_b, "高"))


def test_a_planned_message_is_a_draft_and_reserves_nothing(shop):
    customer = make_customer(shop, "a", tags=("高",))
    message = plan_message(shop.workspace, shop.seat("planner"), tags_input(shop, "高"))
    assert message.status == MassStatus.DRAFT
    assert budget.received(shop.workspace, [customer.pk], timezone.now()) == {}
