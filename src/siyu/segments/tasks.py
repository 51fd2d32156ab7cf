"""Background entry points of segments (人群): the nightly recompute of every dynamic segment,
which also moves time-relative conditions ("added within the last 7 days") on."""

from __future__ import annotations

import logging

from django_tasks import task

from siyu.core.models import Workspace
from siyu.core.schedule import register_job
from siyu.core.tenancy import workspace_context
from siyu.segments.models import Segment, SegmentKind
from siyu.segments.services.membership import recompute_all

logger = logging.getLogger("siyu.segments")


@task()
def recompute_segments() -> dict[str, int]:
    """Nightly: recompute every brand's dynamic segments. One brand's failure does not stop the others."""
    totals = {"segments": 0, "failed": 0}
    ids = Segment.unscoped.filter(kind=SegmentKind.DYNAMIC).values_list("workspace_id", flat=True).distinct()
    for workspace in Workspace.objects.filter(pk__in=ids):
        with workspace_context(workspace):
            try:
                totals["segments"] += recompute_all(workspace)
            except Exception:
                logger.exception("recomputing the segments of %s failed", workspace.slug)
                totals["failed"] += 1
    return totals


register_job("segments.recompute", "30 3 * * *", recompute_segments)
