"""群发 console pages. Thin: parse the form, call `messaging.services`, render; services check roles."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from siyu.core.exports import XLSX_CONTENT_TYPE
from siyu.core.permissions import Action, allows, role_of
from siyu.messaging import services
from siyu.messaging.forms import MessageForm, RescheduleForm, SettingsForm
from siyu.messaging.models import MassStatus
from siyu.segments.models import Segment
from siyu.tags.models import Tag
from siyu.web import MemberRequest, apply_errors, member_page

SESSION_CUSTOMERS = "messaging_customer_ids"
CHOSEN_MAX = 10_000


def _may(request: MemberRequest, action: Action) -> bool:
    return allows(role_of(request.membership) or "", "messaging", action)


@member_page
def home(request: MemberRequest) -> HttpResponse:
    rows = services.list_messages(request.workspace, request.membership)[:200]
    return render(request, "messaging/home.html", {"rows": rows, "can_edit": _may(request, Action.EDIT)})


def _choices(request: MemberRequest) -> dict[str, Any]:
    segments = list(Segment.objects.for_workspace(request.workspace).order_by("name").values_list("pk", "name"))
    groups: dict[str, list[tuple[str, str]]] = {}
    for pk, name, group in (Tag.objects.for_workspace(request.workspace).filter(deleted_at__isnull=True)
                            .order_by("group__order", "group_id", "order", "pk").values_list("pk", "name", "group__name")):
        groups.setdefault(group, []).append((str(pk), name))
    templates = [(t.pk, t.name) for t in services.templates_for_mass(request.workspace, request.membership)]
    return {"segments": segments, "tags": list(groups.items()), "templates": templates}


def _fill(request: MemberRequest, kwargs: dict[str, Any]) -> tuple[MessageForm, list[Any]]:
    """"Fill from the template": the form again with the template's text and links, and the
    voice check of the filled text; nothing is planned."""
    raw = request.POST.get("template", "")
    data = request.POST.copy()
    try:
        filled = services.fill_template(
            request.workspace, request.membership, int(raw) if raw.isdigit() else None,
            welfare=request.POST.get("welfare", ""), event_date=request.POST.get("event_date", ""))
    except ValidationError as exc:
        form = MessageForm(data, **kwargs)
        form.is_valid()
        form.errors.clear()  # only the template's problem is shown: the planner has not planned yet
        apply_errors(form, exc)
        return form, []
    data["text"], data["links"] = filled.text, filled.links
    return MessageForm(data, **kwargs), filled.findings


@member_page
def new(request: MemberRequest) -> HttpResponse:
    services.planning.require_edit(request.membership)
    chosen: list[int] = request.session.get(SESSION_CUSTOMERS) or []
    kwargs = _choices(request) | {"chosen_customers": len(chosen)}
    findings: list[Any] = []
    if request.method == "POST" and "fill" in request.POST:
        form, findings = _fill(request, kwargs)
    elif request.method == "POST":
        form = MessageForm(request.POST, **kwargs)
        if form.is_valid():
            d = form.cleaned_data
            data = services.MessageInput(
                name=d["name"], target_kind=d["target_kind"], segment_id=d["segment"],
                tag_ids=[int(t) for t in d["tags"] if str(t).isdigit()], customer_ids=chosen,
                text=d["text"], attachments=d["links"], allow_select=d["allow_select"], send_at=d["send_at"],
                template_ref=d["template"])
            try:
                message = services.plan_message(request.workspace, request.membership, data)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                request.session.pop(SESSION_CUSTOMERS, None)
                return redirect("messaging:message", message_id=message.pk)
    else:
        initial = {"target_kind": "customers"} if chosen else {}
        form = MessageForm(initial=initial, **kwargs)
    return render(request, "messaging/new.html", {"form": form, "chosen": len(chosen), "findings": findings})


@member_page
def detail(request: MemberRequest, message_id: int) -> HttpResponse:
    workspace, seat = request.workspace, request.membership
    message = services.get_message(workspace, seat, message_id)
    context: dict[str, Any] = {
        "message": message, "can_edit": _may(request, Action.EDIT), "can_export": _may(request, Action.EXPORT),
        "progress": services.progress(workspace, seat, message),
    }
    if message.status == MassStatus.DRAFT:
        context |= {
            "summary": services.summary(workspace, seat, message),
            "refused": services.refused_page(workspace, seat, message, _page(request)),
            "reschedule_form": RescheduleForm(initial={"send_at": message.send_at and timezone.localtime(message.send_at)}),
        }
    return render(request, "messaging/detail.html", context)


def _page(request: MemberRequest) -> int:
    raw = request.GET.get("page", "1")
    return int(raw) if raw.isdigit() and len(raw) < 7 else 1


@member_page
def progress_part(request: MemberRequest, message_id: int) -> HttpResponse:
    """The progress card alone, for the page's periodic refresh (HTMX)."""
    message = services.get_message(request.workspace, request.membership, message_id)
    return render(request, "messaging/_progress.html", {
        "message": message, "progress": services.progress(request.workspace, request.membership, message)})


def _act(request: MemberRequest, message_id: int, action: Any, done: str) -> HttpResponse:
    try:
        action(request.workspace, request.membership, message_id)
    except ValidationError as exc:
        for text in exc.messages:
            messages.error(request, text)
    else:
        messages.success(request, done)
    return redirect("messaging:message", message_id=message_id)


@member_page
@require_POST
def confirm(request: MemberRequest, message_id: int) -> HttpResponse:
    return _act(request, message_id, services.confirm_message, _("Confirmed: it goes out at its time."))


@member_page
@require_POST
def remind(request: MemberRequest, message_id: int) -> HttpResponse:
    return _act(request, message_id, services.remind_message, _("The senders who have not sent it were reminded."))


@member_page
@require_POST
def cancel(request: MemberRequest, message_id: int) -> HttpResponse:
    return _act(request, message_id, services.cancel_message, _("Cancelled."))


@member_page
@require_POST
def reschedule(request: MemberRequest, message_id: int) -> HttpResponse:
    form = RescheduleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the time as a date and a time."))
        return redirect("messaging:message", message_id=message_id)
    return _act(request, message_id,
                lambda ws, seat, pk: services.reschedule(ws, seat, pk, form.when()),
                _("Planned again for the new time."))


@member_page
def export(request: MemberRequest, message_id: int) -> HttpResponse:
    message = services.get_message(request.workspace, request.membership, message_id)
    content = services.export_results(request.workspace, request.membership, message)
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="mass-message-{message.pk}-results.xlsx"'
    return response


@member_page
def settings_page(request: MemberRequest) -> HttpResponse:
    workspace, seat = request.workspace, request.membership
    current = services.get_settings(workspace, seat)
    if request.method == "POST":
        form = SettingsForm(request.POST)
        if form.is_valid():
            try:
                services.update_settings(workspace, seat, budget_rule=form.cleaned_data["budget_rule"],
                                         reminder_minutes=form.cleaned_data["reminder_minutes"])
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Settings saved."))
                return redirect("messaging:settings")
    else:
        form = SettingsForm(initial={"budget_rule": current.budget_rule,
                                     "reminder_minutes": ", ".join(str(m) for m in current.reminder_minutes)})
    return render(request, "messaging/settings.html", {"form": form, "can_edit": _may(request, Action.EDIT)})


def start_for_customers(request: MemberRequest, customer_ids: list[int], back: str) -> HttpResponse:
    """The customer list's "Mass message" action: the checked customers become the target."""
    services.planning.require_edit(request.membership)
    request.session[SESSION_CUSTOMERS] = [int(i) for i in customer_ids][:CHOSEN_MAX]
    return redirect("messaging:new")
