"""群规与治理 background work: the demo's seeding, retried until the community demo's groups exist."""

from __future__ import annotations

from django_tasks import task

from siyu.core.fanout import open_brand
from siyu.core.tenancy import workspace_context


@task()
def seed_demo(workspace_id: int, attempt: int) -> None:
    from siyu.moderation.demo import seed

    workspace = open_brand(workspace_id)
    if workspace is not None:
        with workspace_context(workspace):
            seed(workspace, attempt)
