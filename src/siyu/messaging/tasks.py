"""群发 background work, every minute, one task per brand with open work: send messages whose time
has come, follow the ones waiting for staff, and send due notices to staff (应用消息)."""

from __future__ import annotations

from django.utils import timezone
from django_tasks import task

from siyu.core.fanout import brands_of, for_each_brand, open_brand
from siyu.core.schedule import register_job
from siyu.core.tenancy import workspace_context
from siyu.messaging.models import (
    BatchStatus,
    MassBatch,
    MassMessage,
    MassStatus,
    NoticeStatus,
    StaffNotice,
)
from siyu.messaging.services import notices, sending


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
        return {"sent": sending.send_due(workspace), "checked": sending.track(workspace),
                "notices": notices.send_due_notices(workspace)}


@task()
def send_notices(workspace_id: int) -> int:
    workspace = open_brand(workspace_id)
    if workspace is None:
        return 0
    with workspace_context(workspace):
        return notices.send_due_notices(workspace)


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
    queued = StaffNotice.unscoped.filter(status=NoticeStatus.QUEUED, due_at__lte=timezone.now())
    brands |= set(brands_of(queued).values_list("workspace_id", flat=True))
    return for_each_brand(tick_brand, brands)


register_job("messaging.tick", "* * * * *", tick)
