"""Background entry points of the customers app: the full sync from WeCom (全量同步). Idempotent:
a page applied twice changes nothing, and a doubled run of the same sync stops at the first
page the other run saved."""

from __future__ import annotations

from django_tasks import task

from siyu.core.fanout import brands_of, for_each_brand, open_brand
from siyu.core.models import Workspace
from siyu.core.schedule import register_job
from siyu.core.services import OPERATOR
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
def resume_stale_syncs_brand(workspace_id: int) -> int:
    """Resume one brand's sync whose worker died (nothing saved for `STALE_AFTER`) from the page
    it stopped at; nothing when it was resumed meanwhile."""
    from django.core.exceptions import ValidationError

    from siyu.customers.models import CustomerSync, SyncStatus
    from siyu.customers.services.sync import is_stale, resume_sync

    workspace = open_brand(workspace_id)
    if workspace is None:
        return 0
    resumed = 0
    with workspace_context(workspace):
        for sync in CustomerSync.objects.for_workspace(workspace).filter(status=SyncStatus.RUNNING):
            if is_stale(sync):
                try:
                    resume_sync(workspace, OPERATOR, sync.pk)
                except ValidationError:
                    continue  # resumed (or finished) by someone else since it was read
                resumed += 1
    return resumed


@task()
def resume_stale_syncs() -> int:
    """Every ten minutes: one task per brand whose running sync is stale (a sync WeCom stopped
    with an error waits for an operator). One brand has one running sync: nothing to slice."""
    from django.utils import timezone

    from siyu.customers.models import CustomerSync, SyncStatus
    from siyu.customers.services.sync import STALE_AFTER

    stale = CustomerSync.unscoped.filter(status=SyncStatus.RUNNING, updated_at__lt=timezone.now() - STALE_AFTER)
    return for_each_brand(resume_stale_syncs_brand, brands_of(stale))


register_job("customers.resume_stale_syncs", "*/10 * * * *", resume_stale_syncs)
