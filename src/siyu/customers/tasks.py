"""Background entry points of the customers app: the full sync from WeCom (全量同步). Idempotent:
a page applied twice changes nothing, and a doubled run of the same sync stops at the first
page the other run saved."""

from __future__ import annotations

from django_tasks import task

from siyu.core.models import Workspace
from siyu.core.schedule import register_job
from siyu.core.tenancy import workspace_context


@task()
def run_customer_sync(workspace_id: int, sync_id: int) -> dict[str, object]:
    """Run one full customer sync to its end (or to the WeCom error that stops it)."""
    from siyu.customers.services.sync import run_sync

    workspace = Workspace.objects.get(pk=workspace_id)
    with workspace_context(workspace):
        sync = run_sync(workspace, sync_id)
    return {"status": sync.status, "pages": sync.pages, "customers": sync.customers_seen,
            "relations": sync.relations_seen, "error": sync.error}


@task()
def resume_stale_syncs() -> int:
    """Every ten minutes: a sync whose worker died (nothing saved for `STALE_AFTER`) is resumed
    from the page it stopped at. A sync WeCom stopped with an error waits for an operator."""
    from siyu.core.services import OPERATOR
    from siyu.customers.models import CustomerSync, SyncStatus
    from siyu.customers.services.sync import is_stale, resume_sync

    resumed = 0
    for sync in CustomerSync.unscoped.filter(status=SyncStatus.RUNNING).select_related("workspace"):
        if is_stale(sync):
            with workspace_context(sync.workspace):
                resume_sync(sync.workspace, OPERATOR, sync.pk)
            resumed += 1
    return resumed


register_job("customers.resume_stale_syncs", "*/10 * * * *", resume_stale_syncs)
