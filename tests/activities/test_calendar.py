"""社群日历: a month of activities, event SOP days and steps, and weekly group SOP rhythms, from
small source functions; filtered by group (brand-wide entries stay) and by kind."""

from __future__ import annotations

import datetime as dt

import pytest

from siyu.activities import services
from siyu.activities.models import ActivityStatus
from siyu.activities.services import CalendarEntry
from siyu.sop.models import Sop, SopKind, SopStatus, SopStep, SopVersion, StepChannel
from tests.activities.conftest import START


def _days(month, kind=None):
    return {d.day.isoformat(): [e.title for e in d.entries if kind is None or e.kind == kind]
            for week in month.weeks for d in week if d.entries}


def _event_sop(town, at):
    sop = Sop.objects.create(workspace=town.workspace, name="双十二活动SOP", kind=SopKind.EVENT, event_at=at,
                             status=SopStatus.ACTIVE, working_days_only=False)
    version = SopVersion.objects.create(workspace=town.workspace, sop=sop, number=1)
    SopStep.objects.create(workspace=town.workspace, version=version, order=1, days=-2, at_time=dt.time(20, 0),
                           channel=StepChannel.MASS, text="预热")
    sop.current_version = version
    sop.save()
    return sop


def test_the_month_holds_activities_event_sops_and_group_rhythms(town):
    town.create(name="三天分享")  # Beijing 2026-11-02 20:00 to 11-05 20:00
    cancelled = town.create(name="取消了")
    services.move(town.workspace, town.seat(), cancelled.pk, ActivityStatus.CANCELLED)
    _event_sop(town, dt.datetime(2026, 11, 12, 12, 0, tzinfo=dt.UTC))
    Sop.objects.create(workspace=town.workspace, name="每周三群分享", kind=SopKind.GROUP, status=SopStatus.ACTIVE,
                       schedule_weekday=2, at_time=dt.time(20, 0))
    month = services.month_view(town.workspace, town.seat("copywriter"), 2026, 11)
    days = _days(month)
    assert [d.day.weekday() for d in month.weeks[0]] == list(range(7))
    for day in ("2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05"):
        assert "三天分享" in days[day]
    assert "三天分享" not in days.get("2026-11-06", []) and not any("取消了" in t for t in days.values())
    assert days["2026-11-12"] == ["双十二活动SOP"]  # a Thursday: the event itself
    assert days["2026-11-10"] == ["双十二活动SOP：步骤"]  # its warm-up step, two days before at 20:00
    assert _days(month, "group_sop").keys() >= {"2026-11-04", "2026-11-11", "2026-11-18", "2026-11-25"}
    first = month.weeks[0][0]
    assert month.weeks[0][0].in_month is False and first.day.isoformat() == "2026-10-26"


def test_the_group_filter_keeps_brand_wide_entries_and_the_kind_filter_one_kind(town):
    town.create(name="知识群活动", group_ids=[town.groups["knowledge"].pk])
    town.create(name="VIP群活动", group_ids=[town.groups["vip"].pk])
    Sop.objects.create(workspace=town.workspace, name="每周三群分享", kind=SopKind.GROUP, status=SopStatus.ACTIVE,
                       schedule_weekday=2, at_time=dt.time(20, 0))
    month = services.month_view(town.workspace, town.seat(), 2026, 11, group_id=town.groups["vip"].pk)
    titles = {t for ts in _days(month).values() for t in ts}
    assert "VIP群活动" in titles and "知识群活动" not in titles and "每周三群分享" in titles
    only = services.month_view(town.workspace, town.seat(), 2026, 11, kind="activity")
    assert {t for ts in _days(only).values() for t in ts} == {"知识群活动", "VIP群活动"}


def test_a_source_is_one_more_function(town):
    def sales(workspace, first, last):
        return [CalendarEntry(first + dt.timedelta(days=3), "会员日", "sale")]
    month = services.month_view(town.workspace, town.seat(), 2026, 11, sources=[*services.SOURCES, sales])
    assert "会员日" in _days(month)["2026-10-29"]


def test_the_calendar_page_draws_the_month_and_its_filters(town, login):
    activity = town.create(name="三天分享")
    client = login(town.brand.members["copywriter"])
    html = client.get("/community/activities/calendar/?month=2026-11").content.decode()
    assert "2026 年 11 月" in html and "社群日历" in html and "三天分享" in html
    assert f'href="/community/activities/{activity.pk}/"' in html and 'data-day="2026-11-02"' in html
    assert "?month=2026-12" in html and "?month=2026-10" in html
    assert client.get("/community/activities/calendar/?month=bogus").status_code == 200
    assert client.get("/community/activities/calendar/?month=2026-11&group=99999999999999999999").status_code == 200


def test_another_brand_sees_none_of_it(town, brand_b):
    from tests.conftest import seat
    town.create(name="三天分享")
    theirs = services.month_view(brand_b.workspace, seat(brand_b.admin, brand_b.workspace), 2026, 11)
    assert theirs.count == 0 and START.month == 11


@pytest.mark.skipif(not hasattr(Sop, "group_type"), reason="group SOPs name their groups by type and tag")
def test_a_group_sop_of_a_type_is_filed_under_its_groups(town):
    Sop.objects.create(workspace=town.workspace, name="VIP周会", kind=SopKind.GROUP, status=SopStatus.ACTIVE,
                       schedule_weekday=2, at_time=dt.time(20, 0), group_type="vip")
    Sop.objects.create(workspace=town.workspace, name="无群可发", kind=SopKind.GROUP, status=SopStatus.ACTIVE,
                       schedule_weekday=2, at_time=dt.time(20, 0), group_tag="不存在")
    vip = services.month_view(town.workspace, town.seat(), 2026, 11, group_id=town.groups["vip"].pk)
    other = services.month_view(town.workspace, town.seat(), 2026, 11, group_id=town.groups["knowledge"].pk)
    assert _days(vip)["2026-11-04"] == ["VIP周会"]
    assert "2026-11-04" not in _days(other)
