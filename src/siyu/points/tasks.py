"""积分 jobs: each night, expire what is left of lots past their date (idempotent per lot)."""

from __future__ import annotations

from django_tasks import task

from siyu.core.fanout import brands_of, for_each_brand, open_brand
from siyu.core.schedule import register_job
from siyu.core.tenancy import workspace_context
from siyu.points.models import PointsEntry
from siyu.points.services import expire_due


@task()
def expire_brand(workspace_id: int) -> dict[str, int]:
    """One brand's expiry run: one expiry entry per lot, so a second run changes nothing."""
    workspace = open_brand(workspace_id)
    if workspace is None:
        return {}
    with workspace_context(workspace):
        return {"expired": expire_due(workspace)}


@task()
def expire_nightly() -> int:
    """Just after midnight in Shanghai: every brand with open lots that can expire."""
    return for_each_brand(expire_brand, brands_of(PointsEntry.unscoped.filter(remaining__gt=0,
                                                                             expires_at__isnull=False)))


register_job("points.expire_nightly", "5 0 * * *", expire_nightly)
