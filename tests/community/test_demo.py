"""The demo brand's groups: made in the twin, synced, and shown at every lifecycle stage."""

from __future__ import annotations

from siyu.community import demo
from siyu.community.models import CustomerGroup, GroupDaily, Stage
from siyu.sop.models import StaffTask


def test_the_demo_shows_a_group_at_every_stage_once(club):
    demo.seed(club.workspace)
    stages = dict(CustomerGroup.objects.for_workspace(club.workspace).values_list("name", "stage"))
    assert stages == {"新品尝鲜福利群": Stage.LAUNCH, "护肤知识学习群": Stage.GROWTH, "会员VIP专属群": Stage.FISSION,
                      "双十二快闪群": Stage.SPLIT, "老客售后群": Stage.DECLINE}
    big = CustomerGroup.objects.for_workspace(club.workspace).get(name="双十二快闪群")
    assert GroupDaily.objects.for_workspace(club.workspace).filter(group=big).count() > 20
    assert StaffTask.objects.for_workspace(club.workspace).filter(source="community").count() == 1
    demo.seed(club.workspace)  # every start: nothing more
    assert CustomerGroup.objects.for_workspace(club.workspace).count() == 5


def test_the_demo_s_welfare_groups_run_a_weekly_rhythm_once(club):
    import datetime as dt
    from zoneinfo import ZoneInfo

    from siyu.sop.models import Enrolment, RunState, Sop, SopKind, SopStatus, StepRun

    demo.seed(club.workspace)
    tuesday = dt.datetime(2026, 11, 3, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    weekly = demo.seed_weekly_sop(club.workspace, now=tuesday)
    demo.seed_weekly_sop(club.workspace, now=tuesday)  # every start: nothing more
    assert Sop.objects.for_workspace(club.workspace).filter(kind=SopKind.GROUP).count() == 1
    assert weekly is not None and weekly.status == SopStatus.ACTIVE
    welfare = CustomerGroup.objects.for_workspace(club.workspace).get(name="新品尝鲜福利群")
    assert list(Enrolment.objects.for_workspace(club.workspace).filter(sop=weekly).values_list("group_id", flat=True)) == [
        welfare.pk]
    # Monday's topic has gone by: Wednesday's check-in and Friday's welfare are still to come.
    due = StepRun.objects.for_workspace(club.workspace).filter(sop=weekly, state=RunState.DUE)
    assert sorted(due.values_list("step__order", flat=True)) == [2, 3]
