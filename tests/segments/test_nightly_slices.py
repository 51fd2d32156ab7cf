"""The nightly segment recompute fans out one task per brand, and each brand's segments are
recomputed in slices that queue the next one: every segment once, none twice."""

from __future__ import annotations

from siyu.segments import services, tasks
from siyu.segments.models import Segment
from siyu.segments.services import SegmentInput
from tests.conftest import make_brand
from tests.segments.conftest import make_customer, make_shop
from tests.support.jobs import run_queued

PHONE = {"match": "and", "rules": [{"field": "has_phone", "op": "is", "value": True}]}


def test_each_brands_segments_are_recomputed_once_in_slices(db, monkeypatch):
    monkeypatch.setattr(tasks, "SEGMENTS_PER_TASK", 2)
    shops = [make_shop(make_brand(slug)) for slug in ("alpha", "beta")]
    made = {}
    for shop, count in zip(shops, (5, 1), strict=True):
        made[shop.workspace.pk] = [
            services.create_segment(shop.workspace, shop.seat("customer_ops"), SegmentInput(name=f"人群{i}", rule=PHONE))
            for i in range(count)
        ]
        make_customer(shop, "wmN", phone="13800000001")  # written directly: only a recompute sees it
    assert Segment.unscoped.filter(member_count=1).count() == 0

    assert tasks.recompute_segments.call() == 2  # one task per brand
    results = run_queued(tasks.recompute_segments_brand)
    # alpha: 2 + 2 + 1 over three slices; beta: 1 in one.
    assert sorted(r["segments"] for r in results) == [1, 1, 2, 2]
    assert sum(r["segments"] for r in results) == 6
    assert Segment.unscoped.filter(member_count=1).count() == 6
    assert tasks.recompute_segments.call() == 2  # the next night: again one task per brand
