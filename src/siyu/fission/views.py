"""任务宝 pages. Console (`fission/…`): campaigns with their tiers and stock, launch and end, and
the review queue of held rewards. Fans (`/m/<brand>/fan/fission/<campaign>/`, the phones' fan
session): join, the own code, progress, the next tier and the leaderboard. Thin: parse, call
`fission.services`, render."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from siyu.accounts.models import StaffAccount
from siyu.channels.models import Welfare, WelfareKind
from siyu.core.models import Workspace
from siyu.customers.models import Customer
from siyu.fission import services
from siyu.fission.forms import CampaignForm, DecisionForm, TierFormSet
from siyu.fission.models import (
    Campaign,
    CampaignStatus,
    ClaimStatus,
    InviteStatus,
    Participant,
    RewardClaim,
)
from siyu.mobile import services as mobile_services
from siyu.mobile import sessions
from siyu.mobile.views import fan_page
from siyu.segments.models import Segment
from siyu.web import MemberRequest, apply_errors, member_page


@member_page
def home(request: MemberRequest) -> HttpResponse:
    services.require_view(request.membership)
    campaigns = (Campaign.objects.for_workspace(request.workspace)
                 .annotate(people=Count("participants", distinct=True),
                           counted=Count("invites", filter=Q(invites__status=InviteStatus.COUNTED), distinct=True)))
    held = RewardClaim.objects.for_workspace(request.workspace).filter(status=ClaimStatus.HELD).count()
    return render(request, "fission/home.html", {"campaigns": campaigns, "held": held,
                                                 "can_edit": services.can_edit(request.membership)})


def _choices(workspace: Workspace) -> dict[str, list[tuple[int, str]]]:
    return {
        "account_choices": [(a.pk, a.name or a.userid) for a in StaffAccount.objects.for_workspace(workspace)
                            .filter(active=True).order_by("name")],
        "segment_choices": list(Segment.objects.for_workspace(workspace).order_by("name").values_list("pk", "name")),
    }


def _welfare_choices(workspace: Workspace) -> list[tuple[int, str]]:
    return list(Welfare.objects.for_workspace(workspace).filter(kind=WelfareKind.COUPON).order_by("name")
                .values_list("pk", "name"))


def _initial(campaign: Campaign | None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    if campaign is None:
        start = timezone.localtime().replace(second=0, microsecond=0)
        return ({"starts_at": start, "ends_at": start + dt.timedelta(days=7), "new_customers_only": True,
                 "hold_hours": 48, "velocity_limit": 10, "velocity_minutes": 60, "zombie_percent": 50,
                 "msg_counted": _("{nickname}, one more friend joined! {invited} so far, {to_go} to go for {next_reward}."),
                 "msg_tier": _("{nickname}, you reached {reward}! Open the page to get it.")},
                [{"threshold": 3, "stock": 100, "fulfilment": "code"}, {}, {}])
    values = {name: getattr(campaign, name) for name in (
        "name", "starts_at", "ends_at", "new_customers_only", "hold_hours", "velocity_limit", "velocity_minutes",
        "zombie_percent", "msg_joined", "msg_counted", "msg_tier", "template_id")}
    values["starts_at"], values["ends_at"] = timezone.localtime(campaign.starts_at), timezone.localtime(campaign.ends_at)
    values["segment"] = campaign.segment_id
    values["accounts"] = list(campaign.accounts.values_list("pk", flat=True))
    tiers = [{"threshold": t.threshold, "name": t.name, "stock": t.stock, "fulfilment": t.fulfilment,
              "welfare": t.welfare_id, "points": t.points} for t in campaign.tiers.all()]
    return values, [*tiers, {}]


@member_page
def edit(request: MemberRequest, campaign_id: int | None = None) -> HttpResponse:
    services.require_edit(request.membership)
    workspace = request.workspace
    campaign = Campaign.objects.for_workspace(workspace).get(pk=campaign_id) if campaign_id else None
    choices, welfare = _choices(workspace), _welfare_choices(workspace)
    tier_errors: list[str] = []
    if request.method == "POST":
        form = CampaignForm(request.POST, **choices)
        tiers = TierFormSet(request.POST, prefix="tiers", form_kwargs={"welfare_choices": welfare})
        if form.is_valid() and tiers.is_valid():
            d = form.cleaned_data
            rows = [t.cleaned_data for t in tiers.forms if t.filled]
            try:
                saved = services.save_campaign(workspace, request.membership, services.CampaignInput(
                    name=d["name"], account_ids=d["accounts"], starts_at=d["starts_at"], ends_at=d["ends_at"],
                    tiers=[services.TierInput(r.get("threshold") or 0, r.get("name") or "", r.get("stock") or 0,
                                              r.get("fulfilment") or "code", r.get("welfare"), r.get("points") or 0)
                           for r in rows],
                    new_customers_only=d["new_customers_only"], segment_id=d["segment"], hold_hours=d["hold_hours"],
                    velocity_limit=d["velocity_limit"], velocity_minutes=d["velocity_minutes"],
                    zombie_percent=d["zombie_percent"], msg_joined=d["msg_joined"], msg_counted=d["msg_counted"],
                    msg_tier=d["msg_tier"], template_id=d["template_id"]), campaign_id)
            except ValidationError as exc:
                # The tiers' problems are shown on the tiers' card, the rest on their fields.
                errors = dict(exc.message_dict) if hasattr(exc, "error_dict") else None
                if errors is None:
                    apply_errors(form, exc)
                else:
                    tier_errors = errors.pop("tiers", [])
                    if errors:
                        apply_errors(form, ValidationError(errors))
            else:
                messages.success(request, _("Campaign saved."))
                return redirect("fission:campaign", saved.pk)
    else:
        values, tier_rows = _initial(campaign)
        form = CampaignForm(initial=values, **choices)
        tiers = TierFormSet(initial=tier_rows, prefix="tiers", form_kwargs={"welfare_choices": welfare})
    return render(request, "fission/edit.html", {"form": form, "tiers": tiers, "campaign": campaign,
                                                 "tier_errors": tier_errors})


@member_page
def campaign(request: MemberRequest, campaign_id: int) -> HttpResponse:
    services.require_view(request.membership)
    workspace = request.workspace
    found = Campaign.objects.for_workspace(workspace).prefetch_related("accounts").get(pk=campaign_id)
    invites = dict(found.invites.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
    messages_ = {"msg_joined": found.msg_joined, "msg_counted": found.msg_counted, "msg_tier": found.msg_tier}
    findings = services.voice_findings(workspace, [a.pk for a in found.accounts.all()], messages_)
    return render(request, "fission/campaign.html", {
        "campaign": found, "tiers": list(found.tiers.select_related("welfare")),
        "invites": [(s.label, invites.get(s.value, 0), s.value) for s in InviteStatus],
        "participants": found.participants.count(), "leaderboard": services.leaderboard(found, rows=20),
        "warnings": [f for fs in findings.values() for f in fs if not f.is_error],
        "can_edit": services.can_edit(request.membership), "live": found.status == CampaignStatus.LIVE,
        "draft": found.status == CampaignStatus.DRAFT,
        "fan_path": services.notify.page_url(workspace, found) if found.status == CampaignStatus.LIVE else "",
    })


@member_page
@require_POST
def launch(request: MemberRequest, campaign_id: int) -> HttpResponse:
    try:
        services.launch(request.workspace, request.membership, campaign_id)
        messages.success(request, _("The campaign is live."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("fission:campaign", campaign_id)


@member_page
@require_POST
def end(request: MemberRequest, campaign_id: int) -> HttpResponse:
    services.end(request.workspace, request.membership, campaign_id)
    messages.success(request, _("The campaign has ended; its codes will be recycled."))
    return redirect("fission:campaign", campaign_id)


@member_page
def review(request: MemberRequest) -> HttpResponse:
    queue = services.review_queue(request.workspace, request.membership)
    return render(request, "fission/review.html", {"queue": queue, "can_approve": services.can_approve(request.membership)})


@member_page
@require_POST
def decide(request: MemberRequest, claim_id: int) -> HttpResponse:
    form = DecisionForm(request.POST)
    if form.is_valid():
        try:
            if form.cleaned_data["decision"] == "retry":
                services.retry_unfulfilled(request.workspace, request.membership, claim_id)
            else:
                services.decide(request.workspace, request.membership, claim_id,
                                approve=form.cleaned_data["decision"] == "approve", note=form.cleaned_data["note"])
            messages.success(request, _("Decision recorded."))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    return redirect("fission:review")


# --- fans -----------------------------------------------------------------------------------------

@fan_page
def fan_campaign(request: HttpRequest, workspace: Workspace, fan: sessions.FanSession, campaign_id: int) -> HttpResponse:
    """The fan's campaign page: join (POST), then the own code, progress and the leaderboard."""
    found = Campaign.objects.for_workspace(workspace).filter(pk=campaign_id).exclude(
        status=CampaignStatus.DRAFT).first()
    context: dict[str, Any] = {"workspace": workspace, "fan": fan, "tab": "fission", "campaign": found,
                               "persona": mobile_services.persona_of(workspace, fan.customer_id)}
    if found is None:
        return render(request, "fission/fan_campaign.html", context, status=404)
    if fan.customer_id is None:
        return render(request, "fission/fan_campaign.html", {**context, "stranger": True})
    customer = Customer.objects.for_workspace(workspace).get(pk=fan.customer_id)
    participant = Participant.objects.for_workspace(workspace).filter(campaign=found, customer=customer).first()
    problem = ""
    if request.method == "POST" and participant is None:
        try:
            participant, new = services.join(workspace, found, customer, openid=fan.openid)
            if new:
                services.notify_joined(workspace, participant)
        except services.NotEligible as refused:
            problem = refused.reason
    if participant is None:
        return render(request, "fission/fan_campaign.html", {
            **context, "problem": problem, "tiers": list(found.tiers.all()),
            "leaderboard": services.leaderboard(found)})
    if found.status == CampaignStatus.LIVE and not participant.config_id:
        try:
            participant = services.ensure_code(workspace, participant)
        except services.CodeUnavailable:
            problem = _("Your code is being prepared; open this page again in a minute.")
    return render(request, "fission/fan_campaign.html", {
        **context, "problem": problem, "progress": services.progress_of(workspace, participant)})
