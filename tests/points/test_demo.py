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
