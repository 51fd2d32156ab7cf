"""客诉 pages: the console's list, new complaint, one complaint with both lines, analytics (under
community/complaints/), and the fans' complaint page (/m/<brand>/fan/complaint/). Thin: parse,
call `complaints.services`, render."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from siyu.community.models import CustomerGroup, GroupMember
from siyu.complaints import services
from siyu.complaints.forms import ComplaintForm, FanComplaintForm, NoteForm
from siyu.complaints.models import Channel, Complaint, Status
from siyu.core import bounds
from siyu.core.models import Workspace
from siyu.customers.models import Customer
from siyu.mobile import services as mobile_services
from siyu.mobile import sessions
from siyu.mobile.views import fan_page
from siyu.web import MemberRequest, apply_errors, member_page

LIST_ROWS = 100
FAN_ROWS = 10


def _groups(workspace: Workspace) -> list[tuple[int | str, str]]:
    return list(CustomerGroup.objects.for_workspace(workspace).filter(dismissed_at__isnull=True)
                .order_by("name").values_list("pk", "name"))


@member_page
def home(request: MemberRequest) -> HttpResponse:
    services.require_view(request.membership)
    services.sync_from_tasks(request.workspace)
    status = request.GET.get("status", "")
    rows = services.list_complaints(request.workspace, request.membership, status)[:LIST_ROWS]
    return render(request, "complaints/home.html", {"rows": rows, "status": status, "statuses": Status.choices,
                                                    "can_edit": services.can_edit(request.membership), "tab": "list"})


@member_page
def new(request: MemberRequest) -> HttpResponse:
    services.require_view(request.membership)
    workspace = request.workspace
    form = ComplaintForm(request.POST or None, group_choices=_groups(workspace))
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        customer_id = (Customer.objects.for_workspace(workspace).filter(external_userid=d["customer"].strip())
                       .values_list("pk", flat=True).first()) if d["customer"] else None
        try:
            if d["customer"] and customer_id is None:
                raise ValidationError({"customer": [_("No such customer.")]})
            complaint = services.open_complaint(workspace, request.membership, services.ComplaintInput(
                d["text"], customer_id, d["group"], d["channel"]))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Complaint opened: both lines have their tasks."))
            return redirect("complaints:detail", complaint.pk)
    return render(request, "complaints/new.html", {"form": form, "tab": "list"})


@member_page
def detail(request: MemberRequest, complaint_id: int) -> HttpResponse:
    services.sync_from_tasks(request.workspace)
    complaint = services.get_complaint(request.workspace, request.membership, complaint_id)
    return render(request, "complaints/detail.html", {
        "c": complaint, "tasks": services.tasks_of(request.workspace, complaint), "form": NoteForm(),
        "can_edit": services.can_edit(request.membership), "tab": "list"})


@member_page
@require_POST
def act(request: MemberRequest, complaint_id: int, action: str) -> HttpResponse:
    note = request.POST.get("note", "")[:300]
    try:
        if action == "ack":
            services.acknowledge(request.workspace, request.membership, complaint_id, note)
        elif action == "resolve":
            services.resolve(request.workspace, request.membership, complaint_id, note)
        elif action == "close":
            services.close(request.workspace, request.membership, complaint_id, note)
        else:
            raise Complaint.DoesNotExist
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("complaints:detail", complaint_id)


@member_page
def analytics(request: MemberRequest) -> HttpResponse:
    days = bounds.parse_id(request.GET.get("days")) or 30
    stats = services.complaint_stats(request.workspace, request.membership, days if days in (7, 30, 90) else 30)
    return render(request, "complaints/analytics.html", {
        "stats": stats, "tab": "analytics",
        "chart_empty": "" if stats.total else _("No complaints in this period.")})


# --- fans -----------------------------------------------------------------------------------------

@fan_page
def fan_complaint(request: HttpRequest, workspace: Workspace, fan: sessions.FanSession) -> HttpResponse:
    """投诉与建议: a fan tells the brand what went wrong (optionally in which of their groups),
    and sees their complaints and where each stands."""
    context: dict[str, Any] = {"workspace": workspace, "fan": fan, "tab": "me",
                               "persona": mobile_services.persona_of(workspace, fan.customer_id)}
    if fan.customer_id is None:
        return render(request, "mobile/fan_join.html", {**context, "join": mobile_services.join_way(workspace)})
    groups = list(CustomerGroup.objects.for_workspace(workspace).filter(
        dismissed_at__isnull=True, pk__in=GroupMember.objects.for_workspace(workspace).filter(
            customer_id=fan.customer_id, left_at__isnull=True).values("group_id")).order_by("name"))
    problem = notice = ""
    if request.method == "POST":
        form = FanComplaintForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            group_id = d["group"] if d["group"] in {g.pk for g in groups} else None
            try:
                services.open_complaint(workspace, None, services.ComplaintInput(
                    d["text"], fan.customer_id, group_id, Channel.FAN), key=d["key"] or "")
            except ValidationError as exc:
                problem = " ".join(exc.messages)
            else:
                notice = _("Thank you. We have your complaint and will contact you soon.")
        else:
            problem = _("Please write what went wrong.")
    mine = Complaint.objects.for_workspace(workspace).filter(customer_id=fan.customer_id)[:FAN_ROWS]
    return render(request, "complaints/fan_complaint.html", {
        **context, "groups": groups, "mine": mine, "problem": problem, "notice": notice,
        "key": secrets.token_urlsafe(16)})
