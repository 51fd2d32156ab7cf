"""群发 background work: send messages whose time has come and follow the ones waiting for staff,
every minute, one task per brand with open messages."""

from __future__ import annotations

from django_tasks import task

from siyu.core.fanout import brands_of, for_each_brand, open_brand
from siyu.core.schedule import register_job
from siyu.core.tenancy import workspace_context
from siyu.messaging.models import BatchStatus, MassBatch, MassMessage, MassStatus
from siyu.messaging.services import sending


@task()
def send_now(workspace_id: int, message_id: int) -> str:
    workspace = open_brand(workspace_id)
    if workspace is None:
        return "gone"
    with workspace_context(workspace):
        return sending.send_message(workspace, message_id).status


@task()
def tick_brand(workspace_id: int) -> dict[str, int]:
    workspace = open_brand(workspace_id)
    if workspace is None:
        return {}
    with workspace_context(workspace):
        return {"sent": sending.send_due(workspace), "checked": sending.track(workspace)}


@task()
def seed_demo(workspace_id: int, attempt: int) -> None:
    from siyu.messaging import demo

    workspace = open_brand(workspace_id)
    if workspace is not None:
        with workspace_context(workspace):
            demo.seed(workspace, attempt)


@task()
def tick() -> int:
    open_messages = MassMessage.unscoped.filter(status__in=(MassStatus.SCHEDULED, MassStatus.SENDING))
    open_batches = MassBatch.unscoped.filter(status__in=(BatchStatus.PENDING, BatchStatus.CREATING))
    brands = set(brands_of(open_messages).values_list("workspace_id", flat=True))
    brands |= set(brands_of(open_batches).values_list("workspace_id", flat=True))
    return for_each_brand(tick_brand, brands)


register_job("messaging.tick", "* * * * *", tick)
