"""Per-participant codes: each participant's own contact way (联系我), made lazily, whose `state`
maps an add back to them, and recycled (deleted at WeCom) once the campaign has ended, because
contact ways and join ways share one quota of 500,000 per corp (WECOM.md §3, §10).

`sqids` is not installed, so the state is a compact base-62 of the participant's id with a
prefix: "fx" + at most 11 characters for any 64-bit id, well within WeCom's 30."""

from __future__ import annotations

import datetime as dt
import logging
import string

from django.utils import timezone

from siyu.accounts.models import StaffAccount
from siyu.core.models import Workspace
from siyu.fission.models import Campaign, CampaignStatus, Participant
from siyu.wecom.client import ContactWayMissing, ContactWaySpec, WeComError
from siyu.wecom.services import NotConnected, client_for

logger = logging.getLogger(__name__)

STATE_PREFIX = "fx"
STATE_MAX_CHARS = 30  # WECOM.md §3: state <= 30 chars
_ALPHABET = string.digits + string.ascii_letters
RECYCLE_BATCH = 200


class CodeUnavailable(Exception):
    """The participant's code could not be made now (WeCom not connected or refused)."""


def encode_state(participant_id: int) -> str:
    if participant_id <= 0:
        raise ValueError(participant_id)
    digits = []
    n = participant_id
    while n:
        n, rest = divmod(n, 62)
        digits.append(_ALPHABET[rest])
    state = STATE_PREFIX + "".join(reversed(digits))
    assert len(state) <= STATE_MAX_CHARS
    return state


def decode_state(state: str) -> int | None:
    """The participant id behind a state, or None for a state that is not a fission code's."""
    if not state.startswith(STATE_PREFIX) or len(state) > STATE_MAX_CHARS or len(state) == len(STATE_PREFIX):
        return None
    n = 0
    for char in state[len(STATE_PREFIX):]:
        index = _ALPHABET.find(char)
        if index < 0:
            return None
        n = n * 62 + index
    return n or None


def participant_for_state(workspace: Workspace, state: str) -> Participant | None:
    participant_id = decode_state(state)
    if participant_id is None:
        return None
    return (Participant.objects.for_workspace(workspace).select_related("campaign", "customer")
            .filter(pk=participant_id, state=state).first())


def ensure_code(workspace: Workspace, participant: Participant) -> Participant:
    """The participant's contact way, made at WeCom the first time (a single-member code on the
    campaign's first persona account, or a multi-member one on all of them), QR scene, skip
    verify. A second call returns what the first stored; a race makes at most one extra way,
    deleted again at once."""
    if participant.config_id:
        return participant
    campaign = Campaign.objects.for_workspace(workspace).get(pk=participant.campaign_id)  # its status now
    if campaign.status != CampaignStatus.LIVE:
        raise CodeUnavailable("campaign not live")
    userids = list(StaffAccount.objects.for_workspace(workspace).filter(fission_campaigns=campaign, active=True)
                   .order_by("pk").values_list("userid", flat=True))
    if not userids:
        raise CodeUnavailable("no active persona account")
    state = encode_state(participant.pk)
    spec = ContactWaySpec(type=1 if len(userids) == 1 else 2, scene=2, skip_verify=True, state=state,
                          remark=campaign.name[:30], user=userids)
    try:
        with client_for(workspace) as client:
            created = client.add_contact_way(spec)
            stored = Participant.unscoped.filter(pk=participant.pk, config_id="").update(
                state=state, config_id=created.config_id, qr_code=created.qr_code)
            if not stored:  # another request made it meanwhile: keep theirs
                client.delete_contact_way(created.config_id)
    except (NotConnected, WeComError) as exc:
        raise CodeUnavailable(str(exc)) from exc
    participant.refresh_from_db()
    return participant


def recycle_codes(workspace: Workspace, now: dt.datetime | None = None) -> int:
    """Delete at WeCom the contact ways of ended campaigns' participants, a batch at a time;
    each participant's code is recycled once (a conditional UPDATE claims it). The number
    recycled. A code WeCom no longer has counts as recycled."""
    now = now or timezone.now()
    ended = Campaign.objects.for_workspace(workspace).filter(status=CampaignStatus.ENDED)
    due = list(Participant.objects.for_workspace(workspace).filter(campaign__in=ended, code_recycled_at__isnull=True)
               .exclude(config_id="").order_by("pk").values_list("pk", "config_id")[:RECYCLE_BATCH])
    if not due:
        return 0
    recycled = 0
    try:
        with client_for(workspace) as client:
            for pk, config_id in due:
                if not Participant.unscoped.filter(pk=pk, code_recycled_at__isnull=True).update(code_recycled_at=now):
                    continue
                try:
                    client.delete_contact_way(config_id)
                except ContactWayMissing:
                    pass  # deleted at WeCom already
                except WeComError:
                    # Give the claim back: the next run tries again.
                    Participant.unscoped.filter(pk=pk, code_recycled_at=now).update(code_recycled_at=None)
                    logger.warning("fission code %s not recycled", config_id, exc_info=True)
                    continue
                recycled += 1
    except NotConnected:
        return 0
    return recycled
