"""The demo brand's 客诉: three complaints from members of the community demo's groups at
different stages: one open (both lines' tasks waiting), one acknowledged in the group (the
hidden line still following up), one resolved. Waits (through the worker) for the groups."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from siyu.community.models import GroupMember, MemberKind
from siyu.complaints import services
from siyu.complaints.models import Channel, Complaint
from siyu.core.models import Workspace
from siyu.core.queue import enqueue
from siyu.core.services import OPERATOR

RETRY_AFTER = dt.timedelta(minutes=2)
ATTEMPTS = 30
# (text, minutes ago, acknowledged after minutes, resolved after hours)
DEMO: tuple[tuple[str, int, int | None, float | None], ...] = (
    ("双十二买的面霜到现在还没发货，群里说好的48小时呢？", 12, None, None),
    ("收到的精华瓶口漏了，盒子都湿了。", 150, 6, None),
    ("优惠券领了用不了，下单一直提示不满足条件。", 60 * 26, 4, 3.5),
)


def seed(workspace: Workspace, attempt: int = 0) -> None:
    if Complaint.objects.for_workspace(workspace).filter(text__in=[d[0] for d in DEMO]).exists():
        return
    members = list(GroupMember.objects.for_workspace(workspace).filter(
        kind=MemberKind.CUSTOMER, left_at__isnull=True, customer__isnull=False, group__dismissed_at__isnull=True)
        .order_by("group_id", "join_time")[:60])
    by_group: dict[int, GroupMember] = {}
    for m in members:
        by_group.setdefault(m.group_id, m)
    picks = list(by_group.values())
    if not picks:
        if attempt < ATTEMPTS:
            enqueue("siyu.complaints.tasks.seed_demo", workspace.pk, attempt + 1, run_after=timezone.now() + RETRY_AFTER)
        return
    now = timezone.now()
    for n, (text, ago, ack, resolved) in enumerate(DEMO):
        m = picks[n % len(picks)]
        opened = now - dt.timedelta(minutes=ago)
        c = services.open_complaint(workspace, OPERATOR, services.ComplaintInput(text, m.customer_id, m.group_id,
                                                                                 Channel.GROUP), now=opened)
        if ack is not None:
            services.acknowledge(workspace, OPERATOR, c.pk, now=opened + dt.timedelta(minutes=ack))
        if resolved is not None:
            services.resolve(workspace, OPERATOR, c.pk, "已补发新券并致歉", now=opened + dt.timedelta(hours=resolved))
