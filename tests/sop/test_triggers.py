"""Triggers, end to end through the event bus and a real worker: an add through a channel
code, entering and leaving a segment (the events segments now publish), a tag added."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from siyu.core.models import EventRecord
from siyu.customers import services as customers
from siyu.customers.models import DeletedBy
from siyu.segments import services as segments
from siyu.segments.services import SegmentInput
from siyu.segments.services.membership import recompute
from siyu.sop.models import Enrolment, StepRun, TriggerKind
from tests.conftest import seat, work_until
from tests.sop.conftest import active_sop, make_friends, task_step


def drain() -> None:
    from siyu.core.models import RunStatus, SubscriberRun

    work_until(lambda: not SubscriberRun.unscoped.filter(status__in=[RunStatus.PENDING, RunStatus.RUNNING]).exists())


def _account(brand):
    from siyu.accounts.models import StaffAccount

    return StaffAccount.unscoped.create(workspace=brand.workspace, userid="staff0", name="小完子")


def test_an_add_through_a_listed_channel_code_enrols_and_another_does_not(transactional_db, brand_a):
    _account(brand_a)
    active_sop(brand_a, [task_step(1)], channel_states=["store"])
    now = timezone.now()
    customers.record_add(brand_a.workspace, staff_userid="staff0", external_userid="wmA", state="store", at=now)
    customers.record_add(brand_a.workspace, staff_userid="staff0", external_userid="wmB", state="ad", at=now)
    drain()
    assert list(Enrolment.unscoped.values_list("customer__external_userid", flat=True)) == ["wmA"]
    assert StepRun.unscoped.count() == 1


def test_entering_and_leaving_a_segment_publish_events_and_enrol(transactional_db, brand_a):
    _account(brand_a)
    rule = {"match": "and", "rules": [{"field": "channel", "op": "in", "value": ["store"]}]}
    seg = segments.create_segment(brand_a.workspace, seat(brand_a.admin, brand_a.workspace),
                                  SegmentInput(name="门店新客", rule=rule))
    entered = active_sop(brand_a, [task_step(1)], name="进群", trigger=TriggerKind.SEGMENT_ENTERED, segment_id=seg.pk)
    left = active_sop(brand_a, [task_step(1)], name="挽回", trigger=TriggerKind.SEGMENT_LEFT, segment_id=seg.pk)
    customers.record_add(brand_a.workspace, staff_userid="staff0", external_userid="wmA", state="store",
                         at=timezone.now() - dt.timedelta(minutes=5))
    drain()
    assert list(Enrolment.unscoped.values_list("sop_id", flat=True)) == [entered.pk]
    customers.record_loss(brand_a.workspace, staff_userid="staff0", external_userid="wmA", at=timezone.now(),
                          by=DeletedBy.CUSTOMER)
    drain()
    assert sorted(Enrolment.unscoped.values_list("sop_id", flat=True)) == sorted([entered.pk, left.pk])
    assert EventRecord.unscoped.filter(name="segments.entered").count() == 1
    assert EventRecord.unscoped.filter(name="segments.left").count() == 1


def test_a_recompute_publishes_who_entered_in_one_bulk_write(db, brand_a):
    friends = make_friends(brand_a, 30)
    seg = segments.create_segment(brand_a.workspace, seat(brand_a.admin, brand_a.workspace),
                                  SegmentInput(name="全部", rule={"match": "and", "rules": []}))
    [record] = EventRecord.unscoped.filter(name="segments.entered")
    assert sorted(record.payload["customer_ids"]) == sorted(c.pk for c in friends)
    assert recompute(brand_a.workspace, seg) == 30
    assert EventRecord.unscoped.filter(name__startswith="segments.").count() == 1  # nothing changed: no event


def test_tagging_a_customer_enrols_them_into_a_tag_triggered_sop(transactional_db, brand_a):
    from django.db import transaction

    from siyu.tags.models import CustomerTag, Tag, TagGroup

    group = TagGroup.unscoped.create(workspace=brand_a.workspace, name="意向", wecom_group_id="g")
    tag = Tag.unscoped.create(workspace=brand_a.workspace, group=group, name="高意向", wecom_tag_id="t")
    active_sop(brand_a, [task_step(1)], trigger=TriggerKind.TAG_ADDED, tag_id=tag.pk)
    first, second = make_friends(brand_a, 2)
    with transaction.atomic():
        CustomerTag.unscoped.create(workspace=brand_a.workspace, customer=first, tag=tag)
        customers.customers_changed(brand_a.workspace, [first.pk, second.pk], "tags")
    drain()
    assert list(Enrolment.unscoped.values_list("customer_id", flat=True)) == [first.pk]


def test_the_demo_sop_is_seeded_once_and_enrols_the_week_s_adds(db, brand_a):
    from siyu.channels.models import ChannelCode
    from siyu.sop import demo
    from siyu.sop.models import Sop, SopStatus

    ChannelCode.unscoped.create(workspace=brand_a.workspace, name="门店扫码", state="store")
    make_friends(brand_a, 3, added_at=timezone.now() - dt.timedelta(days=2), state="store")
    demo.seed(brand_a.workspace)
    demo.seed(brand_a.workspace)
    sop = Sop.unscoped.get()
    assert (sop.name, sop.status, sop.channel_states) == ("新客 7 天", SopStatus.ACTIVE, ["store"])
    assert Enrolment.unscoped.count() == 3 and StepRun.unscoped.count() == 9
