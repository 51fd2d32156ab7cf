"""Counting an invite (助力): an add through a participant's code becomes an `Invite`, once per
invitee and campaign whatever the replays. The guards decide whether it may count: the invitee
was never a friend of the brand's accounts, is not the inviter, is not blacklisted, and the
inviter stays within the velocity limit (a burst is held and let through at the limit's pace,
never dropped). It is pending during the hold and counted after it (`settle_due`); a deletion
inside the hold revokes it exactly once (`revoke_for_relation`, and `settle_due` re-checks)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from siyu.core.models import Workspace
from siyu.customers.models import Customer, FollowRelation
from siyu.customers.services import add_timeline, ensure_profile
from siyu.fission.models import Invite, InviteReason, InviteStatus, Participant
from siyu.fission.services import guards
from siyu.fission.services.campaigns import is_running
from siyu.fission.services.codes import participant_for_state
from siyu.fission.timeline import FissionTimeline

SETTLE_BATCH = 500
OPEN = (InviteStatus.PENDING, InviteStatus.HELD)


@dataclass(frozen=True)
class AddSeen:
    """One add as the customers app announced it (`customers.follow_started`)."""

    relation_id: int
    customer_id: int
    state: str
    at: dt.datetime
    reactivated: bool


def _was_friend_before(invitee: Customer, add: AddSeen) -> bool:
    """Ever a friend of any of the brand's accounts before this add: a re-add, an earlier first
    add on record, or another relation older than this one (deleted ones included)."""
    if add.reactivated:
        return True
    if invitee.first_added_at is not None and invitee.first_added_at < add.at:
        return True
    # WeCom's times are whole seconds: another account added in the same second was still first.
    return FollowRelation.unscoped.filter(customer=invitee, added_at__lte=add.at).exclude(pk=add.relation_id).exists()


def _paced(participant: Participant, at: dt.datetime) -> int:
    """How many of the inviter's invites entered the velocity window ending at `at`."""
    window = dt.timedelta(minutes=participant.campaign.velocity_minutes)
    return Invite.unscoped.filter(participant=participant, paced_at__gt=at - window, paced_at__lte=at,
                                  status__in=(InviteStatus.PENDING, InviteStatus.COUNTED)).count()


def record_add(workspace: Workspace, add: AddSeen) -> Invite | None:
    """The invite for an add through a participant's code, or None for an add through any other
    code. Idempotent: the invite exists once per (campaign, invitee); a replay returns it."""
    participant = participant_for_state(workspace, add.state)
    if participant is None:
        return None
    campaign = participant.campaign
    existing = Invite.objects.for_workspace(workspace).filter(campaign=campaign, invitee_id=add.customer_id).first()
    if existing is not None:
        return existing
    invitee = Customer.objects.for_workspace(workspace).get(pk=add.customer_id)
    # The unionid decides a self-invite from a second device; fetch it now if the customers app
    # has not yet (`ensure_profile` fetches once per customer).
    invitee = ensure_profile(workspace, invitee)
    hold = dt.timedelta(hours=campaign.hold_hours)
    values: dict[str, object] = {"status": InviteStatus.PENDING, "paced_at": add.at, "hold_until": add.at + hold}
    reason = ""
    if not is_running(campaign, add.at):
        reason = InviteReason.NOT_LIVE
    elif guards.same_person(participant.customer, invitee):
        reason = InviteReason.SELF
    elif campaign.new_customers_only and _was_friend_before(invitee, add):
        reason = InviteReason.EXISTING
    elif guards.blacklisted(workspace, external_userid=invitee.external_userid, unionid=invitee.unionid):
        reason = InviteReason.BLACKLISTED
    if reason:
        values = {"status": InviteStatus.REJECTED, "reason": reason, "settled_at": add.at}
    with transaction.atomic():
        # The inviter's row is the lock that keeps two workers from both slipping under the limit.
        Participant.objects.for_workspace(workspace).select_for_update().filter(pk=participant.pk).first()
        if not reason and _paced(participant, add.at) >= campaign.velocity_limit:
            values = {"status": InviteStatus.HELD}
            Participant.unscoped.filter(pk=participant.pk, burst=False).update(burst=True)
        Invite.unscoped.bulk_create([Invite(workspace=workspace, campaign=campaign, participant=participant,
                                            invitee=invitee, relation_id=add.relation_id, added_at=add.at,
                                            **values)],
                                    ignore_conflicts=True)
    return Invite.objects.for_workspace(workspace).get(campaign=campaign, invitee=invitee)


def revoke_for_relation(workspace: Workspace, relation_id: int, at: dt.datetime) -> int:
    """The invitee deleted (or was deleted by) the account inside the hold: the open invite made
    by that add is revoked. A conditional UPDATE, so a replay or the settle job revoke once."""
    return Invite.objects.for_workspace(workspace).filter(relation_id=relation_id, status__in=OPEN).update(
        status=InviteStatus.REVOKED, reason=InviteReason.DELETED, settled_at=at)


def release_held(workspace: Workspace, now: dt.datetime) -> int:
    """Let held invites through at the velocity limit's pace: each inviter's oldest held ones,
    as many as their window has room for now; each starts its hold when released."""
    released = 0
    held_by = (Invite.objects.for_workspace(workspace).filter(status=InviteStatus.HELD)
               .values_list("participant_id", flat=True).distinct())
    for participant in Participant.objects.for_workspace(workspace).filter(pk__in=list(held_by)).select_related(
            "campaign"):
        with transaction.atomic():
            Participant.objects.for_workspace(workspace).select_for_update().filter(pk=participant.pk).first()
            room = participant.campaign.velocity_limit - _paced(participant, now)
            if room <= 0:
                continue
            hold = dt.timedelta(hours=participant.campaign.hold_hours)
            for pk in Invite.objects.for_workspace(workspace).filter(participant=participant, status=InviteStatus.HELD).order_by(
                    "added_at", "pk").values_list("pk", flat=True)[:room]:
                released += Invite.objects.for_workspace(workspace).filter(pk=pk, status=InviteStatus.HELD).update(
                    status=InviteStatus.PENDING, paced_at=now, hold_until=now + hold)
    return released


@dataclass(frozen=True)
class Settled:
    counted: list[int]  # invite ids
    revoked: int


def settle_due(workspace: Workspace, now: dt.datetime | None = None) -> Settled:
    """Pending invites whose hold is over: counted if the invitee is still a friend through the
    add that made them (and is still not the inviter, whose unionid may have arrived since),
    else revoked. Each invite moves once (a conditional UPDATE on `pending`), and the inviter's
    count and rewards follow in the same transaction."""
    from siyu.fission.services.rewards import claim_reached  # rewards builds on invites

    now = now or timezone.now()
    due = list(Invite.objects.for_workspace(workspace).filter(status=InviteStatus.PENDING, hold_until__lte=now)
               .select_related("invitee", "relation", "participant__customer", "participant__campaign")
               .order_by("hold_until", "pk")[:SETTLE_BATCH])
    counted, revoked = [], 0
    for invite in due:
        relation = invite.relation
        gone = relation is None or relation.deleted_at is not None and relation.deleted_at >= invite.added_at
        with transaction.atomic():
            if gone:
                revoked += Invite.objects.for_workspace(workspace).filter(pk=invite.pk, status=InviteStatus.PENDING).update(
                    status=InviteStatus.REVOKED, reason=InviteReason.DELETED, settled_at=now)
                continue
            if guards.same_person(invite.participant.customer, invite.invitee):
                Invite.objects.for_workspace(workspace).filter(pk=invite.pk, status=InviteStatus.PENDING).update(
                    status=InviteStatus.REJECTED, reason=InviteReason.SELF, settled_at=now)
                continue
            signals = guards.zombie_signals(invite.invitee)
            if not Invite.objects.for_workspace(workspace).filter(pk=invite.pk, status=InviteStatus.PENDING).update(
                    status=InviteStatus.COUNTED, settled_at=now, signals=signals):
                continue
            Participant.unscoped.filter(pk=invite.participant_id).update(counted=F("counted") + 1)
            counted.append(invite.pk)
            add_timeline(workspace, invite.participant.customer, FissionTimeline.INVITE_COUNTED, now,
                         detail=invite.participant.campaign.name[:300], dedupe_key=f"fission.invite:{invite.pk}")
            claim_reached(workspace, invite.participant_id, now, invite_id=invite.pk)
    return Settled(counted, revoked)
