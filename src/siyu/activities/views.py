"""社群活动 console pages: the list, the plan's editor (with the template library and the last
lessons of the type), the activity (run sheet, live numbers, review) and the community calendar.
Thin: parse, call `activities.services`, render; the services check roles."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_GET, require_POST

from siyu.accounts.models import StaffAccount
from siyu.activities import services
from siyu.activities.forms import (
    BLANK_ROWS,
    ActivityForm,
    ReviewForm,
    budget_of,
    roles_of,
    run_sheet_of,
)
from siyu.activities.models import ActivityStatus, ActivityType
from siyu.community.models import CustomerGroup
from siyu.core.bounds import parse_id
from siyu.core.days import SHANGHAI
from siyu.core.exports import XLSX_CONTENT_TYPE
from siyu.core.permissions import Action
from siyu.segments.models import Segment
from siyu.web import MemberRequest, apply_errors, client_ip, member_page

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
KINDS = {"activity": gettext_lazy("Activities"), "event_sop": gettext_lazy("Event SOPs"),
         "group_sop": gettext_lazy("Group SOPs")}


@member_page
@require_GET
def home(request: MemberRequest) -> HttpResponse:
    status, type_ = request.GET.get("status", ""), request.GET.get("type", "")
    rows = services.list_activities(request.workspace, request.membership, status=status, type=type_)
    return render(request, "activities/home.html", {
        "activities": rows.select_related("segment")[:200], "status": status, "type": type_,
        "statuses": ActivityStatus.choices, "types": ActivityType.choices,
        "library": services.LIBRARY, "can_edit": services.can(request.membership, Action.EDIT)})


def _choices(request: MemberRequest) -> dict[str, Any]:
    ws = request.workspace
    return {
        "groups": list(CustomerGroup.objects.for_workspace(ws).filter(dismissed_at__isnull=True)
                       .order_by("name", "pk").values_list("pk", "name")),
        "segments": list(Segment.objects.for_workspace(ws).order_by("name").values_list("pk", "name")),
        "sops": [(s.pk, s.name) for s in services.event_sops(ws).only("pk", "name")]}


def _rows(values: list[Any], blanks: int = BLANK_ROWS) -> list[Any]:
    return [*values, *([None] * blanks)]


def _initial(plan: services.ActivityInput) -> dict[str, Any]:
    return {"name": plan.name, "type": plan.type, "goal": plan.goal, "starts_at": plan.starts_at,
            "ends_at": plan.ends_at, **{f"target_{k}": v for k, v in plan.targets.items()},
            "group_ids": [str(i) for i in plan.group_ids], "group_types": plan.group_types,
            "group_tags": ", ".join(plan.group_tags), "segment_id": plan.segment_id, "budget": plan.budget,
            "sop_id": plan.sop_id}


def _from_template(key: str) -> services.ActivityInput | None:
    found = services.template(key)
    if found is None:
        return None
    start = (timezone.now().astimezone(SHANGHAI) + dt.timedelta(days=7)).replace(hour=20, minute=0, second=0,
                                                                                    microsecond=0)
    return services.ActivityInput(
        name=found.name, type=found.type, goal=found.goal, starts_at=start, ends_at=start + dt.timedelta(hours=found.hours),
        targets=dict(found.targets), budget=found.budget_total,
        budget_lines=[services.BudgetInput(item, amount) for item, amount in found.budget],
        roles=[services.RoleInput(label, None) for label in found.roles],
        run_sheet=[services.ItemInput(services.format_offset(i.offset_minutes), i.title) for i in found.run_sheet])


@member_page
def editor(request: MemberRequest, activity_id: int | None = None) -> HttpResponse:
    ws, seat = request.workspace, request.membership
    services.require_edit(seat)
    found = services.get_activity(ws, seat, activity_id) if activity_id is not None else None
    choices = _choices(request)
    plan: services.ActivityInput | None = None
    if request.method == "POST":
        form = ActivityForm(request.POST, **choices)
        post: QueryDict = request.POST
        roles, budget, sheet = roles_of(post), budget_of(post), run_sheet_of(post)
        if form.is_valid():
            data = form.to_input(post)
            try:
                if found is None:
                    saved = services.create_activity(ws, seat, data)
                else:
                    saved = services.update_activity(ws, seat, found.pk, data)
                messages.success(request, _("Activity plan saved."))
                return redirect("activities:activity", activity_id=saved.pk)
            except ValidationError as exc:
                apply_errors(form, exc)
    else:
        copy = parse_id(request.GET.get("copy", ""))
        if found is not None:
            plan = services.input_of(found)
        elif copy is not None:
            plan = services.input_of(services.get_activity(ws, seat, copy))
            plan.name = _("%(name)s (copy)") % {"name": plan.name}
        else:
            plan = _from_template(request.GET.get("template", ""))
        form = ActivityForm(initial=_initial(plan) if plan else {"type": ActivityType.KNOWLEDGE}, **choices)
        roles = plan.roles if plan else []
        budget = plan.budget_lines if plan else []
        sheet = plan.run_sheet if plan else []
    type_ = form["type"].value() or ActivityType.KNOWLEDGE
    staff = list(StaffAccount.objects.for_workspace(ws).filter(active=True).order_by("userid").only("pk", "name", "userid"))
    return render(request, "activities/editor.html", {
        "form": form, "activity": found, "staff": staff, "roles": _rows(roles), "budget_lines": _rows(budget),
        "run_sheet": _rows(sheet, 5), "library": services.LIBRARY,
        "lessons": services.last_lessons(ws, str(type_), exclude_id=found.pk if found else None),
        "problems": {name: form.errors.get(name, []) for name in ("roles", "budget_lines", "run_sheet")}})


@member_page
@require_GET
def activity(request: MemberRequest, activity_id: int) -> HttpResponse:
    ws, seat = request.workspace, request.membership
    found = services.get_activity(ws, seat, activity_id)
    numbers = services.numbers_of(ws, found)
    return render(request, "activities/activity.html", {
        "activity": found, "numbers": numbers, "by_group": services.numbers_by_group(ws, found),
        "review": services.review_rows(found, numbers),
        "budget_used": sum((b.amount for b in found.budget_lines.all()), 0),
        "review_form": ReviewForm(initial={"worked": found.worked, "did_not_work": found.did_not_work,
                                           "lessons": "\n".join(lesson.text for lesson in found.lessons.all())}),
        "lessons": services.last_lessons(ws, found.type, exclude_id=found.pk) if found.status == "planned" else None,
        "can_edit": services.can(seat, Action.EDIT), "can_export": services.can(seat, Action.EXPORT)})


@member_page
@require_POST
def move(request: MemberRequest, activity_id: int, to: str) -> HttpResponse:
    try:
        services.move(request.workspace, request.membership, activity_id, to)
        messages.success(request, _("Activity updated."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("activities:activity", activity_id=activity_id)


@member_page
@require_POST
def make_sop(request: MemberRequest, activity_id: int) -> HttpResponse:
    try:
        sop = services.create_event_sop(request.workspace, request.membership, activity_id)
        messages.success(request, _("Draft event SOP “%(name)s” made from the run sheet: check it and activate it.")
                         % {"name": sop.name})
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("activities:activity", activity_id=activity_id)


@member_page
@require_POST
def tick(request: MemberRequest, activity_id: int, item_id: int) -> HttpResponse:
    try:
        services.tick(request.workspace, request.membership, activity_id, item_id, request.POST.get("done") == "1")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect(reverse("activities:activity", args=[activity_id]) + "#run-sheet")


@member_page
@require_POST
def review(request: MemberRequest, activity_id: int) -> HttpResponse:
    form = ReviewForm(request.POST)
    if form.is_valid():
        try:
            services.save_review(request.workspace, request.membership, activity_id, worked=form.cleaned_data["worked"],
                                 did_not_work=form.cleaned_data["did_not_work"], lessons=form.lesson_list())
            messages.success(request, _("Review saved."))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect("activities:activity", activity_id=activity_id)


@member_page
@require_GET
def export(request: MemberRequest, activity_id: int) -> HttpResponse:
    found = services.export_review(request.workspace, request.membership, activity_id, ip_address=client_ip(request))
    response = HttpResponse(found.content, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, found.filename)
    response["Cache-Control"] = "private, no-store"
    return response


def _month(text: str) -> tuple[int, int]:
    today = timezone.now().astimezone(SHANGHAI).date()
    try:
        year, month = (int(part) for part in text.split("-", 1))
    except ValueError:
        return today.year, today.month
    return (year, month) if 1900 < year < 2999 and 1 <= month <= 12 else (today.year, today.month)


@member_page
@require_GET
def calendar(request: MemberRequest) -> HttpResponse:
    year, month = _month(request.GET.get("month", ""))
    group_id = parse_id(request.GET.get("group", ""))
    kind = k if (k := request.GET.get("kind", "")) in KINDS else ""
    found = services.month_view(request.workspace, request.membership, year, month, group_id=group_id, kind=kind)
    groups = list(CustomerGroup.objects.for_workspace(request.workspace).filter(dismissed_at__isnull=True)
                  .order_by("name", "pk").values_list("pk", "name"))
    return render(request, "activities/calendar.html", {
        "month": found, "groups": groups, "group_id": group_id, "kind": kind, "kinds": KINDS.items(),
        "today": timezone.now().astimezone(SHANGHAI).date(), "weekdays": [pgettext("weekday", d) for d in WEEKDAYS]})

