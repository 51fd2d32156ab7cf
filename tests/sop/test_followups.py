"""The engine's follow-ups: an unexpected 群发 error fails a group after MAX_ATTEMPTS instead of
retrying it forever; a new task queues a card to its assignee (应用消息); an overdue task is
escalated to the ops leads once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from django.db import connection
from django.urls import reverse

from siyu.core.models import Notification
from siyu.core.notifications import leads_of
from siyu.core.permissions import Role
from siyu.messaging.models import MassMessage, StaffNotice
from siyu.sop import services
from siyu.sop.models import RunState, StaffTask, StepRun
from siyu.sop.services import LEASE, MAX_ATTEMPTS, enrol, escalate_overdue, sweep
from tests.conftest import seat
from tests.sop.conftest import MONDAY, active_sop, admin_seat, make_friends, mass_step, task_step


@pytest.fixture
def broken_mass_messages(db) -> Iterator[None]:
    """The database refuses every new 群发 (a real fault, raised by a trigger, as a full disk would)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("CREATE FUNCTION sop_test_fail() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'disk full'; "
                           "END $$ LANGUAGE plpgsql")
            cursor.execute("CREATE TRIGGER sop_test_fail BEFORE INSERT ON messaging_massmessage "
                           "FOR EACH ROW EXECUTE FUNCTION sop_test_fail()")
        else:
            cursor.execute("CREATE TRIGGER sop_test_fail BEFORE INSERT ON messaging_massmessage "
                           "BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    yield


def repair() -> None:
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER sop_test_fail ON messaging_massmessage" if connection.vendor == "postgresql"
                       else "DROP TRIGGER sop_test_fail")


def _mass_sop(brand, count):
    sop = active_sop(brand, [mass_step(1)])
    customers = make_friends(brand, count)
    enrol(brand.workspace, sop, [c.pk for c in customers], MONDAY)
    return sop, StepRun.unscoped.order_by("pk").first().due_at


def test_an_unexpected_mass_error_fails_the_runs_after_five_attempts_with_the_error(brand_a, broken_mass_messages,
                                                                                   login):
    sop, due = _mass_sop(brand_a, 3)
    at = due
    for attempt in range(1, MAX_ATTEMPTS):
        swept = sweep(brand_a.workspace, at)
        assert swept["errors"] == 1 and swept["failed"] == 0
        assert set(StepRun.unscoped.values_list("state", "attempts")) == {(RunState.CLAIMED, attempt)}
        assert sweep(brand_a.workspace, at + dt.timedelta(minutes=1))["errors"] == 0  # inside the lease: left alone
        at += LEASE + dt.timedelta(minutes=1)
    assert sweep(brand_a.workspace, at)["failed"] == 3
    assert {(r.state, r.attempts) for r in StepRun.unscoped.all()} == {(RunState.FAILED, MAX_ATTEMPTS)}
    assert "disk full" in StepRun.unscoped.first().reason
    assert sweep(brand_a.workspace, at + LEASE * 2)["errors"] == 0  # not retried any more
    [report] = services.step_report(brand_a.workspace, admin_seat(brand_a), sop)
    assert report.counts[RunState.FAILED] == 3 and any("disk full" in reason for reason in report.reasons)
    assert "disk full" in login(brand_a.admin).get(f"/content/sop/{sop.pk}/").content.decode()


def test_a_group_that_recovers_before_the_limit_is_sent_once(brand_a, broken_mass_messages):
    _sop, due = _mass_sop(brand_a, 2)
    sweep(brand_a.workspace, due)
    sweep(brand_a.workspace, due + LEASE + dt.timedelta(minutes=1))
    repair()  # the disk has room again
    swept = sweep(brand_a.workspace, due + 2 * (LEASE + dt.timedelta(minutes=1)))
    assert (swept["resumed"], swept["sent"]) == (1, 2)
    [message] = MassMessage.unscoped.all()
    assert set(StepRun.unscoped.values_list("state", "result_id")) == {(RunState.SENT, message.pk)}


def _task_due(brand, count=1):
    sop = active_sop(brand, [task_step(1)])
    customers = make_friends(brand, count)
    enrol(brand.workspace, sop, [c.pk for c in customers], MONDAY)
    due = StepRun.unscoped.order_by("pk").first().due_at
    sweep(brand.workspace, due)
    return due


def test_a_new_task_queues_one_card_to_its_assignee_linking_to_today(db, brand_a):
    due = _task_due(brand_a, 2)
    tasks = list(StaffTask.unscoped.order_by("pk"))
    notices = list(StaffNotice.unscoped.order_by("pk"))
    assert [(n.source, n.ref, n.account_id) for n in notices] == [("sop-task", str(t.pk), t.assignee_id) for t in tasks]
    assert notices[0].title and notices[0].url.endswith(reverse("sop:today")) and "day 1" in notices[0].text
    assert services.tell_assignees(brand_a.workspace, tasks, due) == 0  # idempotent on the task id
    sweep(brand_a.workspace, due + LEASE * 3)
    assert StaffNotice.unscoped.count() == 2


def test_an_overdue_task_escalates_to_the_ops_leads_once(db, brand_a):
    due = _task_due(brand_a, 2)
    ws = brand_a.workspace
    done, late = StaffTask.unscoped.order_by("pk")
    ops = seat(brand_a.members[Role.CUSTOMER_OPS], ws)
    services.complete_task(ws, ops, done.pk, "发了")
    assert late.breach_at == due + dt.timedelta(hours=24)
    assert escalate_overdue(ws, due + dt.timedelta(hours=23)) == 0  # within its SLA
    assert escalate_overdue(ws, due + dt.timedelta(hours=25)) == 1  # the done one never escalates
    assert escalate_overdue(ws, due + dt.timedelta(hours=26)) == 0  # once
    leads = leads_of(ws)
    assert {m.role for m in leads} == {Role.OPS_LEAD}
    notes = Notification.unscoped.filter(kind="sop.task_overdue")
    assert sorted(notes.values_list("membership_id", flat=True)) == sorted(m.pk for m in leads)
    assert late.customer.name in notes.first().shown_title
    late.refresh_from_db()
    assert late.escalated_at == due + dt.timedelta(hours=25)


def test_the_escalation_job_is_registered_and_finds_only_brands_with_overdue_tasks(db, brand_a, brand_b):
    from siyu.core.schedule import jobs
    from siyu.sop import tasks
    from tests.support.jobs import run_queued

    assert "sop.escalate" in {job.name for job in jobs()}
    _task_due(brand_a)
    StaffTask.unscoped.update(breach_at=MONDAY)  # long past
    assert tasks.escalate_due.call() == 1  # brand_a only
    assert run_queued(tasks.escalate_brand) == [1]
    assert StaffTask.unscoped.get().escalated_at is not None
    assert Notification.unscoped.filter(workspace=brand_a.workspace, kind="sop.task_overdue").exists()
