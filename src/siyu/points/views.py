"""积分 console pages (under 社群): the check-in plan and expiry rule, rewards, the ledger with
manual adjustments, and goods to ship. Thin: parse, call `points.services`, render."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from siyu.channels.models import Welfare
from siyu.community.models import CustomerGroup
from siyu.customers.models import Customer
from siyu.points import services
from siyu.points.forms import AdjustForm, BoardFilter, LedgerFilter, PlanForm, RewardForm, RuleForm
from siyu.points.models import (
    CaseState,
    EliminationCase,
    EliminationRound,
    GroupRule,
    Period,
    PointsEntry,
    Redemption,
    RedemptionState,
    Reward,
    WaitlistEntry,
    WaitState,
)
from siyu.web import MemberRequest, apply_errors, member_page

LEDGER_PAGE = 50


@member_page
def home(request: MemberRequest) -> HttpResponse:
    services.require_view(request.membership)
    workspace = request.workspace
    return render(request, "points/home.html", {
        "plan": services.plan_of(workspace), "policy": services.policy_of(workspace),
        "rewards": list(Reward.objects.for_workspace(workspace).select_related("welfare")),
        "to_ship": list(Redemption.objects.for_workspace(workspace).filter(state=RedemptionState.TO_SHIP)
                        .select_related("reward", "customer")[:50]),
        "can_edit": services.can_edit(request.membership)})


@member_page
def plan(request: MemberRequest) -> HttpResponse:
    services.require_edit(request.membership)
    workspace = request.workspace
    current, policy = services.plan_of(workspace), services.policy_of(workspace)
    if request.method == "POST":
        form = PlanForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            try:
                tiers = services.parse_tiers(d["tiers"])
                services.save_plan(workspace, request.membership, services.PlanInput(
                    d["name"], d["mode"], d["daily_points"], tiers, d["make_up_cards"], d["active"]))
                services.save_policy(workspace, request.membership, d["expiry"], d["expire_days"])
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Check-in plan saved."))
                return redirect("points:home")
    else:
        form = PlanForm(initial={
            "name": current.name if current else _("Daily check-in"), "mode": current.mode if current else "streak",
            "daily_points": current.daily_points if current else 5,
            "tiers": services.tiers_text(current) if current else "3:20, 7:50",
            "make_up_cards": current.make_up_cards if current else 0, "active": current.active if current else True,
            "expiry": policy.expiry, "expire_days": policy.expire_days})
    return render(request, "points/plan.html", {"form": form, "plan": current})


def _welfare_choices(request: MemberRequest) -> list[tuple[int, str]]:
    return list(Welfare.objects.for_workspace(request.workspace).order_by("name").values_list("pk", "name"))


@member_page
def reward(request: MemberRequest, reward_id: int | None = None) -> HttpResponse:
    services.require_edit(request.membership)
    found = Reward.objects.for_workspace(request.workspace).get(pk=reward_id) if reward_id else None
    choices = _welfare_choices(request)
    if request.method == "POST":
        form = RewardForm(request.POST, welfare_choices=choices)
        if form.is_valid():
            d = form.cleaned_data
            try:
                services.save_reward(request.workspace, request.membership, services.RewardInput(
                    d["name"], d["kind"], d["cost"], d["welfare"], d["stock"], d["active"]), reward_id)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Reward saved."))
                return redirect("points:home")
    else:
        form = RewardForm(welfare_choices=choices, initial=(
            {"name": found.name, "kind": found.kind, "cost": found.cost, "welfare": found.welfare_id,
             "stock": found.stock, "active": found.active} if found else {"kind": "welfare", "active": True}))
    return render(request, "points/reward.html", {"form": form, "reward": found})


@member_page
def ledger(request: MemberRequest) -> HttpResponse:
    services.require_view(request.membership)
    workspace = request.workspace
    filters = LedgerFilter(request.GET or None)
    wanted = filters.cleaned_data if filters.is_valid() else {}
    customer_id = wanted.get("customer")
    customer = Customer.objects.for_workspace(workspace).filter(pk=customer_id).first() if customer_id else None
    q = services.entries_of(workspace, customer_id=customer.pk if customer else None, source=wanted.get("source") or "",
                            since=wanted.get("since"), until=wanted.get("until"))
    rows = PointsEntry.objects.for_workspace(workspace).filter(q).select_related("customer", "actor")
    page = Paginator(rows, LEDGER_PAGE).get_page(request.GET.get("page"))
    return render(request, "points/ledger.html", {
        "filters": filters, "page": page, "customer": customer,
        "balance": services.balance_of(workspace, customer.pk) if customer else None,
        "adjust": AdjustForm(initial={"customer": customer.pk}) if customer and services.can_adjust(request.membership) else None,
        "query": request.GET.urlencode()})


@member_page
@require_POST
def adjust(request: MemberRequest) -> HttpResponse:
    services.require_adjust(request.membership)
    form = AdjustForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.adjust(request.workspace, request.membership, d["customer"], d["amount"], d["reason"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        except services.PointsError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Points adjusted."))
        return redirect(f"{reverse('points:ledger')}?customer={d['customer']}")
    messages.error(request, _("Check the amount and the reason."))
    return redirect("points:ledger")


@member_page
@require_POST
def shipped(request: MemberRequest, redemption_id: int) -> HttpResponse:
    services.mark_shipped(request.workspace, request.membership, redemption_id)
    messages.success(request, _("Marked as shipped."))
    return redirect("points:home")


# --- groups: leaderboards, 积分淘汰 and 人员定额 ----------------------------------------------------

GROUP_SEARCH_ROWS = 20


@member_page
def groups(request: MemberRequest) -> HttpResponse:
    """Groups with a points rule, and a search to open any group's board and rule."""
    services.require_view(request.membership)
    workspace = request.workspace
    q = request.GET.get("q", "").strip()[:100]
    found = (list(CustomerGroup.objects.for_workspace(workspace).filter(dismissed_at__isnull=True, name__icontains=q)
                  .order_by("-member_count", "pk")[:GROUP_SEARCH_ROWS]) if q else [])
    waiting = dict(WaitlistEntry.objects.for_workspace(workspace).filter(state=WaitState.WAITING)
                   .values("group_id").annotate(n=Count("pk")).values_list("group_id", "n"))
    rules = list(GroupRule.objects.for_workspace(workspace).select_related("group").order_by("group__name", "pk"))
    for rule in rules:
        rule.waiting = waiting.get(rule.group_id, 0)  # type: ignore[attr-defined]
    return render(request, "points/groups.html", {"rules": rules, "found": found, "q": q})


@member_page
def group(request: MemberRequest, group_id: int) -> HttpResponse:
    """One group: its leaderboard for a period, its rule (edit), its waiting list and recent rounds."""
    services.require_view(request.membership)
    workspace = request.workspace
    filters = BoardFilter(request.GET or None)
    wanted = filters.cleaned_data if filters.is_valid() else {}
    found = services.board(workspace, request.membership, group_id, wanted.get("period") or Period.WEEK,
                           wanted.get("day"))
    rule = services.rule_of(workspace, group_id)
    can_edit = services.can_edit(request.membership)
    form = None
    if can_edit:
        if request.method == "POST":
            form = RuleForm(request.POST)
            if form.is_valid():
                d = form.cleaned_data
                try:
                    services.save_rule(workspace, request.membership, group_id, services.RuleInput(
                        d["period"], d["mode"], d["threshold"], d["bottom_percent"], d["warning_days"],
                        d["forfeit_points"], d["seat_limit"], d["invite_hours"], d["active"]))
                except ValidationError as exc:
                    apply_errors(form, exc)
                else:
                    messages.success(request, _("Group rule saved."))
                    return redirect("points:group", group_id=group_id)
        else:
            defaults = services.RuleInput()
            form = RuleForm(initial={name: getattr(rule or defaults, name) for name in (
                "period", "mode", "threshold", "bottom_percent", "warning_days", "forfeit_points", "seat_limit",
                "invite_hours", "active")})
    elif request.method == "POST":
        services.require_edit(request.membership)
    line = list(WaitlistEntry.objects.for_workspace(workspace)
                .filter(group_id=group_id, state__in=(WaitState.WAITING, WaitState.INVITED))
                .select_related("customer").order_by("queued_at", "pk")[:100])
    rounds = list(EliminationRound.objects.for_workspace(workspace).filter(rule__group_id=group_id)[:6])
    tally: dict[int, dict[str, int]] = {}
    for round_id, state, n in (EliminationCase.objects.for_workspace(workspace).filter(round__in=rounds)
                               .values("round_id", "state").annotate(n=Count("pk")).values_list("round_id", "state", "n")):
        tally.setdefault(round_id, {})[state] = n
    for r in rounds:
        r.tally = [(label, tally.get(r.pk, {}).get(value, 0)) for value, label in CaseState.choices]  # type: ignore[attr-defined]
    return render(request, "points/group.html", {
        "board": found, "filters": filters, "rule": rule, "form": form, "line": line, "rounds": rounds,
        "periods": Period.choices, "period": found.span.kind})
