"""SOP analytics: per step (runs by state and reason, reach, staff task completion) and per
member of staff (tasks done on time), their pages and Excel exports, roles and query budgets."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from siyu.accounts.models import StaffAccount
from siyu.core.models import AuditAction, AuditEntry
from siyu.messaging.models import MassMessage, MassRecipient, RecipientStatus, TargetKind
from siyu.sop.models import RunState, StaffTask, StepRun, TaskState
from siyu.sop.services import analytics, enrol
from tests.conftest import seat
from tests.sop.conftest import MONDAY, active_sop, admin_seat, make_friends, mass_step, task_step

NOW = MONDAY + dt.timedelta(days=5)
HOUR = dt.timedelta(hours=1)


def _runs(sop, order):
    return list(StepRun.unscoped.filter(sop=sop, step__order=order).order_by("pk"))


def _end(run, state, reason="", **extra):
    StepRun.unscoped.filter(pk=run.pk).update(state=state, reason=reason, finished_at=NOW - HOUR, **extra)


def _task(ws, run, *, state=TaskState.OPEN, done_after=None, outcome="", account=None, due=None, sla=24):
    due = due or NOW - dt.timedelta(days=2)
    return StaffTask.unscoped.create(
        workspace=ws, customer_id=run.customer_id if run else account_customer(ws), kind="send", due_at=due,
        sla_hours=sla, breach_at=due + dt.timedelta(hours=sla), state=state, outcome=outcome,
        done_at=due + done_after if done_after is not None else None, source="sop" if run else "other",
        ref=f"sop-run:{run.pk}" if run else f"other:{StaffTask.unscoped.count()}", assignee=account,
        operator=account.operator if account else None)


def account_customer(ws):
    from siyu.customers.models import Customer

    return Customer.unscoped.filter(workspace=ws).values_list("pk", flat=True).first()


def ledger(brand, customers=6):
    """A mass step and a task step, their runs ended by hand: a known ledger to count."""
    ws = brand.workspace
    sop = active_sop(brand, [mass_step(1), task_step(2)])
    people = make_friends(brand, customers)
    enrol(ws, sop, [c.pk for c in people], MONDAY)
    mass, task = _runs(sop, 1), _runs(sop, 2)
    account = StaffAccount.unscoped.get(workspace=ws, userid="sop-staff")
    message = MassMessage.unscoped.create(workspace=ws, name="SOP #1", target_kind=TargetKind.CUSTOMERS,
                                          source="sop", ref="sop-step:x")
    for run in mass[:3]:
        _end(run, RunState.SENT, result_id=message.pk, claim="sop-step:x")
    MassRecipient.unscoped.bulk_create([
        MassRecipient(workspace=ws, message=message, customer_id=run.customer_id, sender=account, status=status)
        for run, status in zip(mass[:3], [RecipientStatus.SENT, RecipientStatus.SENT, RecipientStatus.PENDING],
                               strict=True)])
    _end(mass[3], RunState.SKIPPED, "not_friend")
    _end(mass[4], RunState.EXPIRED, "late")
    # mass[5] stays due
    for run in task[:4]:
        _end(run, RunState.SENT)
    _task(ws, task[0], state=TaskState.DONE, done_after=2 * HOUR, outcome="发了", account=account)  # on time
    _task(ws, task[1], state=TaskState.DONE, done_after=30 * HOUR, outcome="发了", account=account)  # late
    _task(ws, task[2], account=account)  # open past its breach: overdue
    _task(ws, task[3], state=TaskState.SKIPPED, done_after=HOUR, account=account)
    _end(task[4], RunState.SKIPPED, "tagged")
    _end(task[5], RunState.FAILED, "refused")
    return sop, account


def test_steps_are_counted_by_state_and_reason(db, brand_a):
    sop, _account = ledger(brand_a)
    report = analytics.sop_analytics(brand_a.workspace, admin_seat(brand_a), sop.pk, now=NOW)
    mass, task = report.steps
    assert (mass.counts["sent"], mass.counts["skipped"], mass.counts["expired"], mass.counts["due"]) == (3, 1, 1, 1)
    assert [(s, n) for s, _r, n in mass.reasons] == [("expired", 1), ("skipped", 1)]
    assert "已不是好友" in [r for _s, r, _n in mass.reasons]  # "no longer a friend"
    assert (task.counts["sent"], task.counts["skipped"], task.counts["failed"]) == (4, 1, 1)


def test_a_mass_step_reaches_the_recipients_wecom_delivered_to(db, brand_a):
    sop, _account = ledger(brand_a)
    mass, _task_step = analytics.sop_analytics(brand_a.workspace, admin_seat(brand_a), sop.pk, now=NOW).steps
    assert mass.reached == 2  # the third is still waiting for its sender


def test_a_task_step_counts_completion_and_time_to_complete(db, brand_a):
    sop, _account = ledger(brand_a)
    _mass, task = analytics.sop_analytics(brand_a.workspace, admin_seat(brand_a), sop.pk, now=NOW).steps
    assert (task.tasks, task.done, task.on_time, task.overdue, task.reached) == (4, 2, 1, 1, 2)
    assert task.completion_rate == 0.5
    assert task.median_hours == 16.0 and task.average_hours == 16.0  # (2 h + 30 h) / 2


def test_the_daily_series_counts_runs_on_the_day_they_ended(db, brand_a):
    sop, _account = ledger(brand_a)
    report = analytics.sop_analytics(brand_a.workspace, admin_seat(brand_a), sop.pk, now=NOW)
    assert len(report.days) == 30 and report.days[-1] == NOW.date()
    assert report.fired_per_day[-1] == 7 and report.not_fired_per_day[-1] == 4
    assert sum(report.fired_per_day[:-1]) == 0


def test_every_version_shows_the_steps_of_older_versions(db, brand_a):
    from siyu.sop import services
    from siyu.sop.services import SopInput

    sop, _account = ledger(brand_a)
    services.edit_sop(brand_a.workspace, admin_seat(brand_a), sop.pk, SopInput(name="新客 7 天"), [task_step(3)])
    current = analytics.sop_analytics(brand_a.workspace, admin_seat(brand_a), sop.pk, now=NOW)
    every = analytics.sop_analytics(brand_a.workspace, admin_seat(brand_a), sop.pk, all_versions=True, now=NOW)
    assert [s.label for s in current.steps] == ["v2 #1"]
    assert [s.label for s in every.steps] == ["v1 #1", "v1 #2", "v2 #1"]


def test_staff_tasks_done_by_their_breach_time_are_on_time(db, brand_a):
    ws = brand_a.workspace
    make_friends(brand_a, 1)
    quick = StaffAccount.unscoped.create(workspace=ws, userid="quick", name="快",
                                         operator=seat(brand_a.members["customer_ops"], ws))
    slow = StaffAccount.unscoped.create(workspace=ws, userid="slow", name="慢",
                                        operator=seat(brand_a.members["copywriter"], ws))
    for hours in (1, 3, 5):
        _task(ws, None, state=TaskState.DONE, done_after=hours * HOUR, account=quick)
    _task(ws, None, state=TaskState.DONE, done_after=25 * HOUR, account=slow)
    _task(ws, None, state=TaskState.DONE, done_after=2 * HOUR, account=slow)
    _task(ws, None, account=slow)  # overdue
    _task(ws, None, state=TaskState.SKIPPED, account=slow)
    _task(ws, None, account=slow, due=NOW - dt.timedelta(days=60))  # before the range
    report = analytics.staff_report(ws, admin_seat(brand_a), analytics.last_days(30, NOW), NOW)
    rows = {r.name: r for r in report.rows}
    assert (rows["快"].assigned, rows["快"].done, rows["快"].on_time, rows["快"].median_hours) == (3, 3, 3, 3.0)
    assert (rows["慢"].assigned, rows["慢"].done, rows["慢"].on_time, rows["慢"].late) == (4, 2, 1, 1)
    assert (rows["慢"].overdue, rows["慢"].skipped, rows["慢"].on_time_rate) == (1, 1, 0.5)
    assert rows["慢"].median_hours == 13.5


def test_a_role_that_only_views_sees_its_own_row(db, brand_a):
    ws = brand_a.workspace
    make_friends(brand_a, 1)
    mine = StaffAccount.unscoped.create(workspace=ws, userid="mine", operator=seat(brand_a.members["copywriter"], ws))
    other = StaffAccount.unscoped.create(workspace=ws, userid="other", operator=seat(brand_a.members["planner"], ws))
    _task(ws, None, account=mine)
    _task(ws, None, account=other)
    days = analytics.last_days(30, NOW)
    own = analytics.staff_report(ws, seat(brand_a.members["copywriter"], ws), days, NOW)
    assert own.own_only and [r.account for r in own.rows] == [mine]
    assert len(analytics.staff_report(ws, seat(brand_a.members["data_analyst"], ws), days, NOW).rows) == 2


def test_without_a_seat_nothing_is_shown(db, brand_a):
    sop, _account = ledger(brand_a)
    with pytest.raises(PermissionDenied):
        analytics.sop_analytics(brand_a.workspace, None, sop.pk)
    with pytest.raises(PermissionDenied):
        analytics.staff_report(brand_a.workspace, None, analytics.last_days(7))


def test_a_planner_may_look_but_not_export(db, brand_a, login):
    sop, _account = ledger(brand_a)
    client = login(brand_a.members["planner"])
    assert client.get(f"/content/sop/{sop.pk}/analytics/").status_code == 200
    assert client.get(f"/content/sop/{sop.pk}/analytics/export/").status_code == 403
    assert client.get("/content/sop/staff/export/").status_code == 403


def test_the_analytics_page_draws_its_charts_from_json_data(db, brand_a, login):
    sop, _account = ledger(brand_a)
    client = login(brand_a.members["data_analyst"])
    assert f'href="/content/sop/{sop.pk}/analytics/"' in client.get(f"/content/sop/{sop.pk}/").content.decode()
    response = client.get(f"/content/sop/{sop.pk}/analytics/")
    page = response.content.decode()
    assert response.status_code == 200 and 'data-testid="export"' in page
    steps = json.loads(page.split('id="steps-data" type="application/json">')[1].split("</script>")[0])
    assert steps["steps"] == ["v1 #1", "v1 #2"] and steps["reached"] == [2, 2]
    assert 'id="daily-data"' in page and "onclick" not in page


def test_the_sop_export_is_a_workbook_of_its_steps(db, brand_a, login):
    sop, _account = ledger(brand_a)
    response = login(brand_a.members["data_analyst"]).get(f"/content/sop/{sop.pk}/analytics/export/")
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == ["v1 #1", "v1 #2"]
    reached = 2 + len(RunState.values)  # step, channel, a column per state, then reached
    assert (rows[1][reached], rows[2][reached]) == (2, 2)
    assert len(list(book.worksheets[1].iter_rows(values_only=True))) == 1 + 4  # header + 4 reasons
    assert AuditEntry.unscoped.filter(module="sop", action=AuditAction.EXPORT).exists()


def test_the_staff_export_is_a_workbook_of_the_staff_table(db, brand_a, login):
    ledger(brand_a)
    client = login(brand_a.members["admin"])
    start, end = (NOW - dt.timedelta(days=10)).date(), NOW.date()
    response = client.get(f"/content/sop/staff/export/?start={start}&end={end}")
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0].iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][:8] == ("小完子", "sop-staff", 4, 2, 1, 1, 1, 1)


def test_a_bad_range_is_explained_not_exported(db, brand_a, login):
    client = login(brand_a.members["admin"])
    page = client.get("/content/sop/staff/?start=2026-12-01&end=2026-11-01").content.decode()
    assert 'data-testid="range-errors"' in page
    assert client.get("/content/sop/staff/export/?start=nope").status_code == 302


def test_the_staff_page_lists_each_account(db, brand_a, login):
    ledger(brand_a)
    client = login(brand_a.members["ops_lead"])
    start, end = (NOW - dt.timedelta(days=10)).date(), NOW.date()
    page = client.get(f"/content/sop/staff/?start={start}&end={end}").content.decode()
    assert 'data-staff="sop-staff"' in page and 'id="staff-data"' in page
    assert 'href="/content/sop/staff/"' in client.get("/content/sop/today/").content.decode()


def test_another_brands_sop_is_not_found(db, brand_a, brand_b, login):
    sop, _account = ledger(brand_b)
    client = login(brand_a.members["admin"])
    assert client.get(f"/content/sop/{sop.pk}/analytics/").status_code == 404
    assert client.get(f"/content/sop/{sop.pk}/analytics/export/").status_code == 404


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_pages_cost_the_same_queries_as_the_data_grows(db, brand_a, brand_b, login):
    small, _ = ledger(brand_a, customers=6)
    big, _ = ledger(brand_b, customers=60)
    second = StaffAccount.unscoped.create(workspace=brand_b.workspace, userid="second",
                                          operator=seat(brand_b.members["planner"], brand_b.workspace))
    for hours in (1, 30):
        _task(brand_b.workspace, None, state=TaskState.DONE, done_after=hours * HOUR, account=second)
    start, end = (NOW - dt.timedelta(days=10)).date(), NOW.date()
    staff = f"/content/sop/staff/?start={start}&end={end}"
    a = login(brand_a.members["admin"])
    counts_a = [_queries(a, f"/content/sop/{small.pk}/analytics/"), _queries(a, staff),
                _queries(a, f"/content/sop/{small.pk}/analytics/export/")]
    b = login(brand_b.members["admin"])
    counts_b = [_queries(b, f"/content/sop/{big.pk}/analytics/"), _queries(b, staff),
                _queries(b, f"/content/sop/{big.pk}/analytics/export/")]
    assert counts_a == counts_b
