"""群活码 console pages. Thin: parse, call `groupcodes.services`, render; services check roles."""

from __future__ import annotations

import io

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from siyu.channels.services.qr import QrUnavailable, fetch_image
from siyu.groupcodes import services
from siyu.groupcodes.forms import GroupCodeForm, initial_of
from siyu.ip.models import Persona
from siyu.web import MemberRequest, apply_errors, member_page


@member_page
def home(request: MemberRequest) -> HttpResponse:
    rows = services.list_codes(request.workspace, request.membership)
    return render(request, "groupcodes/home.html", {
        "rows": rows, "quota": services.config_quota(request.workspace),
        "can_edit": services.can_edit(request.membership)})


def _form_page(request: MemberRequest, code_id: int | None) -> HttpResponse:
    code = services.get_code(request.workspace, request.membership, code_id) if code_id else None
    groups = services.group_choices(request.workspace)
    personas = list(Persona.objects.for_workspace(request.workspace).order_by("pk").only("pk", "name"))
    if code is not None:  # the bound groups stay choosable even at the cap
        known = {g.chat_id for g in groups}
        groups += [row.group for row in services.chain_of(request.workspace, code)
                   if row.group is not None and row.group.chat_id not in known]
    if request.method == "POST":
        form = GroupCodeForm(request.POST, groups=groups, personas=personas)
        if form.is_valid():
            try:
                if code is None:
                    code = services.create_code(request.workspace, request.membership, form.code_input())
                    messages.success(request, _("Group code created."))
                else:
                    services.update_code(request.workspace, request.membership, code.pk, form.code_input())
                    messages.success(request, _("Group code saved."))
                return redirect("groupcodes:detail", code_id=code.pk)
            except ValidationError as exc:
                apply_errors(form, exc)
    else:
        form = GroupCodeForm(groups=groups, personas=personas, initial=initial_of(code) if code else None)
    return render(request, "groupcodes/form.html", {"form": form, "code": code})


@member_page
def create(request: MemberRequest) -> HttpResponse:
    services.require_edit(request.membership)
    return _form_page(request, None)


@member_page
def edit(request: MemberRequest, code_id: int) -> HttpResponse:
    services.require_edit(request.membership)
    return _form_page(request, code_id)


@member_page
def detail(request: MemberRequest, code_id: int) -> HttpResponse:
    code = services.get_code(request.workspace, request.membership, code_id)
    chain = services.chain_of(request.workspace, code)
    return render(request, "groupcodes/detail.html", {
        "code": code, "chain": chain, "bound": [row for row in chain if row.link.bound],
        "joined": services.joined_through(request.workspace, [code]).get(code.state, 0),
        "can_edit": services.can_edit(request.membership)})


@member_page
def qr(request: MemberRequest, code_id: int) -> HttpResponse:
    """The join way's QR as WeCom serves it (fetched here: WeCom's image host is not the browser's)."""
    code = services.get_code(request.workspace, request.membership, code_id)
    if not code.qr_code_url:
        return HttpResponse(_("This code has no QR: its join way is gone."), status=409, content_type="text/plain")
    try:
        image = fetch_image(code.qr_code_url)
    except QrUnavailable as exc:
        return HttpResponse(exc.reason, status=exc.status, content_type="text/plain; charset=utf-8")
    out = io.BytesIO()
    image.save(out, format="PNG")
    response = HttpResponse(out.getvalue(), content_type="image/png")
    if request.GET.get("download"):
        response["Content-Disposition"] = f'attachment; filename="group-code-{code.pk}.png"'
    return response


@member_page
@require_POST
def rotate(request: MemberRequest, code_id: int) -> HttpResponse:
    services.require_edit(request.membership)
    code = services.get_code(request.workspace, request.membership, code_id)
    services.rotate(request.workspace, code.pk)
    messages.success(request, _("Checked the groups against WeCom."))
    return redirect("groupcodes:detail", code_id=code.pk)


@member_page
@require_POST
def delete(request: MemberRequest, code_id: int) -> HttpResponse:
    try:
        services.delete_code(request.workspace, request.membership, code_id)
        messages.success(request, _("Group code deleted; its QR no longer works."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("groupcodes:detail", code_id=code_id)
    return redirect("groupcodes:home")
