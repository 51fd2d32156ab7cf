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
