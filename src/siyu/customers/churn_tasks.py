"""Background entry point of transfers (在职继承 / 离职继承): the status poll. Idempotent: a row
leaves "waiting" once (see `customers.services.transfers.poll_transfers`)."""

from __future__ import annotations

import logging

from django_tasks import task

from siyu.core.models import Workspace
from siyu.core.schedule import register_job
from siyu.core.tenancy import workspace_context
from siyu.customers.models import CustomerTransfer, TransferStatus
from siyu.customers.services.transfers import poll_transfers

logger = logging.getLogger("siyu.customers")


@task()
def poll_waiting_transfers() -> dict[str, int]:
    """Every ten minutes, per brand with waiting transfers: ask WeCom how they ended. One brand's
    failure does not stop the others."""
    from siyu.wecom.services import NotConnected

    totals = {"brands": 0, "checked": 0, "done": 0, "failed": 0, "errors": 0}
    ids = (CustomerTransfer.unscoped.filter(status=TransferStatus.WAITING)
           .values_list("workspace_id", flat=True).distinct().order_by())
    for workspace in Workspace.objects.filter(pk__in=list(ids)):
        with workspace_context(workspace):
            try:
                report = poll_transfers(workspace)
            except NotConnected:
                continue
            except Exception:
                logger.exception("polling the transfers of %s failed", workspace.slug)
                totals["errors"] += 1
                continue
        totals["brands"] += 1
        totals["checked"] += report.checked
        totals["done"] += report.done
        totals["failed"] += report.failed
        totals["errors"] += report.errors
    return totals


register_job("customers.poll_transfers", "*/10 * * * *", poll_waiting_transfers)
