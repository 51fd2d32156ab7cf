"""品牌IP console pages. Thin: parse the form, call `ip.services`, render; services check roles."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from siyu.ip import services
from siyu.ip.forms import PersonaForm, PortraitForm
from siyu.ip.models import Persona
from siyu.web import MemberRequest, apply_errors, member_page, private_file


@member_page
def home(request: MemberRequest) -> HttpResponse:
    workspace, seat = request.workspace, request.membership
    cards = services.list_personas(workspace, seat)
    portrait = services.portrait_of(workspace, seat)
    return render(request, "ip/home.html", {
        "cards": cards,
        "portrait_completeness": services.portrait_completeness(portrait),
        "can_edit": services.can_edit(seat),
    })


@member_page
def persona_detail(request: MemberRequest, persona_id: int) -> HttpResponse:
    persona = services.get_persona(request.workspace, request.membership, persona_id)
    return render(request, "ip/persona_detail.html", {
        "persona": persona,
        "completeness": services.persona_completeness(persona),
        "can_edit": services.can_edit(request.membership),
        "accounts": persona.accounts.filter(active=True).order_by("name", "userid"),  # the 企微号 embodying it
    })


def _persona_form_page(request: MemberRequest, persona_id: int | None) -> HttpResponse:
    workspace, seat = request.workspace, request.membership
    persona: Persona | None = services.persona_for_editing(workspace, seat, persona_id)
    parents = services.parent_options(workspace, seat, persona)
    if request.method == "POST":
        form = PersonaForm(request.POST, request.FILES, parents=parents)
        if form.is_valid():
            try:
                saved = services.save_persona(workspace, seat, form.to_input(), form.cleaned_data["avatar"], persona_id)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Persona “%(name)s” saved.") % {"name": saved.name})
                return redirect("ip:persona", persona_id=saved.pk)
    else:
        form = PersonaForm(initial=PersonaForm.initial_from(persona) if persona else None, parents=parents)
    return render(request, "ip/persona_form.html", {"form": form, "persona": persona})


@member_page
def persona_new(request: MemberRequest) -> HttpResponse:
    return _persona_form_page(request, None)


@member_page
def persona_edit(request: MemberRequest, persona_id: int) -> HttpResponse:
    return _persona_form_page(request, persona_id)


@member_page
@require_GET
def avatar(request: MemberRequest, persona_id: int) -> FileResponse:
    """Avatars are private to their brand: streamed here after the seat and workspace checks,
    never from a public media URL."""
    handle, content_type = services.avatar_file(request.workspace, request.membership, persona_id)
    return private_file(handle, content_type)


@member_page
def portrait(request: MemberRequest) -> HttpResponse:
    workspace, seat = request.workspace, request.membership
    current = services.portrait_of(workspace, seat)
    can_edit = services.can_edit(seat)
    if request.method == "POST":
        form = PortraitForm(request.POST)
        if form.is_valid():
            try:
                services.save_portrait(workspace, seat, form.to_input())
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Self-portrait saved."))
                return redirect("ip:portrait")
    else:
        form = PortraitForm(initial=PortraitForm.initial_from(current), read_only=not can_edit)
    return render(request, "ip/portrait.html", {
        "form": form,
        "completeness": services.portrait_completeness(current),
        "review_count": services.review_count(current),
        "can_edit": can_edit,
    })


@member_page
def matrix(request: MemberRequest) -> HttpResponse:
    workspace, seat = request.workspace, request.membership
    rows = services.flatten(services.ip_matrix(workspace, seat))
    return render(request, "ip/matrix.html", {"rows": rows, "can_edit": services.can_edit(seat)})
