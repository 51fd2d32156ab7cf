"""Progress told to the inviter: a service-account template message (模板消息, WECOM.md §10) on
each counted invite and each tier reached, in the persona's voice (the campaign's messages, with
{nickname}, {invited}, {to_go}, {next_reward} and {reward} filled). Sent after the commit that
counted, so a rolled-back count sends nothing; at most once (the count's conditional UPDATE is
the claim; a failed send is logged, not retried, as a retry could reach the fan twice)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from siyu.core.models import Workspace
from siyu.fission.models import Campaign, Participant, RewardTier
from siyu.wecom import wechat
from siyu.wecom.errors import WeComError
from siyu.wecom.models import ServiceAccount

logger = logging.getLogger(__name__)


def fill(text: str, values: dict[str, object]) -> str:
    for key, value in values.items():
        text = text.replace("{" + key + "}", str(value))
    return text


def page_url(workspace: Workspace, campaign: Campaign) -> str:
    return settings.SIYU_PUBLIC_URL + reverse("fission:fan_campaign", args=[workspace.slug, campaign.pk])


def progress_values(participant: Participant, reward: str = "") -> dict[str, object]:
    tiers = list(RewardTier.unscoped.filter(campaign_id=participant.campaign_id).order_by("threshold"))
    upcoming = next((t for t in tiers if t.threshold > participant.counted), None)
    return {"nickname": participant.customer.name, "invited": participant.counted,
            "to_go": upcoming.threshold - participant.counted if upcoming else 0,
            "next_reward": upcoming.name if upcoming else "", "reward": reward}


def _send(workspace: Workspace, participant: Participant, text: str, values: dict[str, object]) -> None:
    campaign = participant.campaign
    data = {"first": text, "keyword1": campaign.name, "keyword2": f"{values['invited']}",
            "remark": str(values["next_reward"] or "")}
    try:
        wechat.send_template_message(workspace, participant.openid, campaign.template_id,
                                     page_url(workspace, campaign), data)
    except (WeComError, ServiceAccount.DoesNotExist):
        logger.warning("fission progress for participant %s not sent", participant.pk, exc_info=True)


def notify_progress(workspace: Workspace, participant_id: int, *, invite_id: int | None, tiers: list[int]) -> None:
    """After commit: the counted-invite message, then one per tier reached."""
    participant = Participant.objects.for_workspace(workspace).select_related("campaign", "customer").get(pk=participant_id)
    campaign = participant.campaign
    if not participant.openid or not campaign.template_id:
        return
    names = dict(RewardTier.objects.for_workspace(workspace).filter(pk__in=tiers).values_list("pk", "name"))

    def send() -> None:
        fresh = Participant.unscoped.select_related("campaign", "customer").get(pk=participant.pk)
        values = progress_values(fresh)
        if invite_id is not None and campaign.msg_counted:
            _send(workspace, fresh, fill(campaign.msg_counted, values), values)
        for tier_id in tiers:
            reached = progress_values(fresh, reward=names.get(tier_id, ""))
            if campaign.msg_tier:
                _send(workspace, fresh, fill(campaign.msg_tier, reached), reached)

    transaction.on_commit(send, robust=True)


def notify_joined(workspace: Workspace, participant: Participant) -> None:
    campaign = participant.campaign
    if not participant.openid or not campaign.template_id or not campaign.msg_joined:
        return
    values = progress_values(participant)
    transaction.on_commit(lambda: _send(workspace, participant, fill(campaign.msg_joined, values), values),
                          robust=True)
