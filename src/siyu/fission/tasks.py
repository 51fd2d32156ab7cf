"""任务宝 jobs, every minute per brand with fission work: end campaigns past their time, let held
invites through at the velocity limit's pace, settle invites whose hold is over (count or
revoke, then rewards and messages), and recycle ended campaigns' codes at WeCom. Each step is
idempotent (conditional UPDATEs), so a repeated or overlapping run changes nothing twice."""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone
from django_tasks import task

from siyu.core.fanout import brands_of, for_each_brand, open_brand
from siyu.core.schedule import register_job
from siyu.core.tenancy import workspace_context
from siyu.fission.models import Campaign, CampaignStatus, Invite, InviteStatus, Participant
from siyu.fission.services import end_due, recycle_codes, release_held, settle_due


@task()
def settle_brand(workspace_id: int) -> dict[str, int]:
    workspace = open_brand(workspace_id)
    if workspace is None:
        return {}
    now = timezone.now()
    with workspace_context(workspace):
        ended = end_due(workspace, now)
        released = release_held(workspace, now)
        settled = settle_due(workspace, now)
        recycled = recycle_codes(workspace, now)
    return {"ended": ended, "released": released, "counted": len(settled.counted), "revoked": settled.revoked,
            "recycled": recycled}


@task()
def settle() -> int:
    """The brands with something to do now: held invites, holds that are over, campaigns past
    their end, ended campaigns' codes not yet recycled."""
    now = timezone.now()
    brands: set[int] = set()
    for rows in (Invite.unscoped.filter(Q(status=InviteStatus.HELD) | Q(status=InviteStatus.PENDING,
                                                                        hold_until__lte=now)),
                 Campaign.unscoped.filter(status=CampaignStatus.LIVE, ends_at__lte=now),
                 Participant.unscoped.filter(campaign__status=CampaignStatus.ENDED, code_recycled_at__isnull=True)
                 .exclude(config_id="")):
        brands.update(brands_of(rows).values_list("workspace_id", flat=True))
    return for_each_brand(settle_brand, sorted(brands))


register_job("fission.settle", "* * * * *", settle)
