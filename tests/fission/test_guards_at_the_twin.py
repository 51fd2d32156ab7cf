"""The guards, each with a scenario at the twin: twin customers add the persona through a
participant's own contact way, the twin calls the live server back, a real worker takes the add
through the inbox, the customers app and the fission subscriber. The hold is passed by settling
with a later clock."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from siyu.core import events
from siyu.core.models import AuditEntry, EventRecord
from siyu.customers.events import FollowStarted
from siyu.customers.models import FollowRelation
from siyu.fission import services
from siyu.fission.models import (
    Campaign,
    ClaimStatus,
    Invite,
    InviteReason,
    InviteStatus,
    Participant,
    RewardClaim,
    RewardTier,
)
from siyu.points.services import balance_of
from tests.conftest import work_until
from tests.fission.conftest import OTHER

pytestmark = pytest.mark.slow

AFTER_HOLD = dt.timedelta(hours=49)


def _status(invite: Invite) -> tuple[str, str]:
    invite.refresh_from_db()
    return invite.status, invite.reason


def test_an_invite_through_a_participants_code_counts_after_the_hold_and_tells_the_inviter(live_fission):
    f = live_fission
    inviter = f.participant("wmINVITER", "林小满")
    assert inviter.state == services.encode_state(inviter.pk) and inviter.config_id
    way = next(w for w in f.twin.state()["contact_ways"] if w["config_id"] == inviter.config_id)
    assert way["state"] == inviter.state and len(way["state"]) <= 30

    added = f.scan(inviter, "wmFRIEND1", "周一一")
    assert added["state"] == inviter.state
    invite = f.invite_of("wmFRIEND1")
    assert (invite.status, invite.participant_id) == (InviteStatus.PENDING, inviter.pk)
    assert services.settle_due(f.workspace).counted == []  # still in the hold

    settled = services.settle_due(f.workspace, timezone.now() + AFTER_HOLD)
    assert settled.counted == [invite.pk] and _status(invite) == (InviteStatus.COUNTED, "")
    inviter.refresh_from_db()
    assert inviter.counted == 1
    claim = RewardClaim.objects.for_workspace(f.workspace).get(participant=inviter)
    assert claim.status == ClaimStatus.ISSUED and balance_of(f.workspace, inviter.customer_id) == 30
    sent = [t["data"]["first"]["value"] for t in f.templates(inviter)]
    assert sent == ["林小满，又一位好友助力成功！已邀 1 位，再邀 2 位得正装", "林小满，恭喜获得小样！"]
    # The settle job again, and the add replayed under another key, change nothing.
    assert services.settle_due(f.workspace, timezone.now() + AFTER_HOLD).counted == []
    relation = FollowRelation.objects.for_workspace(f.workspace).get(customer__external_userid="wmFRIEND1")
    events.publish(f.workspace, FollowStarted(relation_id=relation.pk, customer_id=relation.customer_id,
                                              account_id=relation.account_id, state=relation.state,
                                              at=relation.added_at, reactivated=False), dedupe_key="replayed-add")
    work_until(lambda: not EventRecord.objects.for_workspace(f.workspace).filter(
        dedupe_key="replayed-add", processed_at__isnull=True).exists())
    assert Invite.objects.for_workspace(f.workspace).count() == 1
    assert Participant.objects.for_workspace(f.workspace).get(pk=inviter.pk).counted == 1
    assert len(f.templates(inviter)) == 2


def test_a_self_invite_from_a_second_device_does_not_count(live_fission):
    f = live_fission
    inviter = f.participant("wmSELF", "陈小鱼", unionid="uSAMEPERSON")
    f.scan(inviter, "wmSELF2", "陈小鱼的小号", unionid="uSAMEPERSON")
    invite = f.invite_of("wmSELF2")
    assert _status(invite) == (InviteStatus.REJECTED, InviteReason.SELF)
    services.settle_due(f.workspace, timezone.now() + AFTER_HOLD)
    assert Participant.objects.for_workspace(f.workspace).get(pk=inviter.pk).counted == 0


def test_an_existing_friend_of_another_account_does_not_count(live_fission):
    f = live_fission
    inviter = f.participant("wmHOST", "许小冬")
    f.add("wmOLDFRIEND", "老朋友", staff=OTHER)
    f.customer("wmOLDFRIEND")
    f.scan(inviter, "wmOLDFRIEND", "老朋友")
    invite = f.invite_of("wmOLDFRIEND")
    assert _status(invite) == (InviteStatus.REJECTED, InviteReason.EXISTING)


def test_an_add_then_delete_inside_the_hold_is_revoked_exactly_once(live_fission):
    f = live_fission
    inviter = f.participant("wmHOST2", "何小夏")
    f.scan(inviter, "wmFLAKY", "来去匆匆")
    invite = f.invite_of("wmFLAKY")
    assert invite.status == InviteStatus.PENDING
    f.delete("wmFLAKY")
    work_until(lambda: _status(invite) == (InviteStatus.REVOKED, InviteReason.DELETED), timeout=60)
    # The deletion replayed, and the hold passing, revoke or count nothing more.
    assert services.revoke_for_relation(f.workspace, invite.relation_id or 0, timezone.now()) == 0
    settled = services.settle_due(f.workspace, timezone.now() + AFTER_HOLD)
    assert (settled.counted, settled.revoked) == ([], 0)
    assert Participant.objects.for_workspace(f.workspace).get(pk=inviter.pk).counted == 0


def test_a_burst_from_one_inviter_is_held_not_dropped_and_its_reward_goes_to_review(live_fission):
    f = live_fission
    Campaign.objects.for_workspace(f.workspace).filter(pk=f.campaign.pk).update(velocity_limit=2)
    inviter = f.participant("wmFAST", "吴小急")
    for n in range(4):
        f.scan(inviter, f"wmBURST{n}", f"好友{n}")
    invites = work_until(lambda: (lambda rows: rows if len(rows) == 4 else None)(
        list(Invite.objects.for_workspace(f.workspace).order_by("added_at", "pk"))), timeout=60)
    assert sorted(i.status for i in invites) == [InviteStatus.HELD] * 2 + [InviteStatus.PENDING] * 2
    assert Participant.objects.for_workspace(f.workspace).get(pk=inviter.pk).burst
    now = timezone.now()
    assert services.release_held(f.workspace, now) == 0  # the window is full
    assert services.release_held(f.workspace, now + dt.timedelta(minutes=61)) == 2
    settled = services.settle_due(f.workspace, now + dt.timedelta(minutes=61) + AFTER_HOLD)
    assert len(settled.counted) == 4
    claims = {c.tier.threshold: c for c in RewardClaim.objects.for_workspace(f.workspace).select_related("tier")}
    assert {t: c.status for t, c in claims.items()} == {1: ClaimStatus.HELD, 3: ClaimStatus.HELD}
    assert claims[3].signals == ["burst"]
    approved = services.decide(f.workspace, f.seat("admin"), claims[3].pk, approve=True, note="老客户，核实过")
    approved.refresh_from_db()
    assert approved.status == ClaimStatus.ISSUED and approved.code.startswith("FULL-")
    services.decide(f.workspace, f.seat("ops_lead"), claims[1].pk, approve=False)
    # The rejected reward's stock went back; the approved one's stays taken.
    stock = dict(RewardTier.objects.for_workspace(f.workspace).values_list("threshold", "stock"))
    assert stock == {1: 5, 3: 4}
    entries = AuditEntry.objects.for_workspace(f.workspace).filter(module="fission", detail__claim_id__isnull=False)
    assert entries.count() == 2


def test_a_blacklisted_invitee_does_not_count(live_fission):
    from siyu.core.services import OPERATOR
    from siyu.moderation.services import add_entry

    f = live_fission
    inviter = f.participant("wmHOST3", "郑小秋")
    # Removed from one of the brand's groups on another device: known by the WeChat user's unionid.
    add_entry(f.workspace, OPERATOR, unionid="uBLACKLISTED", reason="群内发广告")
    f.scan(inviter, "wmSPAM", "广告号", unionid="uBLACKLISTED")
    invite = f.invite_of("wmSPAM")
    assert _status(invite) == (InviteStatus.REJECTED, InviteReason.BLACKLISTED)
