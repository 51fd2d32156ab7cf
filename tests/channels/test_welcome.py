"""Welcome messages over real HTTP with the twin and a real worker: sent inside WeCom's 20 s
window with the variables filled, missed (with the reason) when late or refused, never twice."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone, translation

from siyu.channels.models import WelcomeStatus, Welfare, WelfareCode, WelfareGrant
from siyu.channels.timeline import ChannelTimeline
from siyu.core.models import RunStatus, SubscriberRun
from siyu.customers.models import FollowRelation, TimelineEntry
from siyu.customers.timeline import TimelineKind
from siyu.ip.models import Persona
from siyu.wecom.models import ApiCall
from tests.channels.conftest import drain, make_code, publish_add, scan_and_add, welcome_of


@pytest.fixture(autouse=True)
def _english():
    """These tests read the services' reasons in English; the console's default is Chinese."""
    with translation.override("en"):
        yield

def welcomes(twin) -> list[dict]:
    return [m for m in twin.state()["messages"] if m["kind"] == "welcome"]


def relation_of(shop, added) -> FollowRelation:
    return FollowRelation.objects.for_workspace(shop.workspace).select_related("customer").get(
        customer__external_userid=added["external_userid"], account__userid=added["userid"])


def with_persona(shop, userid="xiaowanzi01", name="小完子"):
    persona = Persona.objects.create(workspace=shop.workspace, name=name)
    account = shop.accounts[userid]
    account.persona = persona
    account.save(update_fields=["persona"])


def test_the_welcome_is_sent_inside_the_window_with_every_variable_filled(live_shop):
    with_persona(live_shop)
    welfare = Welfare.objects.create(workspace=live_shop.workspace, name="新客券", kind="coupon", description="满100减20")
    WelfareCode.objects.create(workspace=live_shop.workspace, welfare=welfare, code="CPN-0001")
    make_code(live_shop.workspace, welfare=welfare, welcome_attachments=[
        {"type": "link", "title": "新人礼包", "url": "https://shop.example.com/gift", "desc": "点我领取"},
        {"type": "image", "pic_url": "https://shop.example.com/p.png"},
    ])
    added = scan_and_add(live_shop.twin, "xiaowanzi01", "chwelcome01", name="王小雨")
    publish_add(live_shop.workspace, added)
    drain()

    [message] = welcomes(live_shop.twin)
    assert message["text"] == "王小雨你好，我是小完子（小完子01）。福利：满100减20 CPN-0001"
    assert message["external_userid"] == added["external_userid"] and message["userid"] == "xiaowanzi01"
    assert [a["msgtype"] for a in message["attachments"]] == ["link", "image"]
    assert message["attachments"][0]["link"]["url"] == "https://shop.example.com/gift"
    relation = relation_of(live_shop, added)
    assert welcome_of(relation).status == WelcomeStatus.SENT and "s of the add" in welcome_of(relation).note
    assert WelfareGrant.objects.for_workspace(live_shop.workspace).get().code.code == "CPN-0001"
    kinds = set(TimelineEntry.objects.for_workspace(live_shop.workspace).values_list("kind", flat=True))
    assert {TimelineKind.ADDED, ChannelTimeline.WELFARE_ISSUED, ChannelTimeline.WELCOME_SENT} <= kinds


def test_an_event_delivered_twice_sends_one_welcome(live_shop):
    make_code(live_shop.workspace)
    added = scan_and_add(live_shop.twin, "xiaowanzi01", "chwelcome01")
    at = timezone.now()
    publish_add(live_shop.workspace, added, at=at)
    publish_add(live_shop.workspace, added, at=at, half=True)  # the same add as the half-add event too
    drain()
    assert len(welcomes(live_shop.twin)) == 1
    assert ApiCall.objects.for_workspace(live_shop.workspace).filter(endpoint="externalcontact/send_welcome_msg").count() == 1
    assert welcome_of(relation_of(live_shop, added)).status == WelcomeStatus.SENT


def test_a_subscriber_run_again_after_sending_does_not_call_wecom_again(live_shop):
    from siyu.core.events import retry_run

    make_code(live_shop.workspace)
    added = scan_and_add(live_shop.twin, "xiaowanzi01", "chwelcome01")
    publish_add(live_shop.workspace, added)
    drain()
    run = SubscriberRun.objects.for_workspace(live_shop.workspace).get(subscriber__endswith="welcome_friend_added")
    retry_run(run)  # an operator's retry, or a sweep that thought the task lost
    drain()
    assert len(welcomes(live_shop.twin)) == 1
    assert ApiCall.objects.for_workspace(live_shop.workspace).filter(endpoint="externalcontact/send_welcome_msg").count() == 1


def test_an_event_older_than_twenty_seconds_is_missed_without_calling_wecom(live_shop):
    make_code(live_shop.workspace)
    added = scan_and_add(live_shop.twin, "xiaowanzi01", "chwelcome01")
    publish_add(live_shop.workspace, added, at=timezone.now() - dt.timedelta(seconds=25))
    drain()
    relation = relation_of(live_shop, added)
    assert welcome_of(relation).status == WelcomeStatus.MISSED
    age = int(re.search(r"was (\d+) s old", welcome_of(relation).note).group(1))
    assert 25 <= age < 60 and "20 s" in welcome_of(relation).note  # the worker took a moment to get to it
    assert welcomes(live_shop.twin) == []
    assert not ApiCall.objects.for_workspace(live_shop.workspace).filter(endpoint="externalcontact/send_welcome_msg").exists()
    assert TimelineEntry.objects.for_workspace(live_shop.workspace).filter(kind=ChannelTimeline.WELCOME_MISSED).count() == 1


def test_a_welcome_code_already_used_is_recorded_as_missed_and_not_retried(live_shop):
    make_code(live_shop.workspace)
    added = scan_and_add(live_shop.twin, "xiaowanzi01", "chwelcome01")
    # Another app of the corp greeted first (WECOM.md §3: the first wins, the rest get 41051).
    live_shop.twin.api("externalcontact/send_welcome_msg",
                       {"welcome_code": added["welcome_code"], "text": {"content": "另一个应用"}})
    publish_add(live_shop.workspace, added)
    drain()
    relation = relation_of(live_shop, added)
    assert welcome_of(relation).status == WelcomeStatus.MISSED and "41051" in welcome_of(relation).note
    run = SubscriberRun.objects.for_workspace(live_shop.workspace).get(subscriber__endswith="welcome_friend_added")
    assert (run.status, run.attempts) == (RunStatus.DONE, 1)
    assert ApiCall.objects.for_workspace(live_shop.workspace).filter(endpoint="externalcontact/send_welcome_msg").count() == 1


def test_an_add_without_a_welcome_code_is_recorded_as_no_code(live_shop):
    make_code(live_shop.workspace)
    added = scan_and_add(live_shop.twin, "xiaowanzi01", "chwelcome01", welcome=False)
    publish_add(live_shop.workspace, added)
    drain()
    assert welcome_of(relation_of(live_shop, added)).status == WelcomeStatus.NO_CODE
    assert welcomes(live_shop.twin) == []


def test_an_add_through_an_unknown_state_or_a_code_without_a_message_is_not_configured(live_shop):
    make_code(live_shop.workspace, state="chsilent", welcome_text="")
    unknown = scan_and_add(live_shop.twin, "xiaowanzi01", "nosuchstate", external_userid="wmUNKNOWN")
    silent = scan_and_add(live_shop.twin, "xiaowanzi02", "chsilent", external_userid="wmSILENT")
    publish_add(live_shop.workspace, unknown)
    publish_add(live_shop.workspace, silent)
    drain()
    assert welcome_of(relation_of(live_shop, unknown)).status == WelcomeStatus.NOT_CONFIGURED
    assert welcome_of(relation_of(live_shop, silent)).status == WelcomeStatus.NOT_CONFIGURED
    assert "no welcome message" in welcome_of(relation_of(live_shop, silent)).note
    assert welcomes(live_shop.twin) == []


def test_welfare_out_of_stock_still_sends_the_welcome_without_it_and_says_so(live_shop):
    welfare = Welfare.objects.create(workspace=live_shop.workspace, name="空券池", kind="coupon")
    make_code(live_shop.workspace, welfare=welfare, welcome_text="欢迎！{welfare}")
    added = scan_and_add(live_shop.twin, "xiaowanzi01", "chwelcome01")
    publish_add(live_shop.workspace, added)
    drain()
    assert [m["text"] for m in welcomes(live_shop.twin)] == ["欢迎！"]
    relation = relation_of(live_shop, added)
    assert welcome_of(relation).status == WelcomeStatus.SENT and "out of stock" in welcome_of(relation).note


def test_a_customer_who_comes_back_is_welcomed_again_with_the_same_welfare(live_shop):
    welfare = Welfare.objects.create(workspace=live_shop.workspace, name="新客券", kind="coupon")
    WelfareCode.unscoped.bulk_create([WelfareCode(workspace=live_shop.workspace, welfare=welfare, code=c)
                                     for c in ("A-1", "A-2")])
    make_code(live_shop.workspace, welfare=welfare, welcome_text="券码 {welfare}")
    first = scan_and_add(live_shop.twin, "xiaowanzi01", "chwelcome01", external_userid="wmBACK")
    publish_add(live_shop.workspace, first, at=timezone.now() - dt.timedelta(seconds=3))
    drain()
    live_shop.twin.admin.post("/twin/customers/delete-staff",
                              json={"staff_userid": "xiaowanzi01", "external_userid": "wmBACK"}).raise_for_status()
    from siyu.customers.models import DeletedBy
    from siyu.customers.services import record_loss

    record_loss(live_shop.workspace, staff_userid="xiaowanzi01", external_userid="wmBACK",
                at=timezone.now() - dt.timedelta(seconds=2), by=DeletedBy.CUSTOMER)
    again = scan_and_add(live_shop.twin, "xiaowanzi01", "chwelcome01", external_userid="wmBACK")
    publish_add(live_shop.workspace, again)
    drain()
    assert [m["text"] for m in welcomes(live_shop.twin)] == ["券码 A-1", "券码 A-1"]
    relation = relation_of(live_shop, again)
    assert (relation.times_added, welcome_of(relation).status) == (2, WelcomeStatus.SENT)
    assert WelfareCode.objects.for_workspace(live_shop.workspace).filter(issued_at__isnull=True).count() == 1
