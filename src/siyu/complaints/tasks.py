"""客诉 background work: every five minutes, complaints whose tasks were done in the task centre
move on (acknowledged, resolved), one task per brand that has complaints still being worked.
Escalation of a breached hidden line is the task centre's own job (`sop.escalate`)."""

from __future__ import annotations

from django_tasks import task

from siyu.complaints.models import Complaint, Status
from siyu.complaints.services import sync_from_tasks
from siyu.core.fanout import brands_of, for_each_brand, open_brand
from siyu.core.schedule import register_job
from siyu.core.tenancy import workspace_context


@task()
def sync_brand(workspace_id: int) -> int:
    workspace = open_brand(workspace_id)
    if workspace is None:
        return 0
    with workspace_context(workspace):
        return sync_from_tasks(workspace)


@task()
def sync_due() -> int:
    working = Complaint.unscoped.filter(status__in=(Status.OPEN, Status.ACKNOWLEDGED))
    return for_each_brand(sync_brand, brands_of(working))


register_job("complaints.sync", "*/5 * * * *", sync_due)


@task()
def seed_demo(workspace_id: int, attempt: int) -> None:
    from siyu.complaints.demo import seed

    workspace = open_brand(workspace_id)
    if workspace is not None:
        with workspace_context(workspace):
            seed(workspace, attempt)
