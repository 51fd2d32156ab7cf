"""The demo's moderation: a member removed in the twin is blacklisted and flagged on rejoining,
with the owner's task; seeding again changes nothing."""

from __future__ import annotations

from siyu.moderation import demo
from siyu.moderation.models import BlacklistEntry, BlacklistHit, RuleSet
from siyu.sop.models import StaffTask
from tests.moderation.conftest import made_group


def test_the_demo_seeds_a_blacklisted_rejoin_with_its_task_once(club):
    made_group(club, demo.FROM_GROUP, ["wm0000", "wm0001"])
    made_group(club, demo.TO_GROUP, ["wm0002"], owner="staff1")
    demo.seed(club.workspace)
    demo.seed(club.workspace)
    entry = BlacklistEntry.objects.for_workspace(club.workspace).get()
    hit = BlacklistHit.objects.for_workspace(club.workspace).get()
    assert hit.entry == entry and hit.group.name == demo.TO_GROUP
    assert StaffTask.objects.for_workspace(club.workspace).get(pk=hit.task_id).assignee == club.accounts[1]
    assert RuleSet.objects.for_workspace(club.workspace).count() == 1
