"""Background entry point of transfers (在职继承 / 离职继承): the status poll. Idempotent: a row
leaves "waiting" once (see `customers.services.transfers.poll_transfers`)."""

from __future__ import annotations

import logging

from django_tasks import task

from siyu.core.fanout import brands_of, for_each_brand, open_brand
from siyu.core.schedule import register_job
from siyu.core.tenancy import workspace_context
from siyu.customers.models import CustomerTransfer, TransferStatus
from siyu.customers.services.transfers import poll_transfers
from siyu.wecom.services import NotConnected

logger = logging.getLogger("siyu.customers")


@task()
def poll_waiting_transfers_brand(workspace_id: int) -> dict[str, int]:
    """Ask WeCom how one brand's waiting transfers ended. One task per brand, not sliced: the
    poll asks once per (handover, takeover) pair, and a brand has few pairs waiting at a time."""
    workspace = open_brand(workspace_id)
    if workspace is None:
        return {}
    with workspace_context(workspace):
        try:
            report = poll_transfers(workspace)
        except NotConnected:
            return {"checked": 0, "done": 0, "failed": 0, "errors": 0}
    return {"checked": report.checked, "done": report.done, "failed": report.failed, "errors": report.errors}


@task()
def poll_waiting_transfers() -> int:
    """Every ten minutes: one poll task per brand with waiting transfers."""
    return for_each_brand(poll_waiting_transfers_brand,
                          brands_of(CustomerTransfer.unscoped.filter(status=TransferStatus.WAITING)))


register_job("customers.poll_transfers", "*/10 * * * *", poll_waiting_transfers)
