"""The demo's complaints: three at different stages, seeded once."""

from __future__ import annotations

from siyu.complaints import demo
from siyu.complaints.models import Complaint, Status


def test_the_demo_seeds_complaints_at_different_stages_once(shop):
    demo.seed(shop.workspace)
    demo.seed(shop.workspace)
    statuses = sorted(Complaint.objects.for_workspace(shop.workspace).values_list("status", flat=True))
    assert statuses == sorted([Status.OPEN, Status.ACKNOWLEDGED, Status.RESOLVED])
