"""社群活动 background work: the demo seed's retry (the demo's groups arrive after the twin)."""

from __future__ import annotations

from django_tasks import task

from siyu.core.fanout import open_brand
from siyu.core.tenancy import workspace_context


@task()
def seed_demo(workspace_id: int, attempt: int) -> None:
    from siyu.activities import demo  # demo imports services, which name this module by path only

    workspace = open_brand(workspace_id)
    if workspace is not None:
        with workspace_context(workspace):
            demo.seed(workspace, attempt)
