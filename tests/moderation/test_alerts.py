"""Keyword alerts on joining nicknames, staff reports, the keyword list and the checklist."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from siyu.community.models import CustomerGroup, GroupMember, MemberKind
from siyu.core.models import AuditEntry
from siyu.moderation import services, subscribers
from siyu.moderation.models import Alert, AlertKind, ChecklistTick
from siyu.sop.models import StaffTask
from tests.conftest import seat
from tests.moderation.conftest import joined, made_group


def test_a_joining_nickname_with_a_keyword_raises_one_alert_and_task(club):
    group = made_group(club, "福利群", ["wm0000"])
    club.twin.admin.post("/twin/customers/add", json={"external_userid": "wm0100", "name": "招代理-小王",
                                                      "staff_userid": "staff0"}).raise_for_status()
    event = joined(club, group, "wm0100")
    joined(club, group, "wm0001")  # an ordinary name: no alert
    subscribers.screen_member_changes(club.workspace, event, None)  # replayed
    alert = Alert.objects.for_workspace(club.workspace).get()
    assert (alert.kind, alert.keyword, alert.nickname) == (AlertKind.NICKNAME, "代理", "招代理-小王")
    task = StaffTask.objects.for_workspace(club.workspace).get(pk=alert.task_id)
    assert task.assignee == club.accounts[0] and "招代理-小王" in task.text


def test_the_keyword_list_has_defaults_and_is_edited_with_an_audit(brand_a):
    ws = brand_a.workspace
    assert "广告" in services.keywords_of(ws) and "加微" in services.keywords_of(ws)
    words = services.set_keywords(ws, seat(brand_a.admin, ws), "广告\n代购， 微商\n广告\n")
    assert words == ["广告", "代购", "微商"] and services.keywords_of(ws) == words
    assert services.matching_keyword("专业代购-小李", words) == "代购"
    assert AuditEntry.objects.for_workspace(ws).filter(module="moderation").count() == 1
    with pytest.raises(ValidationError):
        services.set_keywords(ws, seat(brand_a.admin, ws), "x" * 31)
    with pytest.raises(PermissionDenied):
        services.set_keywords(ws, seat(brand_a.members["copywriter"], ws), "广告")


def _member(brand, group, userid, kind=MemberKind.CUSTOMER):
    return GroupMember.objects.create(workspace=brand.workspace, group=group, userid=userid, kind=kind, nickname="阿强")


def test_a_staff_report_makes_an_alert_a_task_and_optionally_a_blacklist_entry(brand_a):
    ws = brand_a.workspace
    group = CustomerGroup.objects.create(workspace=ws, chat_id="wr1", name="学习群")
    _member(brand_a, group, "wmX")
    _member(brand_a, group, "staffA", MemberKind.STAFF)
    copywriter = seat(brand_a.members["copywriter"], ws)
    alert = services.report(ws, copywriter, services.ReportInput(group.pk, "wmX", "发了一个赌博链接"))
    assert alert.kind == AlertKind.REPORT and alert.reported_by == copywriter
    assert "发了一个赌博链接" in StaffTask.objects.for_workspace(ws).get(pk=alert.task_id).text
    assert not services.is_blacklisted(ws, external_userid="wmX")
    with pytest.raises(PermissionDenied):  # blacklisting needs edit
        services.report(ws, copywriter, services.ReportInput(group.pk, "wmX", "again", blacklist=True))
    services.report(ws, seat(brand_a.admin, ws), services.ReportInput(group.pk, "wmX", "again", blacklist=True))
    assert services.blacklist_entry_for(ws, external_userid="wmX").source == "report"
    with pytest.raises(ValidationError) as refused:
        services.report(ws, copywriter, services.ReportInput(group.pk, "staffA", ""))
    assert set(refused.value.message_dict) == {"userid", "text"}


def test_the_checklist_records_who_ticked_and_when(brand_a):
    ws = brand_a.workspace
    admin = seat(brand_a.admin, ws)
    assert [line.tick for line in services.checklist(ws, admin)] == [None] * len(services.ITEMS)
    services.tick(ws, admin, "links", True)
    services.tick(ws, admin, "links", True)  # twice: one tick
    tick = ChecklistTick.objects.for_workspace(ws).get()
    assert tick.ticked_by == admin and tick.ticked_at is not None
    services.tick(ws, admin, "links", False)
    assert not ChecklistTick.objects.for_workspace(ws).exists()
    assert AuditEntry.objects.for_workspace(ws).filter(module="moderation").count() == 2
    with pytest.raises(ValidationError):
        services.tick(ws, admin, "nope", True)
    with pytest.raises(PermissionDenied):
        services.tick(ws, seat(brand_a.members["data_analyst"], ws), "links", True)
