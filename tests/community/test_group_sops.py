"""Group SOPs (群 SOP) against the twin over real HTTP: a weekly rhythm (Monday topic, Wednesday
check-in, Friday welfare) for the welfare groups, a member count reached, a group created. Each
step fires once through the customer SOP's engine: a group 群发 sent by each group's owner, or a
task for the owner; a dismissed group's step is skipped with the reason; the group's page shows
the SOPs that apply and each step's outcome."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from siyu.community import subscribers
from siyu.community.models import CustomerGroup, GroupType
from siyu.community.services import mark_dismissed, refresh_group
from siyu.core.services import OPERATOR
from siyu.messaging.models import MassGroupRecipient, MassMessage, RecipientStatus
from siyu.messaging.services import send_message
from siyu.sop import services as sop
from siyu.sop.models import (
    Enrolment,
    RunState,
    SopKind,
    SopStatus,
    StaffTask,
    StepChannel,
    StepRun,
    TaskKind,
    TriggerKind,
)
from siyu.sop.services import SopInput, StepInput, analytics
from siyu.wecom.events import GroupCreated, GroupUpdated

SH = dt.timezone(dt.timedelta(hours=8))
MONDAY = dt.datetime(2026, 11, 2, 9, 30, tzinfo=SH)  # no holiday near it


def _group(club, name, owner="staff0", members=(), type_=GroupType.WELFARE, tags=()):
    chat_id = club.group(name, list(members), owner=owner)
    found = refresh_group(club.workspace, chat_id)
    CustomerGroup.objects.for_workspace(club.workspace).filter(pk=found.pk).update(type=type_, tags=list(tags))
    return CustomerGroup.objects.for_workspace(club.workspace).get(pk=found.pk)


def _weekly(club):
    steps = [StepInput(days=0, at_time=dt.time(10, 0), channel=StepChannel.MASS, text="本周话题：冬季护肤"),
             StepInput(days=2, at_time=dt.time(20, 0), channel=StepChannel.MASS, text="周三打卡，晒出你的护肤步骤"),
             StepInput(days=4, at_time=dt.time(12, 0), channel=StepChannel.TASK, task_kind=TaskKind.SEND,
                       text="发周五福利：满99减20")]
    made = sop.create_sop(club.workspace, club.seat("admin"), SopInput(
        name="福利群周节奏", kind=SopKind.GROUP, trigger=TriggerKind.SCHEDULE, schedule_weekday=0,
        at_time=dt.time(9, 0), group_type=GroupType.WELFARE), steps)
    return sop.set_status(club.workspace, club.seat("admin"), made.pk, SopStatus.ACTIVE)


def test_a_weekly_rhythm_runs_for_the_welfare_groups_once_each(club, client):
    ws = club.workspace
    a = _group(club, "福利一群", "staff0", ["wm0000"])
    b = _group(club, "福利二群", "staff1", ["wm0001"])
    c = _group(club, "知识群", "staff0", ["wm0002"], type_=GroupType.KNOWLEDGE)
    weekly = _weekly(club)

    assert sop.enrol_scheduled(ws, MONDAY) == 2
    assert sop.enrol_scheduled(ws, MONDAY + dt.timedelta(minutes=5)) == 0  # a re-run enrols nobody twice
    enrolled = set(Enrolment.objects.for_workspace(ws).filter(sop=weekly).values_list("group_id", flat=True))
    assert enrolled == {a.pk, b.pk}
    runs = StepRun.objects.for_workspace(ws).filter(sop=weekly)
    assert runs.count() == 6 and set(runs.values_list("customer_id", flat=True)) == {None}

    # Monday 10:00: one group 群发, each group sent by its owner, claimed once.
    monday = sop.sweep(ws, MONDAY + dt.timedelta(minutes=31))
    assert monday["sent"] == 2
    assert sop.sweep(ws, MONDAY + dt.timedelta(minutes=32))["sent"] == 0
    message = MassMessage.objects.for_workspace(ws).get(source="sop")
    assert message.target_kind == "groups" and message.text == "本周话题：冬季护肤"
    send_message(ws, message.pk, timezone.now())
    tasks = {t["creator"]: t for t in club.twin.state()["mass_tasks"]}
    assert {u: [s["chat_id"] for s in t["sends"]] for u, t in tasks.items()} == {
        "staff0": [a.chat_id], "staff1": [b.chat_id]}
    assert {t["chat_type"] for t in tasks.values()} == {"group"}
    assert set(MassGroupRecipient.unscoped.filter(message=message).values_list("status", flat=True)) == {
        RecipientStatus.PENDING}

    # Group 2 is dismissed on Tuesday: Wednesday's check-in skips it with the reason.
    mark_dismissed(ws, b.chat_id, MONDAY + dt.timedelta(days=1))
    wednesday = sop.sweep(ws, MONDAY + dt.timedelta(days=2, hours=10, minutes=31))
    assert (wednesday["sent"], wednesday["skipped:group_gone"]) == (1, 1)
    assert MassMessage.objects.for_workspace(ws).filter(source="sop").count() == 2

    # Friday: a task for the owner of each live group, about the group.
    friday = sop.sweep(ws, MONDAY + dt.timedelta(days=4, hours=2, minutes=31))
    assert (friday["sent"], friday["skipped:group_gone"]) == (1, 1)
    task = StaffTask.objects.for_workspace(ws).get(source="sop")
    assert (task.customer_id, task.group_id, task.subject, task.assignee.userid) == (None, a.pk, "福利一群", "staff0")
    assert task.text == "发周五福利：满99减20"

    # The group's page: the SOP that applies and each step's outcome.
    client.force_login(club.brand.members["planner"])
    page = client.get(f"/community/{a.pk}/", HTTP_HOST="localhost")
    body = page.content.decode()
    assert page.status_code == 200 and "福利群周节奏" in body and 'data-testid="group-sop"' in body
    assert body.count('data-testid="group-sop-step"') == 3
    gone = client.get(f"/community/{b.pk}/", HTTP_HOST="localhost").content.decode()
    assert "group dismissed" in gone or "群已解散" in gone or "无有效群主" in gone
    assert sop.applying_sops(ws, c.pk) == []

    # Analytics count the groups' runs, and a group the owner's 群发 reached (confirmed at WeCom).
    MassGroupRecipient.unscoped.filter(message=message, group_id=a.pk).update(status=RecipientStatus.SENT)
    figures = {f.step.order: f for f in analytics.sop_analytics(ws, OPERATOR, weekly.pk).steps}
    first = figures[min(figures)]
    assert (first.counts["sent"], first.reached) == (2, 1)


def _update(club, chat_id):
    return GroupUpdated(occurred_at=MONDAY, chat_id=chat_id, update_detail="add_member", member_changes=[],
                        member_change_count=1, last_member_version="", current_member_version=club.version(chat_id))


def test_a_member_count_reached_enrols_the_group_once(club):
    ws = club.workspace
    made = sop.create_sop(ws, club.seat("admin"), SopInput(
        name="百人群", kind=SopKind.GROUP, trigger=TriggerKind.GROUP_SIZE, member_count=4),
        [StepInput(days=0, channel=StepChannel.TASK, task_kind=TaskKind.INVITE, text="群满4人：准备裂变活动")])
    sop.set_status(ws, club.seat("admin"), made.pk, SopStatus.ACTIVE)
    group = _group(club, "增长群", "staff0", ["wm0000"])
    for external in ("wm0001", "wm0002", "wm0003", "wm0004"):
        club.join(group.chat_id, external)
        subscribers.keep_group_updated(ws, _update(club, group.chat_id), None)
        n = CustomerGroup.objects.for_workspace(ws).get(pk=group.pk).member_count
        expected = 1 if n >= 4 else 0
        assert Enrolment.objects.for_workspace(ws).filter(sop=made, group_id=group.pk).count() == expected, n
    swept = sop.sweep(ws, MONDAY + dt.timedelta(minutes=1))
    assert swept["sent"] == 1
    assert StaffTask.objects.for_workspace(ws).get(group_id=group.pk).kind == TaskKind.INVITE


def test_a_group_created_enrols_it_and_other_kinds_do_not(club):
    ws = club.workspace
    made = sop.create_sop(ws, club.seat("admin"), SopInput(name="新群欢迎", kind=SopKind.GROUP,
                                                           trigger=TriggerKind.GROUP_CREATED),
                          [StepInput(days=0, channel=StepChannel.MASS, text="欢迎加入！")])
    sop.set_status(ws, club.seat("admin"), made.pk, SopStatus.ACTIVE)
    chat_id = club.group("新群", ["wm0000"])
    event = GroupCreated(occurred_at=MONDAY, chat_id=chat_id)
    subscribers.keep_group_created(ws, event, None)
    subscribers.keep_group_created(ws, event, None)  # a replay enrols nobody twice
    enrolments = Enrolment.objects.for_workspace(ws).filter(sop=made)
    assert enrolments.count() == 1 and enrolments.get().customer_id is None
    assert StepRun.objects.for_workspace(ws).filter(sop=made, state=RunState.DUE).count() == 1


def test_the_editor_explains_what_a_group_sop_needs(club):
    ws, admin = club.workspace, club.seat("admin")
    with pytest.raises(ValidationError) as raised:
        sop.create_sop(ws, admin, SopInput(name="x", kind=SopKind.GROUP, trigger=TriggerKind.GROUP_SIZE),
                       [StepInput(channel=StepChannel.MOMENT, text="x", persona_id=1)])
    errors = raised.value.message_dict
    assert "member_count" in errors and "steps" in errors
    with pytest.raises(ValidationError) as raised:
        sop.create_sop(ws, admin, SopInput(name="x", kind=SopKind.GROUP, trigger=TriggerKind.ADDED),
                       [StepInput(text="x")])
    assert "trigger" in raised.value.message_dict
