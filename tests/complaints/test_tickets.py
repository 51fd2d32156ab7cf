"""A complaint becomes a ticket worked on two lines (明暗两条线)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from siyu.complaints import services
from siyu.complaints.models import Channel, Priority, Status
from siyu.content.models import Scenario, Script, ScriptFolder
from siyu.core.models import AuditEntry, Notification
from siyu.sop.models import StaffTask, TaskState
from siyu.sop.services import complete_task, escalate_overdue
from siyu.tags.models import CustomerTag, Tag, TagGroup

NOON = dt.datetime(2026, 12, 7, 4, 0, tzinfo=dt.UTC)


def _open(shop, n=0, group=None, channel=Channel.GROUP, text="发货太慢了", role="customer_ops"):
    group = shop.group if group is None else group
    return services.open_complaint(shop.workspace, shop.seat(role), services.ComplaintInput(
        text, shop.customers[n].pk, group.pk if group else None, channel), now=NOON)


def test_a_group_complaint_gets_a_visible_task_for_the_owner_and_a_hidden_one_for_the_customers_staff(shop):
    c = _open(shop)
    assert (c.status, c.priority) == (Status.OPEN, Priority.NORMAL)
    assert c.ack_due_at == NOON + dt.timedelta(minutes=services.ACK_MINUTES)
    assert c.resolve_due_at == NOON + dt.timedelta(hours=services.RESOLVE_HOURS)
    tasks = services.tasks_of(shop.workspace, c)
    visible, hidden = tasks["visible"], tasks["hidden"]
    assert visible.assignee == shop.accounts[0] and visible.group_id == shop.group.pk and "福利群" in visible.text
    assert c.script in visible.text and visible.breach_at == c.ack_due_at
    assert hidden.assignee == shop.accounts[1] and hidden.group_id is None and "发货太慢了" in hidden.text
    assert hidden.breach_at == c.resolve_due_at and hidden.operator == shop.seat("customer_ops")
    assert AuditEntry.objects.for_workspace(shop.workspace).filter(module="complaints").count() == 1


def test_a_vip_group_or_tag_gets_higher_priority_and_a_shorter_sla(shop):
    c = _open(shop, group=shop.vip_group)
    assert c.priority == Priority.VIP and c.ack_due_at == NOON + dt.timedelta(minutes=services.VIP_ACK_MINUTES)
    assert c.resolve_due_at == NOON + dt.timedelta(hours=services.VIP_RESOLVE_HOURS)
    tag_group = TagGroup.objects.create(workspace=shop.workspace, name="等级")
    tag = Tag.objects.create(workspace=shop.workspace, group=tag_group, name="VIP客户")
    CustomerTag.objects.create(workspace=shop.workspace, customer=shop.customers[2], tag=tag)
    assert _open(shop, n=2, channel=Channel.STAFF, group=False).priority == Priority.VIP
    assert _open(shop, n=3, channel=Channel.STAFF, group=False).priority == Priority.NORMAL


def test_a_fitting_script_from_the_library_is_used_else_the_template(shop):
    assert "抱歉" in _open(shop).script or "sorry" in _open(shop).script
    folder = ScriptFolder.objects.create(workspace=shop.workspace, name="售后", scenario=Scenario.AFTER_SALE)
    Script.objects.create(workspace=shop.workspace, folder=folder, title="客诉安抚", steps=[{"text": "亲，非常抱歉！"}])
    assert _open(shop, n=1).script == "亲，非常抱歉！"


def test_a_complaint_without_a_group_is_acknowledged_one_to_one(shop):
    c = _open(shop, channel=Channel.STAFF, group=False)
    visible = services.tasks_of(shop.workspace, c)["visible"]
    assert visible.assignee == shop.accounts[1] and visible.group_id is None


def test_tasks_done_in_the_task_centre_move_the_complaint_on(shop):
    c = _open(shop)
    tasks = services.tasks_of(shop.workspace, c)
    admin = shop.seat("admin")
    complete_task(shop.workspace, admin, tasks["visible"].pk, "群里已回应")
    assert services.sync_from_tasks(shop.workspace) == 1
    c.refresh_from_db()
    assert c.status == Status.ACKNOWLEDGED and c.acknowledged_at is not None
    complete_task(shop.workspace, admin, tasks["hidden"].pk, "已补发")
    services.sync_from_tasks(shop.workspace)
    assert services.sync_from_tasks(shop.workspace) == 0  # again: nothing more
    c.refresh_from_db()
    assert (c.status, c.resolution) == (Status.RESOLVED, "已补发")


def test_acknowledge_resolve_and_close_from_the_complaint(shop):
    c = _open(shop)
    lead = shop.seat("ops_lead")
    services.acknowledge(shop.workspace, lead, c.pk)
    with pytest.raises(ValidationError):
        services.acknowledge(shop.workspace, lead, c.pk)
    with pytest.raises(ValidationError):
        services.resolve(shop.workspace, lead, c.pk, "")
    c = services.resolve(shop.workspace, lead, c.pk, "退款完成")
    assert c.status == Status.RESOLVED
    assert set(StaffTask.objects.for_workspace(shop.workspace).filter(source="complaints")
               .values_list("state", flat=True)) == {TaskState.DONE}
    other = _open(shop, n=1)
    services.close(shop.workspace, lead, other.pk, "重复")
    assert set(StaffTask.objects.for_workspace(shop.workspace).filter(ref__endswith=f":{other.pk}")
               .values_list("state", flat=True)) == {TaskState.SKIPPED}
    with pytest.raises(PermissionDenied):
        services.close(shop.workspace, shop.seat("copywriter"), c.pk, "x")


def test_the_hidden_line_escalates_to_the_ops_leads_once_its_sla_is_breached(shop):
    c = _open(shop, group=shop.vip_group)
    services.acknowledge(shop.workspace, shop.seat("admin"), c.pk, now=NOON)
    assert escalate_overdue(shop.workspace, NOON + dt.timedelta(hours=services.VIP_RESOLVE_HOURS - 1)) == 0
    assert escalate_overdue(shop.workspace, NOON + dt.timedelta(hours=services.VIP_RESOLVE_HOURS, minutes=1)) == 1
    assert escalate_overdue(shop.workspace, NOON + dt.timedelta(hours=30)) == 0
    lead = shop.brand.members["ops_lead"]
    assert Notification.objects.for_workspace(shop.workspace).filter(membership__user=lead).exists()


def test_opening_explains_what_is_missing(shop):
    with pytest.raises(ValidationError) as refused:
        services.open_complaint(shop.workspace, shop.seat("admin"), services.ComplaintInput("", None, None,
                                                                                             Channel.GROUP))
    assert {"text", "group"} <= set(refused.value.message_dict)


def test_a_fans_resubmission_is_one_complaint(shop):
    data = services.ComplaintInput("太慢", shop.customers[0].pk, None, Channel.FAN)
    first = services.open_complaint(shop.workspace, None, data, key="k1")
    assert services.open_complaint(shop.workspace, None, data, key="k1").pk == first.pk


def test_analytics_give_medians_p90_and_repeat_complainers(shop):
    admin = shop.seat("admin")
    for n, (ack, res) in enumerate([(5, 2), (10, 4), (20, 30)]):
        with time_machine.travel(NOON, tick=False):
            c = _open(shop, n=0 if n < 2 else 1)
        services.acknowledge(shop.workspace, admin, c.pk, now=NOON + dt.timedelta(minutes=ack))
        services.resolve(shop.workspace, admin, c.pk, "好了", now=NOON + dt.timedelta(hours=res))
    with time_machine.travel(NOON + dt.timedelta(days=2), tick=False):
        stats = services.complaint_stats(shop.workspace, admin, 30, now=timezone.now())
    assert stats.total == 3 and stats.ack_median_minutes == 10 and stats.ack_p90_minutes == 20
    assert stats.resolve_median_hours == 4 and stats.resolve_p90_hours == 30
    assert stats.ack_late == 1 and stats.resolve_late == 1
    assert [(r.customer, r.complaints) for r in stats.repeats] == [(shop.customers[0], 2)]
    assert sum(stats.chart["complaints"]) == 3


def test_another_brand_sees_none(shop, brand_b):
    from tests.conftest import seat
    _open(shop)
    assert not services.list_complaints(brand_b.workspace, seat(brand_b.admin, brand_b.workspace)).exists()
