"""Notices to staff (应用消息) through the twin: paced within WeCom's 30 a minute per member (the
twin drops the excess silently, as WeCom does), queued once per (source, ref, account), never
sent twice after a crash, failures kept with a reason, and the 群发 ladder's card to the sender."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from siyu.accounts.models import StaffAccount
from siyu.messaging import tasks
from siyu.messaging.models import MassBatch, NoticeStatus, StaffNotice
from siyu.messaging.services import (
    MessageInput,
    confirm_message,
    notify_staff,
    plan_message,
    send_due_notices,
    send_message,
    track,
)
from siyu.messaging.services.notices import LEASE
from tests.messaging.conftest import make_customer
from tests.simulator.twin import connect_brand


def received(twin, userid: str) -> dict:
    answer = twin.admin.get("/twin/notices", params={"userid": userid})
    answer.raise_for_status()
    return answer.json()


def statuses(shop) -> dict[str, int]:
    rows = StaffNotice.objects.for_workspace(shop.workspace).values_list("status", flat=True)
    return {s: list(rows).count(s) for s in set(rows)}


def test_notices_are_paced_to_thirty_a_minute_per_member(shop, twin):
    connect_brand(shop.workspace, twin)
    staff0, staff1 = shop.accounts
    now = timezone.now()
    for n in range(40):
        assert notify_staff(shop.workspace, accounts=[staff0], text=f"任务 {n}", source="sop", ref=f"t{n}", now=now) == 1
    notify_staff(shop.workspace, accounts=[staff1], text="今日任务", source="sop", ref="t0", now=now)

    assert send_due_notices(shop.workspace, now) == 31
    assert send_due_notices(shop.workspace, now + dt.timedelta(seconds=30)) == 0  # still inside the minute
    assert len(received(twin, "staff0")["notices"]) == 30
    assert len(received(twin, "staff1")["notices"]) == 1
    assert statuses(shop) == {"sent": 31, "queued": 10}

    # The rest waits until the first thirty leave WeCom's minute (with a margin for the network).
    assert StaffNotice.objects.for_workspace(shop.workspace).filter(
        status=NoticeStatus.QUEUED, due_at__lt=now + dt.timedelta(seconds=65)).count() == 0
    twin.advance(66)
    assert send_due_notices(shop.workspace, now + dt.timedelta(seconds=66)) == 10
    got = received(twin, "staff0")
    assert (len(got["notices"]), got["dropped"]) == (40, 0)  # nothing was over WeCom's limit
    assert sorted(n["content"]["content"] for n in got["notices"]) == sorted(f"任务 {n}" for n in range(40))


def test_the_same_ref_queues_once_and_is_sent_once(shop, twin):
    connect_brand(shop.workspace, twin)
    now = timezone.now()
    ask = {"accounts": shop.accounts, "text": "投诉待处理", "source": "complaints", "ref": "c-9",
           "title": "新投诉", "url": "https://siyu.example/complaints/9/", "now": now}
    assert notify_staff(shop.workspace, **ask) == 2
    assert notify_staff(shop.workspace, **ask) == 0
    assert send_due_notices(shop.workspace, now) == 2
    assert send_due_notices(shop.workspace, now + dt.timedelta(minutes=2)) == 0
    card = received(twin, "staff0")["notices"]
    assert [(n["msgtype"], n["content"]["title"], n["content"]["url"]) for n in card] == [
        ("textcard", "新投诉", "https://siyu.example/complaints/9/")]
    # The brand task sends only due notices and says how many.
    assert tasks.send_notices.call(shop.workspace.pk) == 0


def test_a_member_wecom_does_not_know_fails_with_a_reason(shop, twin):
    connect_brand(shop.workspace, twin)
    gone = StaffAccount.objects.create(workspace=shop.workspace, userid="left-the-corp", name="离职")
    now = timezone.now()
    notify_staff(shop.workspace, accounts=[gone], text="提醒", source="sop", ref="r1", now=now)
    assert send_due_notices(shop.workspace, now) == 0
    notice = StaffNotice.objects.for_workspace(shop.workspace).get()
    assert notice.status == NoticeStatus.FAILED and notice.error


def test_a_notice_left_sending_by_a_dead_worker_is_never_sent_again(shop, twin):
    connect_brand(shop.workspace, twin)
    now = timezone.now()
    notify_staff(shop.workspace, accounts=[shop.accounts[0]], text="提醒", source="sop", ref="r1", now=now)
    # A worker claimed it and died before calling WeCom (the claim is committed first).
    StaffNotice.objects.for_workspace(shop.workspace).update(status=NoticeStatus.SENDING, claimed_at=now)
    assert send_due_notices(shop.workspace, now + LEASE + dt.timedelta(minutes=1)) == 0
    notice = StaffNotice.objects.for_workspace(shop.workspace).get()
    assert notice.status == NoticeStatus.FAILED and notice.error
    assert received(twin, "staff0")["notices"] == []


def test_wecom_s_frequency_limit_is_retried_with_back_off(shop, twin):
    connect_brand(shop.workspace, twin)
    now = timezone.now()
    notify_staff(shop.workspace, accounts=[shop.accounts[0]], text="提醒", source="sop", ref="r1", now=now)
    # 45009 twice: the client's own retry and the call after it.
    twin.admin.post("/twin/faults", json={"api": "message/send", "errcode": 45009, "times": 2}).raise_for_status()
    assert send_due_notices(shop.workspace, now) == 0
    notice = StaffNotice.objects.for_workspace(shop.workspace).get()
    assert (notice.status, notice.attempts) == (NoticeStatus.QUEUED, 1) and "45009" in notice.error
    assert notice.due_at >= now + dt.timedelta(minutes=1)
    assert send_due_notices(shop.workspace, now + dt.timedelta(seconds=30)) == 0  # not before its back-off
    assert send_due_notices(shop.workspace, now + dt.timedelta(minutes=2)) == 1
    assert len(received(twin, "staff0")["notices"]) == 1


def test_the_reminder_ladder_also_sends_the_sender_a_card(shop, twin):
    connect_brand(shop.workspace, twin)
    twin.admin.post("/twin/customers/add", json={"external_userid": "wm0", "name": "wm0",
                                                 "staff_userid": "staff1"}).raise_for_status()
    customer = make_customer(shop, "wm0", follows=((1, "", True),))
    message = plan_message(shop.workspace, shop.seat("planner"), MessageInput(
        name="回访", target_kind="customers", customer_ids=[customer.pk], text="回访"))
    now = timezone.now()
    confirm_message(shop.workspace, shop.seat("planner"), message.pk, now)
    send_message(shop.workspace, message.pk, now)
    twin.advance(61)  # WeCom answers 41063 to a task queried straight after it was made
    assert track(shop.workspace, now + dt.timedelta(minutes=31)) == 1
    batch = MassBatch.objects.for_workspace(shop.workspace).get()
    assert batch.ladder_step == 1
    assert send_due_notices(shop.workspace, now + dt.timedelta(minutes=31)) == 1
    card = received(twin, "staff1")["notices"]
    assert len(card) == 1 and card[0]["msgtype"] == "textcard"
    assert card[0]["content"]["url"].endswith(f"/content/messages/{message.pk}/")
    assert "回访" in card[0]["content"]["description"]
    # The same step checked again queues nothing new.
    assert StaffNotice.objects.for_workspace(shop.workspace).count() == 1
