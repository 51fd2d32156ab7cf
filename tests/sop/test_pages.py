"""SOP pages: the list, the editor (validates and explains), the per-step ledger and the task
centre's today view with do, snooze and skip."""

from __future__ import annotations

import datetime as dt

from siyu.core.models import AuditEntry
from siyu.sop import services
from siyu.sop.models import Sop, SopStatus, SopStep, StaffTask, TaskState
from siyu.sop.services import enrol, sweep
from tests.sop.conftest import active_sop, make_friends, task_step


def _editor_post(**overrides):
    data = {"name": "新客 7 天", "trigger": "added", "channel_states": "store-1, ad-2", "delay_days": "0",
            "quiet_start": "22:00", "quiet_end": "08:00", "working_days_only": "on",
            "form-TOTAL_FORMS": "2", "form-INITIAL_FORMS": "0", "form-MIN_NUM_FORMS": "0", "form-MAX_NUM_FORMS": "20"}
    for i, (channel, kind, text) in enumerate((("mass", "", "欢迎"), ("task", "invite", "邀请进群"))):
        data.update({f"form-{i}-timing": "relative", f"form-{i}-days": str(i * 6 + 1), f"form-{i}-hours": "0",
                     f"form-{i}-at_time": "10:00", f"form-{i}-repeat_every_days": "0", f"form-{i}-repeat_times": "1",
                     f"form-{i}-channel": channel, f"form-{i}-task_kind": kind, f"form-{i}-text": text,
                     f"form-{i}-window_hours": "24"})
    return data | overrides


def test_the_editor_saves_an_sop_and_its_steps(db, brand_a, login):
    client = login(brand_a.members["planner"])
    assert client.get("/content/sop/new/").status_code == 200
    response = client.post("/content/sop/new/", _editor_post())
    sop = Sop.unscoped.get()
    assert response.status_code == 302 and response["Location"] == f"/content/sop/{sop.pk}/"
    assert sop.channel_states == ["store-1", "ad-2"]
    assert [s.channel for s in SopStep.unscoped.filter(version=sop.current_version_id)] == ["mass", "task"]
    assert AuditEntry.unscoped.filter(module="sop").exists()
    page = client.get(f"/content/sop/{sop.pk}/").content.decode()
    assert "邀请进群" in page


def test_the_editor_explains_what_is_wrong(db, brand_a, login):
    client = login(brand_a.members["admin"])
    response = client.post("/content/sop/new/", _editor_post(**{"form-0-text": "", "form-1-task_kind": "",
                                                                "form-1-text": ""}))
    assert response.status_code == 200
    assert "至少" in response.content.decode()  # "Add at least one step."
    assert not Sop.unscoped.exists()


def test_a_role_without_edit_cannot_open_the_editor(db, brand_a, login):
    assert login(brand_a.members["copywriter"]).get("/content/sop/new/").status_code == 403
    assert login(brand_a.members["copywriter"]).get("/content/sop/").status_code == 200


def test_pausing_from_the_detail_page(db, brand_a, login):
    sop = active_sop(brand_a, [task_step(1)])
    client = login(brand_a.members["ops_lead"])
    client.post(f"/content/sop/{sop.pk}/status/", {"status": "paused"})
    assert Sop.unscoped.get().status == SopStatus.PAUSED


def test_the_list_stays_within_its_query_budget(db, brand_a, login, django_assert_max_num_queries):
    for n in range(15):
        active_sop(brand_a, [task_step(1)], name=f"SOP {n}")
    client = login(brand_a.members["admin"])
    client.get("/content/sop/")
    with django_assert_max_num_queries(12):
        assert client.get("/content/sop/").status_code == 200


def _tasks(brand_a, count):
    always = dt.time(0, 0)  # no quiet hours, any day: the test runs whenever it runs
    sop = active_sop(brand_a, [task_step(0, at=None, hours=1)], quiet_start=always, quiet_end=always,
                     working_days_only=False)
    customers = make_friends(brand_a, count)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    enrol(brand_a.workspace, sop, [c.pk for c in customers], now - dt.timedelta(hours=1), now - dt.timedelta(hours=1))
    sweep(brand_a.workspace, now + dt.timedelta(minutes=1))
    return list(StaffTask.unscoped.order_by("pk"))


def test_the_operator_does_snoozes_and_skips_tasks_today(db, brand_a, login):
    done, snoozed, skipped = _tasks(brand_a, 3)
    client = login(brand_a.members["customer_ops"])  # the staff account's operator
    page = client.get("/content/sop/today/").content.decode()
    assert page.count('data-testid="task"') == 3
    client.post(f"/content/sop/tasks/{done.pk}/done/", {"outcome": "已邀请，已进群"})
    client.post(f"/content/sop/tasks/{snoozed.pk}/snooze/", {"hours": "3"})
    client.post(f"/content/sop/tasks/{skipped.pk}/skip/", {"reason": "客户说不方便"})
    states = dict(StaffTask.unscoped.values_list("pk", "state"))
    assert states == {done.pk: TaskState.DONE, snoozed.pk: TaskState.SNOOZED, skipped.pk: TaskState.SKIPPED}
    assert StaffTask.unscoped.get(pk=done.pk).outcome == "已邀请，已进群"
    assert client.get("/content/sop/today/").content.decode().count('data-testid="task"') == 0


def test_a_skip_without_a_reason_is_refused(db, brand_a, login):
    [task] = _tasks(brand_a, 1)
    client = login(brand_a.members["customer_ops"])
    client.post(f"/content/sop/tasks/{task.pk}/skip/", {"reason": " "})
    assert StaffTask.unscoped.get().state == TaskState.OPEN


def test_someone_else_s_task_is_not_theirs_to_close(db, brand_a, login):
    [task] = _tasks(brand_a, 1)
    client = login(brand_a.members["merchandiser"])
    assert client.get("/content/sop/today/").content.decode().count('data-testid="task"') == 0
    assert client.post(f"/content/sop/tasks/{task.pk}/done/", {"outcome": "x"}).status_code == 403
    assert services.today_tasks(brand_a.workspace, task.operator).count() == 1
