"""The console pages: the list and the template library, the editor (from a template, with its
errors on the page, saving a plan), the activity (start, tick, finish, review, export), and what
viewers and other brands see. In Chinese, as the console is by default."""

from __future__ import annotations

import datetime as dt
import io

from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from siyu.activities import services
from siyu.activities.models import Activity, ActivityStatus, RunItem
from siyu.community.models import GroupDaily
from tests.activities.conftest import END, START

HOUR = dt.timedelta(hours=1)


def _form(town, **overrides):
    data = {"name": "双十二话题夜", "type": "topic", "goal": "提升活跃", "target_joins": "5", "target_checkins": "",
            "target_messages": "300", "target_conversions": "", "starts_at": "2026-12-10T20:00",
            "ends_at": "2026-12-10T22:00", "group_ids": [str(town.groups["vip"].pk)], "group_tags": "",
            "segment_id": "", "budget": "100", "sop_id": "",
            "role_label": ["主持", ""], "role_staff": [str(town.staff[1].pk), ""],
            "budget_item": ["红包", ""], "budget_amount": ["80", ""],
            "run_offset": ["0", "-2h", ""], "run_title": ["开场", "预告", ""], "run_owner": ["", str(town.staff[0].pk), ""]}
    data.update(overrides)
    return data


def test_the_list_shows_activities_and_the_template_library_in_chinese(town, login):
    town.create()
    html = login(town.brand.members["planner"]).get("/community/activities/").content.decode()
    assert "社群活动" in html and "周三晚干货分享会" in html and "待开始" in html
    assert "活动模板库" in html and "21天早起打卡挑战" in html and 'data-testid="new"' in html


def test_a_template_fills_the_editor(town, login):
    html = login(town.brand.members["planner"]).get("/community/activities/new/?template=lottery").content.decode()
    assert "会员日抽奖秒杀" in html and "限时秒杀开抢" in html and "抽奖奖品" in html and 'value="-2d"' in html


def test_saving_the_form_plans_an_activity_with_its_rows(town, login):
    response = login(town.brand.members["planner"]).post("/community/activities/new/", _form(town))
    activity = Activity.unscoped.get(name="双十二话题夜")
    assert response.status_code == 302 and response["Location"] == f"/community/activities/{activity.pk}/"
    assert activity.starts_at == dt.datetime(2026, 12, 10, 12, 0, tzinfo=dt.UTC)  # 20:00 in Beijing
    assert [(i.offset_minutes, i.title, i.owner_id) for i in RunItem.unscoped.filter(activity=activity)] == [
        (-120, "预告", town.staff[0].pk), (0, "开场", None)]
    assert activity.target_joins == 5 and activity.target_checkins is None


def test_the_editor_explains_its_problems_on_the_page(town, login):
    form = _form(town, ends_at="2026-12-10T19:00", budget_amount=["180", ""], role_staff=["", ""],
                 run_offset=["later", "-2h", ""])
    response = login(town.brand.members["planner"]).post("/community/activities/new/", form)
    html = response.content.decode()
    assert response.status_code == 200 and not Activity.unscoped.exists()
    assert "结束时间必须晚于开始时间" in html and "超过了预算 100" in html and "请选择本品牌的员工" in html
    assert "第 1 项：相对开始的时间" in html
    assert 'value="双十二话题夜"' in html and 'value="later"' in html  # what was typed stays


def test_the_editor_shows_the_last_lessons_of_the_type(town, login):
    old = town.create(starts_at=START - dt.timedelta(days=30), ends_at=END - dt.timedelta(days=30))
    services.move(town.workspace, town.seat(), old.pk, ActivityStatus.RUNNING)
    services.move(town.workspace, town.seat(), old.pk, ActivityStatus.DONE)
    services.save_review(town.workspace, town.seat(), old.pk, worked="", did_not_work="", lessons=["提前准备答疑清单"])
    html = login(town.brand.members["planner"]).get("/community/activities/new/?template=knowledge-weekly").content.decode()
    assert 'data-testid="carried-lessons"' in html and "提前准备答疑清单" in html
    other = login(town.brand.members["planner"]).get("/community/activities/new/?template=lottery").content.decode()
    assert "提前准备答疑清单" not in other


def test_an_activity_is_run_ticked_finished_reviewed_and_exported(town, login):
    activity = town.create()
    town.member("knowledge", 0, START + HOUR)
    GroupDaily.objects.create(workspace=town.workspace, group=town.groups["knowledge"], day=START.date(), messages=42)
    client = login(town.brand.members["ops_lead"])
    base = f"/community/activities/{activity.pk}/"
    assert client.post(base + "move/running/").status_code == 302
    item = RunItem.unscoped.filter(activity=activity).first()
    client.post(base + f"items/{item.pk}/", {"done": "1"})
    html = client.get(base).content.decode()
    assert "进行中" in html and "✓ alpha-ops_lead" in html and 'data-number="joins">1<' in html
    assert client.post(base + "move/done/").status_code == 302
    client.post(base + "review/", {"worked": "开场很顺", "did_not_work": "消息不多", "lessons": "提前预热\n\n多互动"})
    html = client.get(base).content.decode()
    assert "已结束" in html and "达成率" in html and "提前预热" in html
    export = client.get(base + "review/export/")
    assert export.status_code == 200 and export["Content-Disposition"].startswith("attachment")
    book = load_workbook(io.BytesIO(export.content))
    review = {row[0]: row[1:] for row in book.worksheets[0].iter_rows(values_only=True)}
    assert review["入群"][:2] == (2, 1) and review["消息"][:2] == (100, 42)
    notes = [row for row in book.worksheets[-1].iter_rows(values_only=True)]
    assert ("经验", "多互动") in notes


def test_viewers_see_no_edit_controls_and_are_refused_the_editor(town, login):
    activity = town.create()
    client = login(town.brand.members["copywriter"])
    html = client.get(f"/community/activities/{activity.pk}/").content.decode()
    assert 'data-testid="start"' not in html and 'data-testid="edit"' not in html
    assert client.get("/community/activities/new/").status_code == 403
    assert client.post(f"/community/activities/{activity.pk}/move/running/").status_code == 403
    assert Activity.unscoped.get(pk=activity.pk).status == ActivityStatus.PLANNED


def test_only_exporting_roles_may_export(town, login):
    activity = town.create()
    services.move(town.workspace, town.seat(), activity.pk, ActivityStatus.RUNNING)
    services.move(town.workspace, town.seat(), activity.pk, ActivityStatus.DONE)
    url = f"/community/activities/{activity.pk}/review/export/"
    assert login(town.brand.members["planner"]).get(url).status_code == 403
    assert login(town.brand.members["data_analyst"]).get(url).status_code == 200


def test_another_brand_gets_not_found(town, brand_b, login):
    activity = town.create()
    client = login(brand_b.admin)
    for url in ("", "edit/", "review/export/"):
        assert client.get(f"/community/activities/{activity.pk}/{url}").status_code == 404


def _queries(client, url):
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_activity_page_queries_stay_flat_as_groups_and_items_grow(town, login):
    from siyu.community.models import CustomerGroup
    client = login(town.brand.members["planner"])
    few = town.create(group_types=["welfare"])
    services.move(town.workspace, town.seat(), few.pk, ActivityStatus.RUNNING, now=START)
    for n in range(20):
        group = CustomerGroup.objects.create(workspace=town.workspace, chat_id=f"wr-more{n}", name=f"更多{n}",
                                             type="welfare")
        GroupDaily.objects.create(workspace=town.workspace, group=group, day=START.date(), messages=n)
    many = town.create(group_types=["welfare"], run_sheet=[services.ItemInput(f"{n}m", f"第{n}项") for n in range(20)],
                       roles=[services.RoleInput(f"角色{n}", town.staff[n % 2].pk) for n in range(10)])
    services.move(town.workspace, town.seat(), many.pk, ActivityStatus.RUNNING, now=START)
    assert _queries(client, f"/community/activities/{few.pk}/") == _queries(client, f"/community/activities/{many.pk}/")


def test_a_run_sheet_message_from_the_form_becomes_an_event_sop(town, login):
    from siyu.segments.models import Segment
    segment = Segment.objects.create(workspace=town.workspace, name="护肤人群")
    client = login(town.brand.members["planner"])
    client.post("/community/activities/new/", _form(town, segment_id=str(segment.pk),
                                                   run_message=["开场啦，欢迎大家", "", ""]))
    activity = Activity.unscoped.get(name="双十二话题夜")
    html = client.get(f"/community/activities/{activity.pk}/").content.decode()
    assert "开场啦，欢迎大家" in html and 'data-testid="make-sop"' in html
    client.post(f"/community/activities/{activity.pk}/sop/")
    html = client.get(f"/community/activities/{activity.pk}/").content.decode()
    assert 'data-testid="sop"' in html and "已按流程生成活动 SOP 草稿" in html
