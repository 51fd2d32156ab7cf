"""Counting invites through the services, fed the way the customers app feeds them: the twin's
add (through the participant's real contact way) recorded with `customers.services.record_add`,
whose `follow_started` the fission subscriber handles. Fast cousins of the twin scenarios."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from siyu.customers import services as customers
from siyu.customers.models import FollowRelation
from siyu.fission import services
from siyu.fission.models import Invite, InviteReason, InviteStatus, Participant, RewardClaim
from siyu.fission.services import AddSeen


def _join(f, external_userid, name, **body):
    f.add(external_userid, name, **body)
    relation = customers.record_add(f.workspace, staff_userid="persona01", external_userid=external_userid, state="",
                                    at=timezone.now() - dt.timedelta(days=1))
    participant, _new = services.join(f.workspace, f.campaign, relation.customer, openid="o" + external_userid)
    return services.ensure_code(f.workspace, participant)


def _scan(f, participant, external_userid, name, at=None, **body) -> Invite | None:
    added = f.scan(participant, external_userid, name, **body)
    relation = customers.record_add(f.workspace, staff_userid=added["userid"], external_userid=external_userid,
                                    state=added["state"], at=at or timezone.now())
    return services.record_add(f.workspace, AddSeen(relation.pk, relation.customer_id, relation.state,
                                                    relation.added_at, relation.times_added > 1))


def test_the_state_maps_back_to_the_participant_and_fits_wecom(fission):
    inviter = _join(fission, "wmA", "阿一")
    assert services.decode_state(inviter.state) == inviter.pk and len(inviter.state) <= 30
    assert services.encode_state(2**63 - 1).startswith("fx") and len(services.encode_state(2**63 - 1)) <= 30
    assert services.participant_for_state(fission.workspace, "chSOMETHINGELSE") is None
    assert services.participant_for_state(fission.workspace, inviter.state).pk == inviter.pk


def test_a_replayed_add_makes_one_invite(fission):
    inviter = _join(fission, "wmA", "阿一")
    invite = _scan(fission, inviter, "wmB", "阿二")
    relation = FollowRelation.objects.for_workspace(fission.workspace).get(customer=invite.invitee)
    again = services.record_add(fission.workspace, AddSeen(relation.pk, relation.customer_id, relation.state,
                                                           relation.added_at, False))
    assert again.pk == invite.pk and Invite.objects.for_workspace(fission.workspace).count() == 1
    assert invite.status == InviteStatus.PENDING


def test_revocation_happens_exactly_once(fission):
    inviter = _join(fission, "wmA", "阿一")
    invite = _scan(fission, inviter, "wmB", "阿二")
    now = timezone.now()
    assert services.revoke_for_relation(fission.workspace, invite.relation_id, now) == 1
    assert services.revoke_for_relation(fission.workspace, invite.relation_id, now) == 0
    settled = services.settle_due(fission.workspace, now + dt.timedelta(hours=49))
    assert (settled.counted, settled.revoked) == ([], 0)
    invite.refresh_from_db()
    assert (invite.status, invite.reason) == (InviteStatus.REVOKED, InviteReason.DELETED)


def test_a_deletion_the_revoke_missed_is_caught_when_the_hold_ends(fission):
    inviter = _join(fission, "wmA", "阿一")
    invite = _scan(fission, inviter, "wmB", "阿二")
    FollowRelation.objects.for_workspace(fission.workspace).filter(pk=invite.relation_id).update(
        deleted_at=timezone.now())
    settled = services.settle_due(fission.workspace, timezone.now() + dt.timedelta(hours=49))
    assert settled.revoked == 1 and Participant.objects.for_workspace(fission.workspace).get(pk=inviter.pk).counted == 0


def test_a_count_that_skips_past_a_tier_still_reaches_it(fission):
    inviter = _join(fission, "wmA", "阿一")
    for n in range(3):
        _scan(fission, inviter, f"wmF{n}", f"好友{n}")
    services.settle_due(fission.workspace, timezone.now() + dt.timedelta(hours=49))
    inviter.refresh_from_db()
    assert inviter.counted == 3
    claims = RewardClaim.objects.for_workspace(fission.workspace).filter(participant=inviter).select_related("tier")
    assert sorted(c.tier.threshold for c in claims) == [1, 3]


def test_a_friend_of_another_account_from_the_same_second_is_not_new(fission):
    inviter = _join(fission, "wmA", "阿一")
    at = timezone.now().replace(microsecond=0)
    fission.add("wmOLD", "老朋友", staff="staff02")
    customers.record_add(fission.workspace, staff_userid="staff02", external_userid="wmOLD", state="", at=at)
    invite = _scan(fission, inviter, "wmOLD", "老朋友", at=at)
    assert (invite.status, invite.reason) == (InviteStatus.REJECTED, InviteReason.EXISTING)


def test_a_blacklisted_invitee_does_not_count(fission):
    from siyu.core.services import OPERATOR
    from siyu.moderation.services import add_entry

    inviter = _join(fission, "wmA", "阿一")
    add_entry(fission.workspace, OPERATOR, external_userid="wmBAD", reason="群里发广告被移出")
    invite = _scan(fission, inviter, "wmBAD", "广告号")
    assert (invite.status, invite.reason) == (InviteStatus.REJECTED, InviteReason.BLACKLISTED)


def test_the_settle_job_counts_each_invite_once_and_ends_the_campaign_on_time(fission):
    from siyu.fission import tasks
    from siyu.fission.models import Campaign, CampaignStatus

    Campaign.objects.for_workspace(fission.workspace).filter(pk=fission.campaign.pk).update(hold_hours=0)
    inviter = _join(fission, "wmA", "阿一")
    _scan(fission, inviter, "wmB", "阿二", at=timezone.now() - dt.timedelta(minutes=1))
    assert tasks.settle.call() == 1  # one brand with work
    first = tasks.settle_brand.call(fission.workspace.pk)
    again = tasks.settle_brand.call(fission.workspace.pk)
    assert (first["counted"], again["counted"]) == (1, 0)
    assert Participant.objects.for_workspace(fission.workspace).get(pk=inviter.pk).counted == 1
    Campaign.objects.for_workspace(fission.workspace).filter(pk=fission.campaign.pk).update(
        ends_at=timezone.now() - dt.timedelta(seconds=1))
    ended = tasks.settle_brand.call(fission.workspace.pk)
    assert (ended["ended"], ended["recycled"]) == (1, 1)
    assert Campaign.objects.for_workspace(fission.workspace).get(pk=fission.campaign.pk).status == CampaignStatus.ENDED
