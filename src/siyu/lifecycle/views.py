"""生命周期与超级用户 console pages: the ops lead's figures and stage funnel, the policy form, the
angel users (天使用户) and "recompute now". Thin: call `lifecycle.services`, render; services
check roles."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from siyu.lifecycle import services
from siyu.lifecycle.forms import PolicyForm
from siyu.lifecycle.services.policy import policy_values
from siyu.web import MemberRequest, apply_errors, member_page

HOME_ANGELS = 20


@member_page
def home(request: MemberRequest) -> HttpResponse:
    workspace, seat = request.workspace, request.membership
    kpis = services.lifecycle_kpis(workspace, seat)
    chart = {"labels": [s.label for s in kpis.stages], "counts": [s.count for s in kpis.stages]}
    return render(request, "lifecycle/home.html", {
        "kpis": kpis, "chart": chart, "angels": services.angel_users(workspace, seat, limit=HOME_ANGELS),
        "policy": services.get_policy(workspace, seat), "can_edit": services.can_edit(seat),
    })


@member_page
def policy(request: MemberRequest) -> HttpResponse:
    workspace, seat = request.workspace, request.membership
    if request.method == "POST":
        services.policy_for_editing(workspace, seat)
        form = PolicyForm(request.POST)
        if form.is_valid():
            try:
                services.update_policy(workspace, seat, form.values())
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Lifecycle rules saved; every customer is being recomputed."))
                return redirect("lifecycle:home")
    else:
        current = services.get_policy(workspace, seat)
        form = PolicyForm(initial=policy_values(current), read_only=not services.can_edit(seat))
    return render(request, "lifecycle/policy.html", {"form": form, "can_edit": services.can_edit(seat)})


@member_page
def angels(request: MemberRequest) -> HttpResponse:
    workspace, seat = request.workspace, request.membership
    return render(request, "lifecycle/angels.html", {
        "angels": services.angel_users(workspace, seat), "policy": services.get_policy(workspace, seat),
    })


@member_page
@require_POST
def recompute(request: MemberRequest) -> HttpResponse:
    services.request_recompute(request.workspace, request.membership)
    messages.success(request, _("Recompute queued: stages, scores and angel users update in a moment."))
    return redirect("lifecycle:home")
