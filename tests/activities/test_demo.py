"""The demo's activities: a reviewed past challenge, a running session and a planned challenge
that carries the past one's lessons; on the brand's groups, once."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from siyu.activities import demo, services
from siyu.activities.models import Activity, ActivityStatus
from siyu.community.models import CustomerGroup, GroupType


def test_the_demo_plans_three_activities_once(town):
    for key, type_ in (("vip", GroupType.VIP), ("knowledge", GroupType.KNOWLEDGE)):
        assert town.groups[key].type == type_
    town.member("vip", 0, timezone.now() - dt.timedelta(days=20))
    demo.seed(town.workspace)
    demo.seed(town.workspace)
    rows = {a.name: a for a in Activity.unscoped.filter(workspace=town.workspace)}
    assert len(rows) == 3
    past, running, planned = rows[demo.PAST], rows[demo.RUNNING], rows[demo.PLANNED]
    assert (past.status, running.status, planned.status) == (ActivityStatus.DONE, ActivityStatus.RUNNING,
                                                            ActivityStatus.PLANNED)
    assert services.numbers_of(town.workspace, past).joins == 1
    carried = services.last_lessons(town.workspace, planned.type, exclude_id=planned.pk)
    assert carried is not None and carried.activity.pk == past.pk and len(carried.lessons) == 3


def test_without_groups_the_demo_waits(brand_a):
    CustomerGroup.objects.for_workspace(brand_a.workspace).delete()
    demo.seed(brand_a.workspace)
    assert not Activity.unscoped.filter(workspace=brand_a.workspace).exists()


def test_on_the_demo_groups_the_past_challenge_has_real_numbers(club):
    from siyu.community import demo as community_demo
    community_demo.seed(club.workspace)
    demo.seed(club.workspace)
    past = Activity.unscoped.get(workspace=club.workspace, name=demo.PAST)
    numbers = services.numbers_of(club.workspace, past)
    assert numbers.groups == 3 and numbers.joins > 50  # the VIP and flash groups grew through its window
    running = Activity.unscoped.get(workspace=club.workspace, name=demo.RUNNING)
    assert services.numbers_of(club.workspace, running).groups == 1  # the knowledge group, by type
