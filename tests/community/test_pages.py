"""The group list and detail: Chinese, filtered, within a query budget flat as groups grow;
editing type, persona and tags by the roles that may, audited; other brands' groups hidden."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from siyu.accounts.models import StaffAccount
from siyu.community.models import (
    CustomerGroup,
    GroupDaily,
    GroupMember,
    GroupType,
    MemberKind,
    Stage,
)
from siyu.core.models import AuditEntry
from siyu.ip.models import Persona


def _groups(ws, count, start=0, owner=None):
    now = timezone.now()
    for n in range(start, start + count):
        group = CustomerGroup.objects.create(workspace=ws, chat_id=f"wr{n}", name=f"福利群{n}", member_count=3,
                                             owner=owner, stage=Stage.GROWTH, type=GroupType.WELFARE,
                                             created_at=now - dt.timedelta(days=10))
        GroupMember.unscoped.bulk_create([
            GroupMember(workspace=ws, group=group, userid=f"wm{n}-{m}", kind=MemberKind.CUSTOMER,
                        join_time=now - dt.timedelta(days=m)) for m in range(3)])
        GroupDaily.objects.create(workspace=ws, group=group, day=timezone.localdate(), members=3, joins=1,
                                  active_members=2)


def _queries(client, url):
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_the_list_speaks_chinese_and_its_queries_stay_flat(brand_a, login):
    ws = brand_a.workspace
    owner = StaffAccount.objects.create(workspace=ws, userid="staff0", name="小完子")
    _groups(ws, 3, owner=owner)
    client = login(brand_a.members["copywriter"])
    few, html = _queries(client, "/community/")
    _groups(ws, 30, start=3, owner=owner)
    many, _html = _queries(client, "/community/")
    assert few == many
    assert "客户群" in html and "福利群0" in html and "发展期" in html and "净增（7 天）" in html
    assert 'data-testid="sync"' not in html  # a copywriter only views


def test_the_list_filters_by_type_stage_owner_and_name(brand_a, login):
    ws = brand_a.workspace
    _groups(ws, 3)
    CustomerGroup.objects.for_workspace(ws).filter(chat_id="wr1").update(type=GroupType.VIP, stage=Stage.SPLIT)
    client = login(brand_a.admin)
    html = client.get("/community/?type=vip").content.decode()
    assert "福利群1" in html and "福利群0" not in html
    html = client.get("/community/?stage=growth").content.decode()
    assert "福利群0" in html and "福利群1" not in html
    html = client.get("/community/?q=群2").content.decode()
    assert "福利群2" in html and "福利群0" not in html


def test_the_detail_shows_the_chart_and_members(brand_a, login):
    ws = brand_a.workspace
    _groups(ws, 1)
    group = CustomerGroup.objects.for_workspace(ws).get()
    count, html = _queries(login(brand_a.members["merchandiser"]), f"/community/{group.pk}/")
    assert 'data-testid="chart"' in html and "growth-data" in html and "wm0-2" in html
    assert 'data-testid="group-form"' not in html and count < 20


def test_another_brands_group_is_not_found(brand_a, brand_b, login):
    _groups(brand_b.workspace, 1)
    group = CustomerGroup.objects.for_workspace(brand_b.workspace).get()
    assert login(brand_a.admin).get(f"/community/{group.pk}/").status_code == 404


def test_a_planner_sets_type_persona_and_tags_and_it_is_audited(brand_a, login):
    ws = brand_a.workspace
    _groups(ws, 1)
    group = CustomerGroup.objects.for_workspace(ws).get()
    persona = Persona.objects.create(workspace=ws, name="小美")
    client = login(brand_a.members["planner"])
    response = client.post(f"/community/{group.pk}/", {"type": "other", "type_label": "宝妈群",
                                                       "persona": persona.pk, "tags": "宝妈，上海, 宝妈"})
    assert response.status_code == 302
    group.refresh_from_db()
    assert (group.type, group.type_label, group.persona, group.tags) == ("other", "宝妈群", persona, ["宝妈", "上海"])
    entry = AuditEntry.objects.for_workspace(ws).filter(module="community").get()
    assert entry.detail["name"] == group.name and len(entry.detail["changes"]) == 4


def test_an_other_type_needs_its_name(brand_a, login):
    _groups(brand_a.workspace, 1)
    group = CustomerGroup.objects.for_workspace(brand_a.workspace).get()
    html = login(brand_a.admin).post(f"/community/{group.pk}/", {"type": "other", "type_label": ""}).content.decode()
    assert "请填写这个群的类型名称" in html


def test_a_copywriter_cannot_edit_a_group(brand_a, login):
    _groups(brand_a.workspace, 1)
    group = CustomerGroup.objects.for_workspace(brand_a.workspace).get()
    response = login(brand_a.members["copywriter"]).post(f"/community/{group.pk}/", {"type": "vip"})
    assert response.status_code == 403
    group.refresh_from_db()
    assert group.type == GroupType.WELFARE


def test_customer_ops_may_start_a_sync_and_a_merchandiser_may_not(brand_a, login):
    assert login(brand_a.members["merchandiser"]).post("/community/sync/").status_code == 403
    assert login(brand_a.members["customer_ops"]).post("/community/sync/").status_code == 302
