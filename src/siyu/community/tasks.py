"""社群 background work: the full group sync, and every hour each brand's group health
(daily rows, lifecycle stages, split advice). One task per brand; every task is idempotent."""

from __future__ import annotations

from django_tasks import task

from siyu.community.models import CustomerGroup
from siyu.core.fanout import brands_of, for_each_brand, open_brand
from siyu.core.schedule import register_job
from siyu.core.tenancy import workspace_context


@task()
def run_group_sync(workspace_id: int, sync_id: int) -> dict[str, object]:
    from siyu.community.services import run_sync

    workspace = open_brand(workspace_id)
    if workspace is None:
        return {}
    with workspace_context(workspace):
        sync = run_sync(workspace, sync_id)
    return {"status": sync.status, "pages": sync.pages, "groups": sync.groups_seen, "error": sync.error}


@task()
def health_brand(workspace_id: int) -> dict[str, int]:
    from siyu.community.services import refresh_health

    workspace = open_brand(workspace_id)
    if workspace is None:
        return {}
    with workspace_context(workspace):
        return refresh_health(workspace)


@task()
def health() -> int:
    return for_each_brand(health_brand, brands_of(CustomerGroup.unscoped.filter(dismissed_at__isnull=True)))


@task()
def seed_demo(workspace_id: int, attempt: int) -> None:
    from siyu.community import demo

    workspace = open_brand(workspace_id)
    if workspace is not None:
        with workspace_context(workspace):
            demo.seed(workspace, attempt)


register_job("community.health", "17 * * * *", health)
