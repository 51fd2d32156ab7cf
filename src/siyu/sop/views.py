"""SOP console pages: the list, the editor, a SOP's per-step ledger, and the task centre's
"today" view. Thin: parse, call `sop.services`, render; the services check roles."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from siyu.core.permissions import Action, allows, role_of
from siyu.ip.models import Persona
from siyu.segments.models import Segment
from siyu.sop import services
from siyu.sop.forms import OutcomeForm, SkipForm, SnoozeForm, SopForm, StepFormSet
from siyu.sop.models import SopStatus, SopStep
from siyu.tags.models import Tag
from siyu.web import MemberRequest, apply_errors, member_page


def _may_edit(request: MemberRequest) -> bool:
    return allows(role_of(request.membership) or "", "sop", Action.EDIT)


@member_page
def home(request: MemberRequest) -> HttpResponse:
    rows = services.list_sops(request.workspace, request.membership)[:200]
    return render(request, "sop/home.html", {"rows": rows, "can_edit": _may_edit(request)})


def _choices(request: MemberRequest) -> dict[str, Any]:
    tags = list(Tag.objects.for_workspace(request.workspace).filter(deleted_at=None).order_by("name")
                .values_list("pk", "name"))
    segments = list(Segment.objects.for_workspace(request.workspace).order_by("name").values_list("pk", "name"))
    return {"tags": tags, "segments": segments}


def _personas(request: MemberRequest) -> list[tuple[int, str]]:
    return list(Persona.objects.for_workspace(request.workspace).order_by("name").values_list("pk", "name"))


def _initial(sop: Any, steps: list[SopStep]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    head = {"name": sop.name, "kind": sop.kind, "trigger": sop.trigger,
            "channel_states": ", ".join(sop.channel_states), "tag_id": sop.tag_id, "segment_id": sop.segment_id,
            "delay_days": sop.delay_days, "quiet_start": sop.quiet_start, "quiet_end": sop.quiet_end,
            "working_days_only": sop.working_days_only, "stage": sop.stage, "at_time": sop.at_time,
            "schedule_weekday": sop.schedule_weekday, "schedule_date": sop.schedule_date, "event_at": sop.event_at,
            "group_type": sop.group_type, "group_tag": sop.group_tag, "member_count": sop.member_count}
    rows = [{"timing": s.timing, "days": s.days, "hours": s.hours, "at_time": s.at_time, "absolute_at": s.absolute_at,
             "repeat_every_days": s.repeat_every_days, "repeat_times": s.repeat_times, "channel": s.channel,
             "task_kind": s.task_kind, "text": s.text, "not_tag_id": (s.not_tag_ids or [None])[0], "stage": s.stage,
             "window_hours": s.window_hours, "persona_id": s.persona_id} for s in steps]
    return head, rows


@member_page
def editor(request: MemberRequest, sop_id: int | None = None) -> HttpResponse:
    choices = _choices(request)
    step_choices = {"tags": choices["tags"], "personas": _personas(request)}
    sop = services.get_sop(request.workspace, request.membership, sop_id) if sop_id else None
    if request.method == "POST":
        form = SopForm(request.POST, **choices)
        steps = StepFormSet(request.POST, form_kwargs=step_choices)
        if form.is_valid() and steps.is_valid():
            step_inputs = [f.to_input() for f in steps if not f.blank()]
            try:
                if sop is None:
                    sop = services.create_sop(request.workspace, request.membership, form.to_input(), step_inputs)
                else:
                    services.edit_sop(request.workspace, request.membership, sop.pk, form.to_input(), step_inputs,
                                      migrate=form.cleaned_data["migrate"])
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("SOP saved."))
                return redirect("sop:detail", sop.pk)
    else:
        head, rows = _initial(sop, list(SopStep.objects.for_workspace(request.workspace)
                                        .filter(version_id=sop.current_version_id))) if sop else ({}, [])
        services.editing.require_edit(request.membership)
        form = SopForm(initial=head or None, **choices)
        steps = StepFormSet(initial=rows or None, form_kwargs=step_choices)
    return render(request, "sop/editor.html", {"form": form, "steps": steps, "sop": sop})


@member_page
def detail(request: MemberRequest, sop_id: int) -> HttpResponse:
    sop = services.get_sop(request.workspace, request.membership, sop_id)
    report = services.step_report(request.workspace, request.membership, sop)
    moves = services.editing.ALLOWED
    return render(request, "sop/detail.html", {
        "sop": sop, "report": report, "can_edit": _may_edit(request),
        "moves": [(s, SopStatus(s).label) for s, sources in moves.items() if sop.status in sources]})


@require_POST
@member_page
def change_status(request: MemberRequest, sop_id: int) -> HttpResponse:
    try:
        services.set_status(request.workspace, request.membership, sop_id, request.POST.get("status", ""))
    except (ValidationError, ValueError) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    return redirect("sop:detail", sop_id)


@member_page
def today(request: MemberRequest) -> HttpResponse:
    everyone = request.GET.get("all") == "1"
    tasks = services.today_tasks(request.workspace, request.membership, everyone=everyone)[:200]
    return render(request, "sop/today.html", {
        "tasks": tasks, "everyone": everyone, "can_edit": _may_edit(request),
        "outcome": OutcomeForm(), "snooze": SnoozeForm(), "skip": SkipForm()})


@require_POST
@member_page
def task_action(request: MemberRequest, task_id: int, action: str) -> HttpResponse:
    form_class: Any = {"done": OutcomeForm, "snooze": SnoozeForm, "skip": SkipForm}.get(action)
    if form_class is None:
        raise Http404
    form = form_class(request.POST)
    if not form.is_valid():
        messages.error(request, _("Check the form: %(errors)s") % {"errors": " ".join(
            str(e) for errors in form.errors.values() for e in errors)})
        return redirect("sop:today")
    d = form.cleaned_data
    try:
        if action == "done":
            services.complete_task(request.workspace, request.membership, task_id, d["outcome"])
        elif action == "snooze":
            services.snooze_task(request.workspace, request.membership, task_id, d["hours"])
        else:
            services.skip_task(request.workspace, request.membership, task_id, d["reason"])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Task updated."))
    return redirect("sop:today")
