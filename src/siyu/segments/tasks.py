"""Background entry points of segments (人群): the nightly recompute of every dynamic segment,
which also moves time-relative conditions ("added within the last 7 days") on."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django_tasks import task

from siyu.core.fanout import brands_of, for_each_brand, open_brand
from siyu.core.schedule import register_job
from siyu.core.tenancy import workspace_context
from siyu.segments.models import Segment, SegmentKind
from siyu.segments.services.membership import recompute

logger = logging.getLogger("siyu.segments")


# The nightly job enqueues one task per brand with dynamic segments (`core.fanout`); each task
# recomputes up to SEGMENTS_PER_TASK of the brand's segments (in id order) and queues the next
# slice, so a brand with hundreds of segments over a million customers never holds one worker
# for the whole night. Recomputing a segment twice leaves the same members.
SEGMENTS_PER_TASK = 10


@task()
def recompute_segments_brand(workspace_id: int, after_id: int = 0) -> dict[str, int]:
    """One slice of a brand's nightly recompute: its dynamic segments after `after_id`. A segment
    whose rule no longer applies is skipped (logged), as the console's "recompute all" does."""
    workspace = open_brand(workspace_id)
    if workspace is None:
        return {}
    done = skipped = 0
    with workspace_context(workspace):
        batch = list(Segment.objects.for_workspace(workspace).filter(kind=SegmentKind.DYNAMIC, pk__gt=after_id)
                     .order_by("pk")[:SEGMENTS_PER_TASK])
        for segment in batch:
            try:
                recompute(workspace, segment)
            except (KeyError, ValidationError):
                logger.warning("segment %s has a rule that no longer applies; not recomputed", segment.pk)
                skipped += 1
                continue
            done += 1
    next_after_id = batch[-1].pk if len(batch) == SEGMENTS_PER_TASK else 0
    if next_after_id:
        recompute_segments_brand.enqueue(workspace_id, next_after_id)
    return {"segments": done, "skipped": skipped, "next_after_id": next_after_id}


@task()
def recompute_segments() -> int:
    """Nightly: recompute every brand's dynamic segments, one task (chain) per brand."""
    return for_each_brand(recompute_segments_brand, brands_of(Segment.unscoped.filter(kind=SegmentKind.DYNAMIC)))


register_job("segments.recompute", "30 3 * * *", recompute_segments)
