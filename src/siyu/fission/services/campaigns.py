"""任务宝 campaigns: define (accounts, tiers with stock, times, eligibility, hold, velocity,
messages in the persona's voice), launch, end, and participants joining."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from siyu.accounts.models import StaffAccount
from siyu.channels.models import Welfare, WelfareKind
from siyu.content.services import Finding, voice_check
from siyu.core.auditing import audit_change, change, fact, model_changes, snapshot
from siyu.core.models import AuditAction, Workspace
from siyu.core.permissions import Seat
from siyu.core.tenancy import workspace_context
from siyu.customers.models import Customer
from siyu.customers.services import add_timeline
from siyu.fission.models import Campaign, CampaignStatus, Fulfilment, Participant, RewardTier
from siyu.fission.services.common import MODULE, require_edit
from siyu.fission.timeline import FissionTimeline
from siyu.segments.services import members_query

SUBJECT = gettext_lazy("fission campaign")
AUDITED_FIELDS = ("name", "starts_at", "ends_at", "new_customers_only", "segment", "hold_hours", "velocity_limit",
                  "velocity_minutes", "zombie_percent", "msg_joined", "msg_counted", "msg_tier", "template_id")
MESSAGE_FIELDS = ("msg_joined", "msg_counted", "msg_tier")
MAX_TIERS = 10
MAX_HOLD_HOURS = 24 * 30


@dataclass(frozen=True)
class TierInput:
    threshold: int
    name: str
    stock: int
    fulfilment: str
    welfare_id: int | None = None
    points: int = 0


@dataclass(frozen=True)
class CampaignInput:
    name: str
    account_ids: list[int]
    starts_at: dt.datetime
    ends_at: dt.datetime
    tiers: list[TierInput]
    new_customers_only: bool = True
    segment_id: int | None = None
    hold_hours: int = 48
    velocity_limit: int = 10
    velocity_minutes: int = 60
    zombie_percent: int = 50
    msg_joined: str = ""
    msg_counted: str = ""
    msg_tier: str = ""
    template_id: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def voice_findings(workspace: Workspace, account_ids: list[int], messages: dict[str, str]) -> dict[str, list[Finding]]:
    """Each message checked against the persona of the campaign's first persona account."""
    account = (StaffAccount.objects.for_workspace(workspace).filter(pk__in=account_ids).exclude(persona=None)
               .select_related("persona").order_by("pk").first())
    persona = account.persona if account else None
    return {name: voice_check(persona, text) for name, text in messages.items() if text}


def _validate(workspace: Workspace, data: CampaignInput, campaign: Campaign | None) -> tuple[list[StaffAccount], dict[int, Welfare]]:
    errors: dict[str, list[str]] = {}

    def refuse(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    if not data.name.strip():
        refuse("name", _("Give the campaign a name."))
    elif Campaign.objects.for_workspace(workspace).filter(name=data.name.strip()).exclude(
            pk=campaign.pk if campaign else 0).exists():
        refuse("name", _("Another campaign has this name."))
    accounts = list(StaffAccount.objects.for_workspace(workspace).filter(pk__in=data.account_ids, active=True))
    if not accounts:
        refuse("accounts", _("Choose at least one persona account."))
    elif len(accounts) > 100:
        refuse("accounts", _("A contact way holds at most 100 accounts."))  # WECOM.md §3
    if data.ends_at <= data.starts_at:
        refuse("ends_at", _("The campaign must end after it starts."))
    if not 0 <= data.hold_hours <= MAX_HOLD_HOURS:
        refuse("hold_hours", _("The hold is at most 30 days."))
    if data.velocity_limit < 1 or data.velocity_minutes < 1:
        refuse("velocity_limit", _("Allow at least one invite in a window of at least one minute."))
    if not 1 <= data.zombie_percent <= 100:
        refuse("zombie_percent", _("Give a share between 1 and 100."))
    if data.segment_id is not None:
        from siyu.segments.models import Segment
        if not Segment.objects.for_workspace(workspace).filter(pk=data.segment_id).exists():
            refuse("segment", _("Choose one of the brand's segments."))
    welfare = {w.pk: w for w in Welfare.objects.for_workspace(workspace).filter(
        pk__in=[t.welfare_id for t in data.tiers if t.welfare_id])}
    if not data.tiers:
        refuse("tiers", _("Add at least one reward tier."))
    if len(data.tiers) > MAX_TIERS:
        refuse("tiers", _("At most %(n)s tiers.") % {"n": MAX_TIERS})
    thresholds = [t.threshold for t in data.tiers]
    if len(set(thresholds)) != len(thresholds):
        refuse("tiers", _("Two tiers need the same number of invites."))
    pools = [t.welfare_id for t in data.tiers if t.welfare_id]
    if len(set(pools)) != len(pools):
        # A customer holds one grant per welfare, so a second tier on one pool would give no code.
        refuse("tiers", _("Each tier needs a code pool of its own."))
    for tier in data.tiers:
        if tier.threshold < 1 or tier.stock < 0 or not tier.name.strip():
            refuse("tiers", _("Each tier needs at least one invite, a reward name and a stock of 0 or more."))
        if tier.fulfilment == Fulfilment.CODE:
            pool = welfare.get(tier.welfare_id or 0)
            if pool is None or pool.kind != WelfareKind.COUPON:
                refuse("tiers", _("“%(name)s”: choose a coupon welfare whose codes are the exchange codes.")
                       % {"name": tier.name})
        elif tier.points < 1:
            refuse("tiers", _("“%(name)s”: give the points to grant.") % {"name": tier.name})
    messages = {name: getattr(data, name) for name in MESSAGE_FIELDS}
    for name, findings in voice_findings(workspace, [a.pk for a in accounts], messages).items():
        for finding in findings:
            if finding.is_error:
                refuse(name, finding.message)
    if errors:
        raise ValidationError(errors)
    return accounts, welfare


def save_campaign(workspace: Workspace, membership: Seat | None, data: CampaignInput,
                  campaign_id: int | None = None) -> Campaign:
    """Create a draft campaign or change one. A live campaign's tiers keep their thresholds and
    what was claimed; their stock may be topped up. An ended campaign cannot change."""
    require_edit(membership)
    with transaction.atomic():
        campaign = (Campaign.objects.for_workspace(workspace).select_for_update().get(pk=campaign_id)
                    if campaign_id else None)
        if campaign is not None and campaign.status == CampaignStatus.ENDED:
            raise ValidationError(_("An ended campaign cannot be changed."))
        accounts, _welfare = _validate(workspace, data, campaign)
        before = snapshot(campaign, AUDITED_FIELDS) if campaign else None
        target = campaign or Campaign(workspace=workspace)
        target.name = data.name.strip()
        target.starts_at, target.ends_at = data.starts_at, data.ends_at
        target.new_customers_only, target.segment_id = data.new_customers_only, data.segment_id
        target.hold_hours, target.velocity_limit = data.hold_hours, data.velocity_limit
        target.velocity_minutes, target.zombie_percent = data.velocity_minutes, data.zombie_percent
        target.msg_joined, target.msg_counted, target.msg_tier = data.msg_joined, data.msg_counted, data.msg_tier
        target.template_id = data.template_id.strip()
        try:
            with transaction.atomic():
                target.save()
        except IntegrityError as exc:
            raise ValidationError({"name": _("Another campaign has this name.")}) from exc
        with workspace_context(workspace):  # the accounts' related manager is scoped
            target.accounts.set(accounts)
        _save_tiers(workspace, target, data.tiers, live=campaign is not None and campaign.status == CampaignStatus.LIVE)
        if before is None:
            audit_change(workspace, membership, AuditAction.CREATED, module=MODULE, subject=SUBJECT, name=target.name,
                         facts=[fact(gettext_lazy("tiers"), len(data.tiers))])
        else:
            audit_change(workspace, membership, AuditAction.UPDATED, module=MODULE, subject=SUBJECT, name=target.name,
                         changes=model_changes(before, target, AUDITED_FIELDS))
    return target


def _save_tiers(workspace: Workspace, campaign: Campaign, tiers: list[TierInput], *, live: bool) -> None:
    existing = {t.threshold: t for t in RewardTier.objects.for_workspace(workspace).filter(campaign=campaign)}
    if live and set(existing) != {t.threshold for t in tiers}:
        raise ValidationError({"tiers": _("A live campaign keeps its tiers; only names and stock may change.")})
    for data in tiers:
        tier = existing.pop(data.threshold, None)
        if tier is None:
            RewardTier.objects.for_workspace(workspace).create(workspace=workspace, campaign=campaign, threshold=data.threshold,
                                      name=data.name.strip(), stock=data.stock, initial_stock=data.stock,
                                      fulfilment=data.fulfilment, welfare_id=data.welfare_id, points=data.points)
            continue
        # Stock is what is left; set it as typed, but never below zero (claims meanwhile took some).
        RewardTier.unscoped.filter(pk=tier.pk).update(name=data.name.strip(), stock=data.stock,
                                                      initial_stock=max(tier.initial_stock, data.stock),
                                                      fulfilment=data.fulfilment, welfare_id=data.welfare_id,
                                                      points=data.points)
    RewardTier.unscoped.filter(pk__in=[t.pk for t in existing.values()]).delete()


def launch(workspace: Workspace, membership: Seat | None, campaign_id: int, now: dt.datetime | None = None) -> Campaign:
    """Draft → live. Codes are made as participants need them, not now."""
    require_edit(membership)
    now = now or timezone.now()
    campaign = Campaign.objects.for_workspace(workspace).get(pk=campaign_id)
    if campaign.status != CampaignStatus.DRAFT:
        raise ValidationError(_("Only a draft can be launched."))
    if campaign.ends_at <= now:
        raise ValidationError({"ends_at": _("The campaign would already be over.")})
    if not RewardTier.objects.for_workspace(workspace).filter(campaign=campaign).exists() or not \
            StaffAccount.objects.for_workspace(workspace).filter(fission_campaigns=campaign).exists():
        raise ValidationError(_("Add persona accounts and reward tiers first."))
    if Campaign.unscoped.filter(pk=campaign.pk, status=CampaignStatus.DRAFT).update(
            status=CampaignStatus.LIVE, launched_at=now):
        audit_change(workspace, membership, AuditAction.UPDATED, module=MODULE, subject=SUBJECT, name=campaign.name,
                     changes=[change(gettext_lazy("status"), CampaignStatus.DRAFT.label, CampaignStatus.LIVE.label)])
    campaign.refresh_from_db()
    return campaign


def end(workspace: Workspace, membership: Seat | None, campaign_id: int, now: dt.datetime | None = None) -> Campaign:
    """Live → ended, by a person (audited) or by the clock (`end_due`). Codes are recycled next."""
    if membership is not None:
        require_edit(membership)
    now = now or timezone.now()
    campaign = Campaign.objects.for_workspace(workspace).get(pk=campaign_id)
    ended = Campaign.unscoped.filter(pk=campaign.pk, status__in=(CampaignStatus.LIVE, CampaignStatus.DRAFT)).update(
        status=CampaignStatus.ENDED, ended_at=now)
    if ended and membership is not None:
        audit_change(workspace, membership, AuditAction.UPDATED, module=MODULE, subject=SUBJECT, name=campaign.name,
                     changes=[change(gettext_lazy("status"), CampaignStatus(campaign.status).label,
                                     CampaignStatus.ENDED.label)])
    campaign.refresh_from_db()
    return campaign


def end_due(workspace: Workspace, now: dt.datetime | None = None) -> int:
    """Live campaigns past their end time are ended (the clock's doing, not audited)."""
    now = now or timezone.now()
    return Campaign.objects.for_workspace(workspace).filter(status=CampaignStatus.LIVE, ends_at__lte=now).update(
        status=CampaignStatus.ENDED, ended_at=now)


def is_running(campaign: Campaign, at: dt.datetime) -> bool:
    return campaign.status == CampaignStatus.LIVE and campaign.starts_at <= at < campaign.ends_at


class NotEligible(Exception):
    """The customer may not join this campaign; `reason` says why, in the fan's words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def join(workspace: Workspace, campaign: Campaign, customer: Customer, *, openid: str = "",
         now: dt.datetime | None = None) -> tuple[Participant, bool]:
    """The customer joins (idempotent: a second join returns the first, keeping a new openid).
    Refused outside the campaign's time or outside its segment."""
    now = now or timezone.now()
    found = Participant.objects.for_workspace(workspace).filter(campaign=campaign, customer=customer).first()
    if found is not None:
        if openid and found.openid != openid:
            Participant.unscoped.filter(pk=found.pk).update(openid=openid)
            found.openid = openid
        return found, False
    if not is_running(campaign, now):
        raise NotEligible(_("This campaign is not running."))
    if campaign.segment is not None and not members_query(workspace, campaign.segment).filter(
            pk=customer.pk).exists():
        raise NotEligible(_("This campaign is for invited customers only."))
    try:
        with transaction.atomic():
            participant = Participant.objects.for_workspace(workspace).create(workspace=workspace, campaign=campaign, customer=customer,
                                                     openid=openid, joined_at=now)
    except IntegrityError:
        return Participant.objects.for_workspace(workspace).get(campaign=campaign, customer=customer), False
    add_timeline(workspace, customer, FissionTimeline.JOINED, now, detail=campaign.name[:300],
                 dedupe_key=f"fission.joined:{participant.pk}")
    return participant, True


def enrol(workspace: Workspace, membership: Seat | None, campaign_id: int, customer_id: int) -> Participant:
    """A member enrols a customer (one who asked in the chat), as the fan page's join does."""
    require_edit(membership)
    campaign = Campaign.objects.for_workspace(workspace).get(pk=campaign_id)
    customer = Customer.objects.for_workspace(workspace).get(pk=customer_id)
    try:
        participant, _new = join(workspace, campaign, customer)
    except NotEligible as exc:
        raise ValidationError(exc.reason) from exc
    return participant
