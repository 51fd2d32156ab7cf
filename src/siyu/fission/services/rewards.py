"""Rewards (奖励): a tier is claimed exactly once per participant (a unique constraint), its stock
taken by a conditional UPDATE (`stock = stock - 1 WHERE stock > 0`, never oversold), and held
for review when fraud signals fire (a burst, a share of zombie invitees). Fulfilment gives an
exchange code from the tier's code pool (channels' welfare codes, 换码宝) or points (the points
ledger). Review decisions are audited."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from siyu.channels.services.welfare import try_issue_welfare
from siyu.core.auditing import audit_change, change, fact
from siyu.core.models import AuditAction, Workspace
from siyu.core.permissions import Seat
from siyu.customers.services import add_timeline
from siyu.fission.models import (
    ClaimStatus,
    Fulfilment,
    Invite,
    InviteStatus,
    Participant,
    RewardClaim,
    RewardTier,
)
from siyu.fission.services import guards
from siyu.fission.services.common import MODULE, require_approve
from siyu.fission.timeline import FissionTimeline
from siyu.points.models import Source
from siyu.points.services import grant

SUBJECT = gettext_lazy("fission reward")


def fraud_signals(participant: Participant) -> list[str]:
    """Why this participant's rewards should be looked at by a person first."""
    signals = []
    if participant.burst:
        signals.append(guards.BURST)
    counted = list(Invite.unscoped.filter(participant=participant, status=InviteStatus.COUNTED)
                   .values_list("signals", flat=True))
    zombies = sum(1 for s in counted if guards.is_zombie(s))
    if counted and zombies * 100 >= participant.campaign.zombie_percent * len(counted):
        signals.append(guards.ZOMBIES)
    return signals


def claim(workspace: Workspace, participant: Participant, tier: RewardTier,
          now: dt.datetime | None = None) -> tuple[RewardClaim, bool]:
    """The participant's claim at this tier: the existing one, or a new one that took one of the
    stock (out of stock otherwise), held for review or fulfilled at once. Safe under any number
    of concurrent calls: one claim per participant and tier, stock never below zero."""
    now = now or timezone.now()
    signals = fraud_signals(participant)
    try:
        with transaction.atomic():
            reward = RewardClaim.objects.for_workspace(workspace).create(workspace=workspace, participant=participant, tier=tier,
                                                status=ClaimStatus.HELD if signals else ClaimStatus.UNFULFILLED,
                                                signals=signals, claimed_at=now)
            if not RewardTier.unscoped.filter(pk=tier.pk, stock__gt=0).update(stock=F("stock") - 1):
                RewardClaim.unscoped.filter(pk=reward.pk).update(status=ClaimStatus.OUT_OF_STOCK)
                reward.status = ClaimStatus.OUT_OF_STOCK
    except IntegrityError:
        return RewardClaim.objects.for_workspace(workspace).get(participant=participant, tier=tier), False
    if reward.status == ClaimStatus.UNFULFILLED:
        fulfil(workspace, reward, now)
    return reward, True


def claim_reached(workspace: Workspace, participant_id: int, now: dt.datetime, invite_id: int | None = None) -> list[
        RewardClaim]:
    """Claims for every tier the participant has reached (count >= threshold, so a count that
    skips past a tier still reaches it) and not claimed yet; the new claims."""
    participant = Participant.objects.for_workspace(workspace).select_related("campaign", "customer").get(pk=participant_id)
    reached = RewardTier.objects.for_workspace(workspace).filter(campaign_id=participant.campaign_id, threshold__lte=participant.counted).exclude(
        claims__participant=participant).order_by("threshold")
    made = []
    for tier in reached:
        reward, new = claim(workspace, participant, tier, now)
        if new:
            made.append(reward)
    from siyu.fission.services.notify import notify_progress

    notify_progress(workspace, participant.pk, invite_id=invite_id, tiers=[c.tier_id for c in made])
    return made


def fulfil(workspace: Workspace, reward: RewardClaim, now: dt.datetime | None = None) -> RewardClaim:
    """Give the reward: an exchange code from the tier's pool, or points. Once: the points grant
    is keyed by the claim, and a customer holds one code per pool. A pool that ran dry leaves
    the claim unfulfilled, with the reason, for staff to refill and retry."""
    now = now or timezone.now()
    tier = RewardTier.objects.for_workspace(workspace).select_related("welfare").get(pk=reward.tier_id)
    participant = Participant.objects.for_workspace(workspace).select_related("customer").get(pk=reward.participant_id)
    code, note = "", ""
    if tier.fulfilment == Fulfilment.POINTS:
        grant(workspace, participant.customer, tier.points, Source.INVITATION, f"fission:{reward.pk}",
              reason=tier.name, now=now)
    elif tier.welfare is not None:
        outcome = try_issue_welfare(workspace, tier.welfare, participant.customer, None, None, now)
        if outcome.grant is None:
            note = outcome.reason
        else:
            code = outcome.grant.code.code if outcome.grant.code else ""
    else:
        note = _("The tier has no code pool.")
    if note:
        RewardClaim.unscoped.filter(pk=reward.pk, status=ClaimStatus.UNFULFILLED).update(note=note[:200])
    elif RewardClaim.unscoped.filter(pk=reward.pk, status=ClaimStatus.UNFULFILLED).update(
            status=ClaimStatus.ISSUED, code=code, note=""):
        add_timeline(workspace, participant.customer, FissionTimeline.REWARD_ISSUED, now, detail=tier.name,
                     dedupe_key=f"fission.reward:{reward.pk}")
    reward.refresh_from_db()
    return reward


def decide(workspace: Workspace, membership: Seat | None, claim_id: int, *, approve: bool, note: str = "",
           now: dt.datetime | None = None) -> RewardClaim:
    """A reviewer approves a held reward (it is fulfilled) or rejects it (its stock goes back).
    Once: a claim no longer held is refused. Audited with the signals that held it."""
    require_approve(membership)
    now = now or timezone.now()
    reward = RewardClaim.objects.for_workspace(workspace).select_related("tier", "participant__customer").get(pk=claim_id)
    user = getattr(membership, "user", None)
    with transaction.atomic():
        after = ClaimStatus.UNFULFILLED if approve else ClaimStatus.REJECTED
        if not RewardClaim.unscoped.filter(pk=reward.pk, status=ClaimStatus.HELD).update(
                status=after, note=note[:200], decided_at=now, decided_by=user):
            raise ValidationError(_("This reward was already decided."))
        if not approve:
            RewardTier.unscoped.filter(pk=reward.tier_id).update(stock=F("stock") + 1)
        audit_change(workspace, membership, AuditAction.UPDATED, module=MODULE, subject=SUBJECT,
                     name=f"{reward.tier.name} · {reward.participant.customer.name or reward.participant.customer.external_userid}",
                     changes=[change(gettext_lazy("status"), ClaimStatus.HELD.label, ClaimStatus(after).label)],
                     facts=[fact(gettext_lazy("signals"), ", ".join(reward.signals)),
                            *([fact(gettext_lazy("note"), note)] if note else [])],
                     data={"claim_id": reward.pk})
    if approve:
        transaction.on_commit(lambda: fulfil(workspace, reward, now), robust=True)
    reward.refresh_from_db()
    return reward


def retry_unfulfilled(workspace: Workspace, membership: Seat | None, claim_id: int) -> RewardClaim:
    """After the code pool was refilled: fulfil an approved claim that could not be."""
    require_approve(membership)
    reward = RewardClaim.objects.for_workspace(workspace).get(pk=claim_id, status=ClaimStatus.UNFULFILLED)
    return fulfil(workspace, reward)


def review_queue(workspace: Workspace, membership: Seat | None) -> list[RewardClaim]:
    from siyu.fission.services.common import require_view

    require_view(membership)
    return list(RewardClaim.objects.for_workspace(workspace).filter(
        status__in=(ClaimStatus.HELD, ClaimStatus.UNFULFILLED)).select_related(
        "tier__campaign", "participant__customer").order_by("claimed_at", "pk")[:200])
