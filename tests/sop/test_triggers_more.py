"""The triggers added by issue 14: a tag removed, a lifecycle stage reached, a birthday each
year, a segment's weekday schedule; event SOPs on a timeline around their date; and the
moments-post step, one post per group however often the sweep runs."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import time_machine
from django.utils import timezone

from siyu.accounts.models import StaffAccount
from siyu.core.models import EventRecord
from siyu.customers.models import Customer, LifecycleStage
from siyu.ip.models import Persona
from siyu.moments.models import MomentPost, PostStatus
from siyu.segments import services as segments
from siyu.segments.services import SegmentInput
from siyu.segments.services.membership import recompute as recompute_segment
from siyu.sop import services
from siyu.sop.models import (
    Enrolment,
    RunState,
    Sop,
    SopKind,
    SopStatus,
    StaffTask,
    StepChannel,
    StepRun,
    TriggerKind,
)
from siyu.sop.services import LEASE, StepInput, claim_group, enrol, enrol_scheduled, sweep
from siyu.sop.services.sweep import Swept, fire_claimed
from tests.conftest import seat
from tests.sop.conftest import MONDAY, SH, active_sop, admin_seat, make_friends, task_step
from tests.sop.test_pages import _editor_post
from tests.sop.test_triggers import drain


def _tag(brand):
    from siyu.tags.models import Tag, TagGroup

    group = TagGroup.unscoped.create(workspace=brand.workspace, name="意向", wecom_group_id="g")
    return Tag.unscoped.create(workspace=brand.workspace, group=group, name="高意向", wecom_tag_id="t")


def _everyone(brand, name="全部"):
    return segments.create_segment(brand.workspace, seat(brand.admin, brand.workspace),
                                   SegmentInput(name=name, rule={"match": "and", "rules": []}))


def _enrolled(sop) -> list[tuple[int, str]]:
    return sorted(Enrolment.unscoped.filter(sop=sop).values_list("customer_id", "period"))


# --- a tag removed, a stage reached -------------------------------------------------------------

def test_removing_a_tag_enrols_the_customers_it_came_off(transactional_db, brand_a):
    from siyu.tags import services as tags
    from siyu.tags.models import CustomerTag

    tag = _tag(brand_a)
    sop = active_sop(brand_a, [task_step(1)], trigger=TriggerKind.TAG_REMOVED, tag_id=tag.pk)
    first, second, third = make_friends(brand_a, 3)
    for c in (first, second):
        CustomerTag.unscoped.create(workspace=brand_a.workspace, customer=c, tag=tag)
    tags.untag_customers(brand_a.workspace, seat(brand_a.admin, brand_a.workspace), [first.pk, third.pk], [tag.pk])
    drain()
    assert _enrolled(sop) == [(first.pk, "")]  # the third never had it; the second keeps it
    assert EventRecord.unscoped.filter(name="tags.removed").count() == 1


def test_reaching_a_lifecycle_stage_enrols_once_per_change(transactional_db, brand_a):
    from siyu.lifecycle.services import recompute

    sop = active_sop(brand_a, [task_step(1)], trigger=TriggerKind.STAGE_REACHED, stage=LifecycleStage.DORMANT)
    idle = make_friends(brand_a, 2, added_at=timezone.now() - dt.timedelta(days=90))
    fresh = make_friends(brand_a, 1, prefix="n", added_at=timezone.now() - dt.timedelta(days=1))
    recompute(brand_a.workspace, [c.pk for c in idle + fresh])
    drain()
    assert set(Customer.unscoped.filter(pk__in=[c.pk for c in idle]).values_list("stage", flat=True)) == {"dormant"}
    assert [c for c, _p in _enrolled(sop)] == sorted(c.pk for c in idle)
    recompute(brand_a.workspace, [c.pk for c in idle])  # nothing moved: nobody enrolled again
    drain()
    assert Enrolment.unscoped.filter(sop=sop).count() == 2


# --- birthdays -------------------------------------------------------------------------------------

def _birthday_sop(brand):
    return active_sop(brand, [replace(task_step(0, at=None), text="生日快乐")], name="生日", trigger=TriggerKind.BIRTHDAY,
                      at_time=dt.time(10, 0), working_days_only=False)


def _born(brand, *days: dt.date) -> list[Customer]:
    customers = make_friends(brand, len(days), prefix="b")
    for customer, day in zip(customers, days, strict=True):
        Customer.unscoped.filter(pk=customer.pk).update(birthday=day)
    return customers


def test_a_birthday_enrols_once_a_year_at_its_time_of_day(db, brand_a):
    sop = _birthday_sop(brand_a)
    december, other = _born(brand_a, dt.date(1990, 12, 7), dt.date(1990, 6, 1))
    ws = brand_a.workspace
    assert enrol_scheduled(ws, dt.datetime(2026, 12, 7, 9, 0, tzinfo=SH)) == 0  # before 10:00
    assert enrol_scheduled(ws, dt.datetime(2026, 12, 7, 10, 5, tzinfo=SH)) == 1
    assert enrol_scheduled(ws, dt.datetime(2026, 12, 7, 10, 10, tzinfo=SH)) == 0
    Sop.unscoped.update(last_occurrence="")  # even without the job's marker, nobody twice
    assert enrol_scheduled(ws, dt.datetime(2026, 12, 7, 11, 0, tzinfo=SH)) == 0
    assert enrol_scheduled(ws, dt.datetime(2027, 12, 7, 10, 5, tzinfo=SH)) == 1
    assert _enrolled(sop) == [(december.pk, "2026"), (december.pk, "2027")]
    [run] = StepRun.unscoped.filter(enrolment__period="2026")
    assert run.due_at == dt.datetime(2026, 12, 7, 10, 0, tzinfo=SH)
    assert sweep(ws, run.due_at)["sent"] == 1 and StaffTask.unscoped.get().text == "生日快乐"
    assert other.pk not in {c for c, _p in _enrolled(sop)}


def test_a_29_february_birthday_is_kept_on_the_28th_in_other_years(db, brand_a):
    sop = _birthday_sop(brand_a)
    leap, march = _born(brand_a, dt.date(2000, 2, 29), dt.date(1999, 3, 1))
    ws = brand_a.workspace
    assert enrol_scheduled(ws, dt.datetime(2027, 2, 28, 10, 5, tzinfo=SH)) == 1
    assert enrol_scheduled(ws, dt.datetime(2027, 3, 1, 10, 5, tzinfo=SH)) == 1
    assert enrol_scheduled(ws, dt.datetime(2028, 2, 28, 10, 5, tzinfo=SH)) == 0  # 2028 has a 29th
    assert enrol_scheduled(ws, dt.datetime(2028, 2, 29, 10, 5, tzinfo=SH)) == 1
    assert _enrolled(sop) == sorted([(leap.pk, "2027"), (march.pk, "2027"), (leap.pk, "2028")])


def test_the_schedule_job_is_registered_and_finds_only_brands_with_scheduled_sops(db, brand_a, brand_b):
    from siyu.core.schedule import jobs
    from siyu.sop import tasks
    from tests.support.jobs import run_queued

    assert "sop.schedules" in {job.name for job in jobs()}
    _birthday_sop(brand_a)
    assert tasks.enrol_scheduled_due.call() == 1
    assert run_queued(tasks.enrol_scheduled_brand) == [0]


# --- a segment's weekly schedule ----------------------------------------------------------------------

def test_a_weekly_schedule_enrols_the_segment_s_current_members_once_each_week(db, brand_a):
    ws = brand_a.workspace
    first = make_friends(brand_a, 2)
    segment = _everyone(brand_a)
    sop = active_sop(brand_a, [task_step(0, at=None)], name="周一福利", trigger=TriggerKind.SCHEDULE,
                     segment_id=segment.pk, schedule_weekday=0, at_time=dt.time(10, 0))
    monday = dt.datetime(2026, 11, 2, 10, 1, tzinfo=SH)
    assert enrol_scheduled(ws, monday - dt.timedelta(minutes=2)) == 0
    assert enrol_scheduled(ws, monday) == 2
    assert sweep(ws, monday)["sent"] == 2
    assert enrol_scheduled(ws, monday + dt.timedelta(minutes=5)) == 0
    assert enrol_scheduled(ws, monday + dt.timedelta(days=1)) == 0  # a Tuesday
    later = make_friends(brand_a, 1, prefix="n")
    recompute_segment(ws, segment)
    assert enrol_scheduled(ws, monday + dt.timedelta(days=7)) == 3
    assert enrol_scheduled(ws, monday + dt.timedelta(days=7, minutes=5)) == 0
    assert _enrolled(sop) == sorted([(c.pk, "2026-W45") for c in first]
                                    + [(c.pk, "2026-W46") for c in [*first, *later]])
    assert sweep(ws, monday + dt.timedelta(days=7, minutes=1))["sent"] == 3


def test_a_dated_schedule_enrols_on_its_day_only(db, brand_a):
    make_friends(brand_a, 2)
    segment = _everyone(brand_a)
    sop = active_sop(brand_a, [task_step(0, at=None)], name="双十二", trigger=TriggerKind.SCHEDULE,
                     segment_id=segment.pk, schedule_date=dt.date(2026, 12, 12), at_time=dt.time(20, 0))
    ws = brand_a.workspace
    assert enrol_scheduled(ws, dt.datetime(2026, 12, 11, 20, 5, tzinfo=SH)) == 0
    assert enrol_scheduled(ws, dt.datetime(2026, 12, 12, 20, 5, tzinfo=SH)) == 2
    assert enrol_scheduled(ws, dt.datetime(2026, 12, 12, 21, 0, tzinfo=SH)) == 0
    assert {p for _c, p in _enrolled(sop)} == {"2026-12-12"}


# --- event SOPs ---------------------------------------------------------------------------------

EVENT = dt.datetime(2026, 12, 12, 19, 0, tzinfo=SH)  # 双十二 evening
START = dt.datetime(2026, 12, 6, 9, 0, tzinfo=SH)


def _event_steps() -> list[StepInput]:
    return [task_step(-3, at=dt.time(20, 0)),            # warm-up: 12-09 20:00
            task_step(0, at=dt.time(9, 0)),              # launch day morning, before the event's hour
            task_step(0, at=None),                       # the event itself: 19:00
            task_step(1, at=dt.time(10, 0)),             # follow-up: 12-13 10:00
            task_step(7, at=None, kind="call")]          # review: 12-19 19:00


def test_an_event_sop_fires_before_and_after_steps_at_their_times(db, brand_a):
    ws = brand_a.workspace
    with time_machine.travel(START, tick=False) as traveller:
        audience = make_friends(brand_a, 2, added_at=START)
        segment = _everyone(brand_a)
        sop = services.create_sop(ws, admin_seat(brand_a), services.SopInput(
            name="双十二预热", kind=SopKind.EVENT, segment_id=segment.pk, event_at=EVENT, working_days_only=False),
            _event_steps())
        services.set_status(ws, admin_seat(brand_a), sop.pk, SopStatus.ACTIVE)
        assert Enrolment.unscoped.filter(sop=sop).count() == 2 and StepRun.unscoped.count() == 10
        planned = {r.step.order: r.due_at.astimezone(SH) for r in StepRun.unscoped.select_related("step")}
        fired_at: dict[int, set[dt.datetime]] = {}
        now = START
        while now < EVENT + dt.timedelta(days=8):
            now += dt.timedelta(minutes=15)
            traveller.move_to(now)
            if now == dt.datetime(2026, 12, 10, 12, 0, tzinfo=SH):  # joins after the warm-up
                late = make_friends(brand_a, 1, prefix="late", added_at=now)[0]
                recompute_segment(ws, segment)  # enters the audience (the subscriber calls this)
                services.enrol_event(ws, Sop.unscoped.get(pk=sop.pk), [late.pk])
            before = set(StepRun.unscoped.filter(state=RunState.SENT).values_list("pk", flat=True))
            sweep(ws)
            for run in StepRun.unscoped.filter(state=RunState.SENT).exclude(pk__in=before).select_related("step"):
                fired_at.setdefault(run.step.order, set()).add(now)
        # Over: nobody joins any more.
        assert services.enrol_event(ws, Sop.unscoped.get(pk=sop.pk), [late.pk, *[c.pk for c in audience]]) == 0

    assert planned == {1: dt.datetime(2026, 12, 9, 20, 0, tzinfo=SH), 2: dt.datetime(2026, 12, 12, 9, 0, tzinfo=SH),
                       3: EVENT, 4: dt.datetime(2026, 12, 13, 10, 0, tzinfo=SH), 5: EVENT + dt.timedelta(days=7)}
    for order, due in planned.items():
        assert all(due <= at < due + dt.timedelta(minutes=15) for at in fired_at[order]), order
    late_runs = StepRun.unscoped.filter(customer_id=late.pk)
    assert sorted(late_runs.values_list("step__order", flat=True)) == [2, 3, 4, 5]  # not the warm-up gone by
    assert StepRun.unscoped.filter(state=RunState.SENT).count() == 14 == StaffTask.unscoped.count()


def test_a_customer_entering_an_event_s_segment_is_enrolled_until_it_is_over(transactional_db, brand_a):
    from siyu.customers import services as customers

    StaffAccount.unscoped.create(workspace=brand_a.workspace, userid="staff0", name="小完子")
    rule = {"match": "and", "rules": [{"field": "channel", "op": "in", "value": ["store"]}]}
    segment = segments.create_segment(brand_a.workspace, admin_seat(brand_a), SegmentInput(name="门店新客", rule=rule))
    event_at = timezone.now() + dt.timedelta(days=3)
    sop = active_sop(brand_a, [task_step(1, at=None)], name="门店活动", kind=SopKind.EVENT, segment_id=segment.pk,
                     event_at=event_at)
    customers.record_add(brand_a.workspace, staff_userid="staff0", external_userid="wmA", state="store",
                         at=timezone.now())
    drain()
    [run] = StepRun.unscoped.filter(sop=sop)
    assert run.due_at >= event_at + dt.timedelta(days=1)


SEGMENT_MISSING = "请选择本品牌的分群。"  # "Choose a segment of this brand."


def test_the_editor_refuses_an_event_without_a_date_and_a_schedule_without_a_segment(db, brand_a, login):
    client = login(brand_a.admin)
    segment = _everyone(brand_a)
    event = client.post("/content/sop/new/", _editor_post(kind="event", segment_id=str(segment.pk)))
    assert event.status_code == 200 and "请填写活动的日期和时间。" in event.content.decode()
    schedule = client.post("/content/sop/new/", _editor_post(trigger="schedule", schedule_weekday="0",
                                                             at_time="10:00"))
    assert schedule.status_code == 200 and SEGMENT_MISSING in schedule.content.decode()
    group = client.post("/content/sop/new/", _editor_post(kind="group"))
    # A group SOP (the community app stores the groups) needs a group trigger.
    assert group.status_code == 200 and "群 SOP 在建群、群人数达到某个数或每周固定节奏时开始。" in group.content.decode()
    assert not Sop.unscoped.exists()
    page = client.get("/content/sop/new/").content.decode()
    assert 'value="group" disabled' not in page and 'name="group_type"' in page
    saved = client.post("/content/sop/new/", _editor_post(kind="event", segment_id=str(segment.pk),
                                                          **{"event_at": "2026-12-12T19:00", "form-0-days": "-3"}))
    assert saved.status_code == 302
    sop = Sop.unscoped.get()
    assert (sop.kind, sop.event_at) == (SopKind.EVENT, EVENT)


# --- the moments-post step ------------------------------------------------------------------------

def _moment_sop(brand, count=3):
    persona = Persona.objects.create(workspace=brand.workspace, name="小完子")
    step = StepInput(days=1, at_time=dt.time(10, 0), channel=StepChannel.MOMENT, text="上新啦 🌷",
                     persona_id=persona.pk)
    sop = active_sop(brand, [step], name="新客朋友圈")
    customers = make_friends(brand, count)
    enrol(brand.workspace, sop, [c.pk for c in customers], MONDAY)
    run = StepRun.unscoped.order_by("pk").first()
    return sop, run


def test_a_moments_step_makes_one_post_for_its_group_however_often_the_sweep_runs(db, brand_a):
    _sop, run = _moment_sop(brand_a)
    assert sweep(brand_a.workspace, run.due_at)["sent"] == 3
    assert sweep(brand_a.workspace, run.due_at + dt.timedelta(minutes=1))["sent"] == 0
    [post] = MomentPost.unscoped.all()
    assert (post.status, post.text, post.planned_at) == (PostStatus.SCHEDULED, "上新啦 🌷", run.due_at)
    assert post.sender_ids == [StaffAccount.unscoped.get(userid="sop-staff").pk]  # the group's staff
    assert set(StepRun.unscoped.values_list("state", "result_id", "claim")) == {
        (RunState.SENT, post.pk, f"sop-moment:{run.step_id}:{run.due_at:%Y%m%d%H%M}")}


def test_a_moments_group_left_claimed_by_a_dead_worker_posts_once_on_resumption(db, brand_a):
    _sop, run = _moment_sop(brand_a)
    ws = brand_a.workspace
    claim = claim_group(ws, run.step_id, run.due_at, run.due_at)  # the worker dies here
    assert claim and not MomentPost.unscoped.exists()
    assert sweep(ws, run.due_at + dt.timedelta(minutes=1))["resumed"] == 0  # inside the lease
    swept = sweep(ws, run.due_at + LEASE + dt.timedelta(minutes=1))
    assert (swept["resumed"], swept["sent"]) == (1, 3)
    fire_claimed(ws, claim, run.due_at, Swept())  # the first worker wakes up: its claim was renewed
    sweep(ws, run.due_at + 3 * LEASE)
    assert MomentPost.unscoped.count() == 1
    assert StepRun.unscoped.filter(state=RunState.SENT).count() == 3


def test_a_moments_step_without_a_persona_is_refused_by_the_editor(db, brand_a):
    import pytest
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        services.create_sop(brand_a.workspace, admin_seat(brand_a), services.SopInput(name="x"),
                            [StepInput(channel=StepChannel.MOMENT, text="上新")])
    assert "人设" in str(refused.value)  # "choose the persona whose moments post it is."


def test_two_sweeps_racing_over_a_moments_group_make_one_post(transactional_db, brand_a):
    import threading

    import pytest
    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("row locks: PostgreSQL only")
    _sop, run = _moment_sop(brand_a, 50)
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def go() -> None:
        try:
            start.wait()
            sweep(brand_a.workspace, run.due_at)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert MomentPost.unscoped.count() == 1
    assert StepRun.unscoped.filter(state=RunState.SENT).count() == 50
