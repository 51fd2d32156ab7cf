"""The demo brand's check-in plan and reward are seeded once."""

from __future__ import annotations

import pytest

from siyu.points.demo import seed
from siyu.points.models import CheckinPlan, Reward

pytestmark = pytest.mark.django_db


def test_seeding_twice_creates_nothing_more(brand_a):
    seed(brand_a.workspace)
    seed(brand_a.workspace)
    assert CheckinPlan.objects.for_workspace(brand_a.workspace).count() == 1
    assert Reward.objects.for_workspace(brand_a.workspace).count() == 1


def test_group_members_check_in_over_two_weeks_once_and_the_ledger_reconciles(brand_a):
    from django.utils import timezone

    from siyu.community.models import CustomerGroup, GroupMember, MemberKind
    from siyu.points import demo, services
    from siyu.points.models import Checkin, PointsEntry
    from tests.points.conftest import make_customer

    ws = brand_a.workspace
    seed(ws)
    group = CustomerGroup.objects.create(workspace=ws, chat_id="wrDEMO", name="福利群1")
    for n in range(demo.FANS + 5):
        customer = make_customer(ws, n)
        GroupMember.objects.create(workspace=ws, group=group, userid=customer.external_userid,
                                   kind=MemberKind.CUSTOMER, customer=customer, join_time=timezone.now())
    demo.seed_checkins(ws)
    checkins = Checkin.objects.for_workspace(ws)
    fans = set(checkins.values_list("customer_id", flat=True))
    assert len(fans) == demo.FANS and demo.FANS < checkins.count() <= demo.FANS * (demo.DAYS + 1)
    assert checkins.filter(streak__gte=3).exists()  # keen fans keep streaks
    entries = PointsEntry.objects.for_workspace(ws).count()
    demo.seed_checkins(ws)
    assert PointsEntry.objects.for_workspace(ws).count() == entries
    assert services.reconcile(ws).ok
