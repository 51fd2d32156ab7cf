"""Background entry points of the staff accounts: the capacity-alert sweep. Idempotent: a
second run finds nothing left to announce or re-arm."""

from __future__ import annotations

import logging

from django_tasks import task

from siyu.accounts.models import StaffAccount
from siyu.accounts.services import recheck_alerts
from siyu.core.fanout import brands_of, for_each_brand, open_brand
from siyu.core.schedule import register_job
from siyu.core.tenancy import workspace_context

logger = logging.getLogger("siyu.accounts")


@task()
def recheck_capacity_alerts_brand(workspace_id: int) -> dict[str, int]:
    """Re-arm the alerts of one brand's accounts whose fill fell well below their level and
    announce crossings the add path did not see (see `accounts.services.capacity`). One task
    per brand, not sliced: two UPDATEs and one query of the crossings, whatever the brand's size."""
    workspace = open_brand(workspace_id)
    if workspace is None:
        return {}
    with workspace_context(workspace):
        return {"alerts": len(recheck_alerts(workspace))}


@task()
def recheck_capacity_alerts() -> int:
    """Every ten minutes: recheck the alerts of every brand with accounts, one task per brand."""
    return for_each_brand(recheck_capacity_alerts_brand, brands_of(StaffAccount.unscoped.all()))


register_job("accounts.recheck_capacity_alerts", "*/10 * * * *", recheck_capacity_alerts)
