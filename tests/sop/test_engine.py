"""The SOP engine through its services: enrolment, the ledger, guards, versions and recovery."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from siyu.customers.models import FollowRelation, TimelineEntry
from siyu.sop import services
from siyu.sop.models import Enrolment, RunState, SopStatus, StaffTask, StepRun
from siyu.sop.services import SopInput, StepInput, enrol, sweep
from tests.conftest import seat
from tests.sop.conftest import (
    MONDAY,
    SH,
    active_sop,
    admin_seat,
    make_friends,
    mass_step,
    task_step,
)


def runs(**filters) -> list[StepRun]:
    return list(StepRun.unscoped.filter(**filters).order_by("due_at", "pk"))


def test_enrolment_writes_one_run_per_step_at_its_time_of_day(db, brand_a):
    sop = active_sop(brand_a, [task_step(1), task_step(3, at=dt.time(15, 30))])
    [customer] = make_friends(brand_a, 1)
    assert enrol(brand_a.workspace, sop, [customer.pk], MONDAY) == 1
    assert enrol(brand_a.workspace, sop, [customer.pk], MONDAY) == 0  # once per SOP
    due = [r.due_at.astimezone(SH) for r in runs()]
    assert due == [dt.datetime(2026, 11, 3, 10, 0, tzinfo=SH), dt.datetime(2026, 11, 5, 15, 30, tzinfo=SH)]


def test_a_step_due_in_quiet_hours_moves_to_their_end(db, brand_a):
    sop = active_sop(brand_a, [task_step(1, at=dt.time(23, 0))])
    [customer] = make_friends(brand_a, 1)
    enrol(brand_a.workspace, sop, [customer.pk], MONDAY)
    assert runs()[0].due_at.astimezone(SH) == dt.datetime(2026, 11, 4, 8, 0, tzinfo=SH)


def test_a_holiday_moves_the_step_to_the_next_working_day(db, brand_a):
    sop = active_sop(brand_a, [task_step(1)])
    [customer] = make_friends(brand_a, 1)
    enrol(brand_a.workspace, sop, [customer.pk], dt.datetime(2026, 9, 30, 10, 0, tzinfo=SH))  # 国庆 from 10-01
    assert runs()[0].due_at.astimezone(SH).date() == dt.date(2026, 10, 8)  # 10-01..07 off


def test_a_year_the_calendar_does_not_know_falls_back_to_weekdays_and_says_so(db, brand_a):
    sop = active_sop(brand_a, [task_step(1)])
    [customer] = make_friends(brand_a, 1)
    enrol(brand_a.workspace, sop, [customer.pk], dt.datetime(2031, 1, 3, 10, 0, tzinfo=SH))  # a Friday
    assert runs()[0].due_at.astimezone(SH).date() == dt.date(2031, 1, 6)  # Saturday → Monday
    assert "2031" in Enrolment.unscoped.get().calendar_note


def test_a_due_task_step_becomes_one_staff_task_for_the_account_operator(db, brand_a):
    sop = active_sop(brand_a, [task_step(1)])
    [customer] = make_friends(brand_a, 1)
    enrol(brand_a.workspace, sop, [customer.pk], MONDAY)
    due = runs()[0].due_at
    assert sweep(brand_a.workspace, due - dt.timedelta(seconds=1))["sent"] == 0
    assert sweep(brand_a.workspace, due)["sent"] == 1
    assert sweep(brand_a.workspace, due + dt.timedelta(minutes=10))["sent"] == 0
    task = StaffTask.unscoped.get()
    assert (task.customer_id, task.operator, task.source) == (customer.pk, seat(brand_a.members["customer_ops"],
                                                                                 brand_a.workspace), "sop")
    assert TimelineEntry.unscoped.filter(customer=customer, kind="sop.step_sent").count() == 1


def test_a_customer_who_deleted_the_staff_is_skipped_with_a_reason(db, brand_a):
    sop = active_sop(brand_a, [task_step(1)])
    [customer] = make_friends(brand_a, 1)
    enrol(brand_a.workspace, sop, [customer.pk], MONDAY)
    FollowRelation.unscoped.update(deleted_at=MONDAY)
    sweep(brand_a.workspace, runs()[0].due_at)
    run = StepRun.unscoped.get()
    assert (run.state, run.reason) == (RunState.SKIPPED, "not_friend")
    assert not StaffTask.unscoped.exists()


def test_a_tagged_customer_is_skipped_when_the_step_excludes_the_tag(db, brand_a):
    from siyu.tags.models import CustomerTag, Tag, TagGroup

    group = TagGroup.unscoped.create(workspace=brand_a.workspace, name="意向", wecom_group_id="g")
    tag = Tag.unscoped.create(workspace=brand_a.workspace, group=group, name="已购", wecom_tag_id="t")
    sop = active_sop(brand_a, [task_step(1, not_tag_ids=[tag.pk])])
    first, second = make_friends(brand_a, 2)
    CustomerTag.unscoped.create(workspace=brand_a.workspace, customer=first, tag=tag)
    enrol(brand_a.workspace, sop, [first.pk, second.pk], MONDAY)
    sweep(brand_a.workspace, runs()[0].due_at)
    assert dict(StepRun.unscoped.values_list("customer_id", "reason")) == {first.pk: "tagged", second.pk: ""}


def test_pausing_holds_due_steps_and_resuming_late_expires_them(db, brand_a):
    sop = active_sop(brand_a, [task_step(1)])
    [customer] = make_friends(brand_a, 1)
    enrol(brand_a.workspace, sop, [customer.pk], MONDAY)
    due = runs()[0].due_at
    services.set_status(brand_a.workspace, admin_seat(brand_a), sop.pk, SopStatus.PAUSED)
    assert sweep(brand_a.workspace, due + dt.timedelta(hours=1))["sent"] == 0
    services.set_status(brand_a.workspace, admin_seat(brand_a), sop.pk, SopStatus.ACTIVE)
    sweep(brand_a.workspace, due + dt.timedelta(days=2))
    run = StepRun.unscoped.get()
    assert (run.state, run.reason) == (RunState.EXPIRED, "late")
    assert TimelineEntry.unscoped.filter(kind="sop.step_expired").count() == 1


def test_stopping_skips_every_step_not_fired(db, brand_a):
    sop = active_sop(brand_a, [task_step(1), task_step(3)])
    make_friends(brand_a, 2)
    enrol(brand_a.workspace, sop, list(FollowRelation.unscoped.values_list("customer_id", flat=True)), MONDAY)
    services.set_status(brand_a.workspace, admin_seat(brand_a), sop.pk, SopStatus.STOPPED)
    assert set(StepRun.unscoped.values_list("state", "reason")) == {(RunState.SKIPPED, "stopped")}
    with pytest.raises(ValidationError):
        services.set_status(brand_a.workspace, admin_seat(brand_a), sop.pk, SopStatus.ACTIVE)


def test_an_edit_keeps_running_enrolments_on_their_version_unless_migrated(db, brand_a):
    sop = active_sop(brand_a, [task_step(1), task_step(3)])
    first, second = make_friends(brand_a, 2)
    enrol(brand_a.workspace, sop, [first.pk], MONDAY)
    who = admin_seat(brand_a)
    services.edit_sop(brand_a.workspace, who, sop.pk, SopInput(name="新客 7 天"), [task_step(2)],
                      now=MONDAY + dt.timedelta(hours=1))
    assert StepRun.unscoped.filter(customer_id=first.pk, state=RunState.DUE).count() == 2  # kept v1
    enrol(brand_a.workspace, services.get_sop(brand_a.workspace, who, sop.pk), [second.pk], MONDAY)
    assert StepRun.unscoped.filter(customer_id=second.pk).count() == 1  # v2
    services.edit_sop(brand_a.workspace, who, sop.pk, SopInput(name="新客 7 天"), [task_step(2), task_step(5)],
                      migrate=True, now=MONDAY + dt.timedelta(days=2, hours=12))
    mine = {(r.step.version.number, r.step.order, r.state, r.reason) for r in
            StepRun.unscoped.filter(customer_id=first.pk).select_related("step__version")}
    assert mine == {(1, 1, RunState.SKIPPED, "migrated"), (1, 2, RunState.SKIPPED, "migrated"),
                    (3, 2, RunState.DUE, "")}  # v3's day-2 step was already past: not written


def test_a_claim_left_by_a_dead_worker_is_resumed_once_after_the_lease(db, brand_a):
    sop = active_sop(brand_a, [task_step(1)])
    customers = make_friends(brand_a, 3)
    enrol(brand_a.workspace, sop, [c.pk for c in customers], MONDAY)
    due = runs()[0].due_at
    run = runs()[0]
    assert services.claim_group(brand_a.workspace, run.step_id, due, due)  # claimed, then the worker died
    assert sweep(brand_a.workspace, due + dt.timedelta(minutes=1))["sent"] == 0  # still within the lease
    assert sweep(brand_a.workspace, due + services.LEASE + dt.timedelta(minutes=1))["resumed"] == 1
    assert StaffTask.unscoped.count() == 3
    assert set(StepRun.unscoped.values_list("state", flat=True)) == {RunState.SENT}


def test_roles_without_edit_cannot_build_sops(db, brand_a):
    for role in ("copywriter", "customer_ops", "data_analyst", "merchandiser"):
        with pytest.raises(PermissionDenied):
            services.create_sop(brand_a.workspace, seat(brand_a.members[role], brand_a.workspace),
                                SopInput(name="x"), [task_step(1)])
    services.create_sop(brand_a.workspace, seat(brand_a.members["planner"], brand_a.workspace),
                        SopInput(name="x"), [task_step(1)])


def test_bad_steps_are_refused_with_an_explanation(db, brand_a):
    with pytest.raises(ValidationError) as refused:
        services.create_sop(brand_a.workspace, admin_seat(brand_a), SopInput(name=" "),
                            [StepInput(text=""), StepInput(channel="task")])
    errors = refused.value.message_dict
    assert "name" in errors and len(errors["steps"]) == 2


def test_another_brand_sees_no_sop(db, brand_a, brand_b):
    sop = active_sop(brand_a, [task_step(1)])
    from django.core.exceptions import ObjectDoesNotExist

    with pytest.raises(ObjectDoesNotExist):
        services.get_sop(brand_b.workspace, admin_seat(brand_b), sop.pk)
    assert not services.list_sops(brand_b.workspace, admin_seat(brand_b)).exists()


def test_mass_steps_due_in_the_same_minute_go_out_as_one_mass_message(db, brand_a):
    from siyu.messaging.models import MassMessage

    sop = active_sop(brand_a, [mass_step(1)])
    customers = make_friends(brand_a, 5)
    enrol(brand_a.workspace, sop, [c.pk for c in customers], MONDAY)
    due = runs()[0].due_at
    assert sweep(brand_a.workspace, due)["sent"] == 5
    message = MassMessage.unscoped.get()
    assert (message.source, sorted(message.customer_ids)) == ("sop", sorted(c.pk for c in customers))
    assert message.ref == f"sop-step:{runs()[0].step_id}:{due:%Y%m%d%H%M}"
    assert set(StepRun.unscoped.values_list("result_id", flat=True)) == {message.pk}


def test_a_worker_killed_after_handing_over_a_mass_message_sends_nothing_twice(db, brand_a):
    from siyu.messaging import services as messaging
    from siyu.messaging.models import MassMessage

    sop = active_sop(brand_a, [mass_step(1)])
    customers = make_friends(brand_a, 4)
    enrol(brand_a.workspace, sop, [c.pk for c in customers], MONDAY)
    run = runs()[0]
    claim = services.claim_group(brand_a.workspace, run.step_id, run.due_at, run.due_at)
    messaging.send_to_customers(brand_a.workspace, source="sop", ref=claim, name="SOP", text="hi", now=run.due_at,
                                customer_ids=[c.pk for c in customers])  # ...and the worker died here
    FollowRelation.unscoped.filter(customer=customers[0]).update(deleted_at=run.due_at)  # after the hand-over
    swept = sweep(brand_a.workspace, run.due_at + services.LEASE + dt.timedelta(minutes=1))
    assert (swept["resumed"], swept["sent"]) == (1, 4)  # recorded as sent: the 群发 has them all
    assert MassMessage.unscoped.count() == 1


def test_a_late_run_in_an_already_sent_minute_gets_a_mass_message_of_its_own(db, brand_a):
    from siyu.messaging.models import MassMessage

    sop = active_sop(brand_a, [mass_step(1)])
    first, late = make_friends(brand_a, 2)
    enrol(brand_a.workspace, sop, [first.pk], MONDAY)
    due = runs()[0].due_at
    sweep(brand_a.workspace, due)
    enrol(brand_a.workspace, sop, [late.pk], MONDAY)  # the same clock, enrolled after the minute fired
    sweep(brand_a.workspace, due + dt.timedelta(minutes=5))
    assert sorted(len(ids) for ids in MassMessage.unscoped.values_list("customer_ids", flat=True)) == [1, 1]
    assert set(StepRun.unscoped.values_list("state", flat=True)) == {RunState.SENT}
