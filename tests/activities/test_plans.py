"""策划: a plan saves its roles, budget and run sheet (in time order), resolves its audience's
groups, explains every problem at once, allows only the community column's editors, keeps a
running plan fixed, and carries the last lessons of its type forward."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from siyu.accounts.models import StaffAccount
from siyu.activities import services
from siyu.activities.models import Activity, ActivityGroup, ActivityStatus, RunItem
from siyu.core.models import AuditEntry
from siyu.segments.models import Segment
from siyu.sop.models import Sop, SopKind, SopStatus
from tests.activities.conftest import END, START


def test_a_plan_saves_its_rows_and_keeps_the_run_sheet_in_time_order(town):
    activity = services.get_activity(town.workspace, town.seat(), town.create().pk)
    assert [(i.order, i.offset_minutes, i.title) for i in RunItem.unscoped.filter(activity=activity)] == [
        (1, -1440, "预告"), (2, 0, "开场")]
    assert [(r.label, r.staff_id) for r in activity.roles.all()] == [("主持", town.staff[0].pk)]
    assert [(b.item, b.amount) for b in activity.budget_lines.all()] == [("讲师酬劳", Decimal("300.00"))]
    assert activity.status == ActivityStatus.PLANNED
    assert AuditEntry.unscoped.filter(module="community", detail__activity=activity.pk).exists()


def test_offsets_read_as_operators_write_them():
    assert services.parse_offset("-1d") == -1440
    assert services.parse_offset("+1h30m") == 90
    assert services.parse_offset("30m") == 30
    assert services.parse_offset("90") == 90
    assert services.parse_offset("0") == 0
    assert services.parse_offset("2天") == 2880
    assert services.parse_offset("soon") is None
    assert services.parse_offset("") is None
    for minutes in (-1500, -30, 0, 61, 2 * 1440 + 5):
        assert services.parse_offset(services.format_offset(minutes)) == minutes


def test_the_audience_resolves_picked_typed_and_labelled_groups(town):
    g = town.groups
    activity = town.create(group_ids=[g["knowledge"].pk], group_types=["vip"], group_tags=["新客"])
    assert set(ActivityGroup.unscoped.filter(activity=activity).values_list("group_id", flat=True)) == {
        g["knowledge"].pk, g["vip"].pk, g["welfare"].pk}
    by_label = town.create(group_ids=[], group_tags=["护肤"])
    assert set(ActivityGroup.unscoped.filter(activity=by_label).values_list("group_id", flat=True)) == {
        g["knowledge"].pk, g["welfare"].pk}


def test_every_problem_is_explained_at_once(town, brand_b):
    stranger = StaffAccount.objects.create(workspace=brand_b.workspace, userid="outsider")
    with pytest.raises(ValidationError) as caught:
        town.create(name=" ", starts_at=END, ends_at=START, targets={"joins": -1}, budget=Decimal("100"),
                    budget_lines=[services.BudgetInput("奖品", Decimal("80")), services.BudgetInput("红包", Decimal("50"))],
                    roles=[services.RoleInput("主持", stranger.pk)],
                    run_sheet=[services.ItemInput("soon", "开场")], group_ids=[])
    errors = caught.value.message_dict
    assert set(errors) >= {"name", "ends_at", "target_joins", "budget_lines", "roles", "run_sheet", "group_ids"}
    assert "130" in errors["budget_lines"][0] and "100" in errors["budget_lines"][0]
    assert "员工" in errors["roles"][0]  # the brand's staff, in the console's Chinese
    assert not Activity.unscoped.exists()


def test_a_negative_budget_and_a_line_without_amount_are_refused(town):
    with pytest.raises(ValidationError) as caught:
        town.create(budget=Decimal("-1"), budget_lines=[services.BudgetInput("奖品", None)])
    assert set(caught.value.message_dict) == {"budget", "budget_lines"}


def test_a_group_or_segment_of_another_brand_is_refused(town, brand_b):
    from tests.activities.conftest import make_groups
    theirs = make_groups(brand_b.workspace)
    segment = Segment.objects.create(workspace=brand_b.workspace, name="他们的人群")
    with pytest.raises(ValidationError) as caught:
        town.create(group_ids=[theirs["vip"].pk], segment_id=segment.pk)
    assert set(caught.value.message_dict) == {"group_ids", "segment_id"}


def test_only_an_event_sop_that_is_not_stopped_may_be_linked(town):
    event = Sop.objects.create(workspace=town.workspace, name="双十二活动SOP", kind=SopKind.EVENT,
                               event_at=START, status=SopStatus.DRAFT)
    stopped = Sop.objects.create(workspace=town.workspace, name="旧SOP", kind=SopKind.EVENT, status=SopStatus.STOPPED)
    customer = Sop.objects.create(workspace=town.workspace, name="欢迎SOP", kind=SopKind.CUSTOMER)
    assert town.create(sop_id=event.pk).sop_id == event.pk
    for sop in (stopped, customer):
        with pytest.raises(ValidationError) as caught:
            town.create(sop_id=sop.pk)
        assert "sop_id" in caught.value.message_dict


@pytest.mark.parametrize("role", ["admin", "ops_lead", "planner", "customer_ops"])
def test_editors_of_the_community_column_may_plan(town, role):
    assert services.create_activity(town.workspace, town.seat(role), town.plan()).pk


@pytest.mark.parametrize("role", ["copywriter", "data_analyst", "merchandiser"])
def test_other_roles_may_not_plan(town, role):
    with pytest.raises(PermissionDenied):
        services.create_activity(town.workspace, town.seat(role), town.plan())


def test_a_running_activity_is_not_re_planned(town):
    activity = town.create()
    services.move(town.workspace, town.seat(), activity.pk, ActivityStatus.RUNNING)
    with pytest.raises(ValidationError):
        services.update_activity(town.workspace, town.seat(), activity.pk, town.plan(name="改名"))
    activity.refresh_from_db()
    assert activity.name == "周三晚干货分享会"


def test_the_last_lessons_of_a_type_carry_to_the_next_plan(town):
    old = town.create(name="第一期", starts_at=START - dt.timedelta(days=20), ends_at=END - dt.timedelta(days=20))
    older = town.create(name="第零期", starts_at=START - dt.timedelta(days=40), ends_at=END - dt.timedelta(days=40))
    for activity, lessons in ((old, ["提前一天预告", "准备答疑清单"]), (older, ["过时的经验"])):
        services.move(town.workspace, town.seat(), activity.pk, ActivityStatus.RUNNING)
        services.move(town.workspace, town.seat(), activity.pk, ActivityStatus.DONE)
        services.save_review(town.workspace, town.seat(), activity.pk, worked="", did_not_work="", lessons=lessons)
    carried = services.last_lessons(town.workspace, "knowledge")
    assert carried is not None and carried.activity.pk == old.pk and carried.lessons == ["提前一天预告", "准备答疑清单"]
    assert services.last_lessons(town.workspace, "lottery") is None


def test_another_brand_sees_no_activity(town, brand_b):
    from tests.conftest import seat
    activity = town.create()
    theirs = seat(brand_b.members["admin"], brand_b.workspace)
    assert not services.list_activities(brand_b.workspace, theirs).exists()
    with pytest.raises(Activity.DoesNotExist):
        services.get_activity(brand_b.workspace, theirs, activity.pk)


def test_text_a_database_cannot_hold_is_refused_with_the_reason(town):
    with pytest.raises(ValidationError) as caught:
        town.create(run_sheet=[services.ItemInput("0", "开场\x00")])
    assert caught.value.message_dict["__all__"]
    assert not Activity.unscoped.exists()


def test_an_event_sop_is_made_from_the_run_sheets_messages(town):
    from siyu.sop.models import SopStep, StepChannel
    segment = Segment.objects.create(workspace=town.workspace, name="护肤人群")
    without = town.create()
    with pytest.raises(ValidationError) as caught:
        services.create_event_sop(town.workspace, town.seat(), without.pk)
    assert len(caught.value.messages) == 2  # no segment, no message
    activity = town.create(segment_id=segment.pk, run_sheet=[
        services.ItemInput("-1d", "预告", message="明晚8点干货分享，记得来！"), services.ItemInput("0", "开场"),
        services.ItemInput("+1h30m", "发资料包", message="资料包在这里")])
    with pytest.raises(PermissionDenied):  # customer ops edit the community column, not the sop one
        services.create_event_sop(town.workspace, town.seat("customer_ops"), activity.pk)
    sop = services.create_event_sop(town.workspace, town.seat("planner"), activity.pk)
    assert (sop.kind, sop.status, sop.event_at, sop.segment_id) == (SopKind.EVENT, SopStatus.DRAFT, START, segment.pk)
    steps = list(SopStep.unscoped.filter(version_id=sop.current_version_id).order_by("order"))
    # START is 20:00 in Beijing: the eve's 20:00 and the day's 21:30.
    assert [(s.days, s.at_time, s.channel, s.text) for s in steps] == [
        (-1, dt.time(20, 0), StepChannel.MASS, "明晚8点干货分享，记得来！"),
        (0, dt.time(21, 30), StepChannel.MASS, "资料包在这里")]
    assert Activity.unscoped.get(pk=activity.pk).sop_id == sop.pk
    with pytest.raises(ValidationError):
        services.create_event_sop(town.workspace, town.seat("planner"), activity.pk)
