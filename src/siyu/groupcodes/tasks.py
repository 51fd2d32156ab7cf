"""群活码 jobs: every 10 minutes, per brand with group codes, codes past their expiry date are
retired and every live code is rotated once (the safety net for a callback that never came).
One task per brand; both steps are idempotent."""

from __future__ import annotations

from django_tasks import task

from siyu.core.fanout import brands_of, for_each_brand, open_brand
from siyu.core.schedule import register_job
from siyu.core.tenancy import workspace_context
from siyu.groupcodes.models import GroupCode


@task()
def sweep_brand(workspace_id: int) -> dict[str, int]:
    from siyu.groupcodes import services

    workspace = open_brand(workspace_id)
    if workspace is None:
        return {}
    with workspace_context(workspace):
        return {"expired": services.expire_due(workspace), "rotated": services.rotate_all(workspace)}


@task()
def sweep() -> int:
    return for_each_brand(sweep_brand, brands_of(GroupCode.unscoped.exclude(status="expired")))



@task()
def seed_demo(workspace_id: int, attempt: int) -> None:
    from siyu.groupcodes import demo

    workspace = open_brand(workspace_id)
    if workspace is not None:
        with workspace_context(workspace):
            demo.seed(workspace, attempt)


register_job("groupcodes.sweep", "*/10 * * * *", sweep)
