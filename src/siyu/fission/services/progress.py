"""What the fan page shows: the participant's progress, the next tier, and the leaderboard."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q

from siyu.core.models import Workspace
from siyu.fission.models import Campaign, Invite, InviteStatus, Participant, RewardClaim, RewardTier

LEADERBOARD_ROWS = 10


@dataclass(frozen=True)
class Rank:
    place: int
    name: str
    counted: int
    me: bool


@dataclass(frozen=True)
class Progress:
    participant: Participant
    counted: int
    pending: int
    tiers: list[RewardTier]
    next_tier: RewardTier | None
    to_go: int
    claims: list[RewardClaim]
    leaderboard: list[Rank]


def masked(name: str) -> str:
    """A nickname as others see it on the leaderboard: first character, then stars."""
    name = name.strip()
    if len(name) <= 1:
        return (name or "*") + "*"
    return name[0] + "*" * min(len(name) - 1, 3)


def leaderboard(campaign: Campaign, me: Participant | None = None, rows: int = LEADERBOARD_ROWS) -> list[Rank]:
    top = list(Participant.unscoped.filter(campaign=campaign, counted__gt=0).select_related("customer")
               .order_by("-counted", "joined_at", "pk")[:rows])
    return [Rank(n, p.customer.name if me and p.pk == me.pk else masked(p.customer.name), p.counted,
                 bool(me and p.pk == me.pk)) for n, p in enumerate(top, start=1)]


def progress_of(workspace: Workspace, participant: Participant) -> Progress:
    participant = Participant.objects.for_workspace(workspace).select_related("campaign", "customer").get(pk=participant.pk)
    counts = Invite.objects.for_workspace(workspace).filter(participant=participant).aggregate(
        pending=Count("pk", filter=Q(status__in=(InviteStatus.PENDING, InviteStatus.HELD))))
    tiers = list(RewardTier.objects.for_workspace(workspace).filter(campaign_id=participant.campaign_id).order_by("threshold"))
    upcoming = next((t for t in tiers if t.threshold > participant.counted), None)
    return Progress(participant, participant.counted, counts["pending"] or 0, tiers, upcoming,
                    upcoming.threshold - participant.counted if upcoming else 0,
                    list(RewardClaim.objects.for_workspace(workspace).filter(participant=participant)
                         .select_related("tier").order_by("tier__threshold")),
                    leaderboard(participant.campaign, participant))
