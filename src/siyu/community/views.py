"""社群 console pages. Thin: parse, call `community.services`, render; services check roles."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from siyu.accounts.models import StaffAccount
from siyu.community import services
from siyu.community.forms import GroupForm
from siyu.community.models import GroupType, Stage
from siyu.core.permissions import Action, allows, role_of
from siyu.ip.models import Persona
from siyu.sop import services as sop
from siyu.web import MemberRequest, apply_errors, member_page


def _filter(request: MemberRequest) -> services.GroupFilter:
    type_ = request.GET.get("type")
    owner = request.GET.get("owner", "")
    return services.GroupFilter(
        type=type_ if type_ in GroupType.values else None,
        stage=s if (s := request.GET.get("stage", "")) in Stage.values else "",
        owner_id=int(owner) if owner.isdigit() and int(owner) < 2**63 else None,
        q=request.GET.get("q", "").strip()[:100])


@member_page
def home(request: MemberRequest) -> HttpResponse:
    wanted = _filter(request)
    page = services.list_groups(request.workspace, request.membership, wanted, request.GET.get("page") or 1)
    owners = list(StaffAccount.objects.for_workspace(request.workspace).filter(active=True).order_by("userid")
                  .only("pk", "name", "userid"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "community/home.html", {
        "page": page, "wanted": wanted, "types": GroupType.choices, "stages": Stage.choices, "owners": owners,
        "query": query.urlencode(), "can_edit": services.can_edit(request.membership),
        "running": services.running_sync(request.workspace)})


@member_page
@require_POST
def sync(request: MemberRequest) -> HttpResponse:
    try:
        services.start_sync(request.workspace, request.membership)
        messages.success(request, _("Group sync started; the list fills in as it runs."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("community:home")


@member_page
def group(request: MemberRequest, group_id: int) -> HttpResponse:
    found = services.get_group(request.workspace, request.membership, group_id)
    personas = list(Persona.objects.for_workspace(request.workspace).order_by("pk").only("pk", "name"))
    can_edit = services.can_edit(request.membership)
    if request.method == "POST":
        form = GroupForm(request.POST, personas=personas)
        if form.is_valid():
            try:
                services.update_group(request.workspace, request.membership, found.pk, form.edit())
                messages.success(request, _("Group saved."))
                return redirect("community:group", group_id=found.pk)
            except ValidationError as exc:
                apply_errors(form, exc)
    else:
        form = GroupForm(personas=personas, initial={
            "type": found.type, "type_label": found.type_label, "persona": found.persona_id,
            "tags": ", ".join(found.tags)})
    sees_sops = allows(role_of(request.membership) or "", "sop", Action.VIEW)
    enrolled = sop.sops_of_group(request.workspace, found.pk) if sees_sops else []
    waiting = ([s for s in sop.applying_sops(request.workspace, found.pk)
                if s.pk not in {v.sop.pk for v in enrolled}] if sees_sops else [])
    return render(request, "community/group.html", {
        "group": found, "form": form, "can_edit": can_edit, "sees_sops": sees_sops, "group_sops": enrolled,
        "waiting_sops": waiting,
        "members": services.members_page(request.workspace, request.membership, found, request.GET.get("page") or 1),
        "chart": services.growth_chart(request.workspace, found)})


def _pick(data: Any) -> services.GroupPick:
    type_ = data.get("type")
    return services.GroupPick(
        group_ids=[int(i) for i in data.getlist("group") if i.isdigit() and int(i) < 2**63],
        type=type_ if type_ in GroupType.values else None,
        stage=s if (s := data.get("stage", "")) in Stage.values else "", tag=data.get("tag", "").strip()[:12])


@member_page
def mass(request: MemberRequest) -> HttpResponse:
    """群群发: pick groups (type, stage, tag, then tick them), write the message, and plan it; the
    message's page previews the plan (refused by the limit, owners who left) and confirms it."""
    services.require_view(request.membership)
    error = ""
    if request.method == "POST":
        try:
            message = services.plan_group_message(
                request.workspace, request.membership, _pick(request.POST),
                name=request.POST.get("name", ""), text=request.POST.get("text", ""))
            return redirect("messaging:message", message.pk)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        except PermissionDenied:
            error = _("Planning a mass message needs the edit right on mass messages.")
    pick = _pick(request.GET if request.method == "GET" else request.POST)
    listed = services.GroupPick(type=pick.type, stage=pick.stage, tag=pick.tag)
    groups = list(services.picked_groups(request.workspace, listed)[:500])
    chosen = set(pick.group_ids) if request.method == "POST" else {g.pk for g in groups}
    return render(request, "community/mass.html", {
        "groups": groups, "chosen": chosen, "pick": pick, "types": GroupType.choices, "stages": Stage.choices,
        "error": error, "name": request.POST.get("name", ""), "text": request.POST.get("text", "")})
