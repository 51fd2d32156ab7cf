"""Background entry points of the staff accounts: the capacity-alert sweep. Idempotent: a
second run finds nothing left to announce or re-arm."""

from __future__ import annotations

import logging

from django_tasks import task

from siyu.accounts.models import StaffAccount
from siyu.accounts.services import recheck_alerts
from siyu.core.models import Workspace
from siyu.core.schedule import register_job
from siyu.core.tenancy import workspace_context

logger = logging.getLogger("siyu.accounts")


@task()
def recheck_capacity_alerts() -> dict[str, int]:
    """Every ten minutes, per brand with accounts: re-arm alerts of accounts whose fill fell
    well below their level and announce crossings the add path did not see (see
    `accounts.services.capacity`). One brand's failure does not stop the others."""
    totals = {"brands": 0, "alerts": 0, "failed": 0}
    ids = StaffAccount.unscoped.values_list("workspace_id", flat=True).distinct()
    for workspace in Workspace.objects.filter(pk__in=ids):
        with workspace_context(workspace):
            try:
                totals["alerts"] += len(recheck_alerts(workspace))
            except Exception:
                logger.exception("rechecking the capacity alerts of %s failed", workspace.slug)
                totals["failed"] += 1
                continue
        totals["brands"] += 1
    return totals


register_job("accounts.recheck_capacity_alerts", "*/10 * * * *", recheck_capacity_alerts)
