"""渠道活码 console pages. Thin: parse the form, call `channels.services.codes`, render;
services check roles."""

from __future__ import annotations

from typing import Any, Literal

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from siyu.channels.forms import AttachmentForm, AttachmentFormSet, CodeForm, SeatForm, SeatFormSet
from siyu.channels.group_codes import group_code_choices, group_code_refs
from siyu.channels.models import ChannelCode, CodeKind
from siyu.channels.services import codes, groups, qr, routing
from siyu.core import bounds
from siyu.web import MemberRequest, apply_errors, member_page


@member_page
def home(request: MemberRequest) -> HttpResponse:
    workspace, seat = request.workspace, request.membership
    group = groups.parse_group(request.GET.get("group", ""))
    return render(request, "channels/home.html", {
        "rows": codes.list_codes(workspace, seat, group=group),
        "groups": groups.list_groups(workspace, seat),
        "group": "" if group is None else str(group),
        "no_group": groups.NO_GROUP,
        "max_download": qr.MAX_ZIP_CODES,
        "leaders": codes.promoter_leaderboard(workspace, seat)[:5],
        "can_edit": codes.can_edit(seat),
    })


def _back_to_list(request: MemberRequest) -> HttpResponse:
    group = request.POST.get("back_group", "")
    url = reverse("channels:home")
    return redirect(f"{url}?group={group}" if groups.parse_group(group) is not None else url)


@member_page
@require_POST
def group_create(request: MemberRequest) -> HttpResponse:
    try:
        group = groups.create_group(request.workspace, request.membership, request.POST.get("name", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("channels:home")
    messages.success(request, _("Code group “%(name)s” created.") % {"name": group.name})
    return redirect(f"{reverse('channels:home')}?group={group.pk}")


@member_page
@require_POST
def group_rename(request: MemberRequest, group_id: int) -> HttpResponse:
    try:
        group = groups.rename_group(request.workspace, request.membership, group_id, request.POST.get("name", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Code group renamed to “%(name)s”.") % {"name": group.name})
    return redirect(f"{reverse('channels:home')}?group={group_id}")


@member_page
@require_POST
def group_delete(request: MemberRequest, group_id: int) -> HttpResponse:
    held = groups.delete_group(request.workspace, request.membership, group_id)
    messages.success(request, _("Code group deleted; its %(count)s codes are now in no group.") % {"count": held})
    return redirect("channels:home")


@member_page
@require_GET
def qr_thumbnail(request: MemberRequest, code_id: int) -> HttpResponse:
    """The list's small QR: cached by the service, and by the browser for a day."""
    try:
        png = qr.code_qr_thumbnail(request.workspace, request.membership, code_id)
    except qr.QrUnavailable as exc:
        return HttpResponse(exc.reason, status=exc.status, content_type="text/plain; charset=utf-8")
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "private, max-age=86400"
    return response


@member_page
@require_POST
def codes_download(request: MemberRequest) -> HttpResponse:
    """The checked codes' QR codes (or posters) as one zip."""
    what: Literal["qr", "poster"] = "poster" if request.POST.get("what") == "poster" else "qr"
    try:
        ids = [i for v in request.POST.getlist("code") if (i := bounds.parse_id(v)) is not None]
        archive = qr.codes_zip(request.workspace, request.membership, ids, what)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return _back_to_list(request)
    except qr.QrUnavailable as exc:  # no CJK font for posters
        messages.error(request, exc.reason)
        return _back_to_list(request)
    response = HttpResponse(archive.data, content_type="application/zip")
    response["Content-Disposition"] = content_disposition_header(True, archive.filename)
    response["Cache-Control"] = "private, no-store"
    return response


@member_page
def code_detail(request: MemberRequest, code_id: int) -> HttpResponse:
    workspace, seat = request.workspace, request.membership
    detail = codes.code_detail(workspace, seat, code_id)
    return render(request, "channels/code_detail.html", {
        "detail": detail, "code": detail.code, "can_edit": codes.can_edit(seat),
        "seat_rows": [(s, _shifts_text(s.seat.shifts)) for s in detail.seats],
        "auto_tags": _auto_tags(workspace, detail.code.auto_tag_ids),
        "group_code": next(iter(group_code_refs(workspace, [detail.code.group_code_id])), None)
        if detail.code.group_code_id else None,
        "poster_headline": qr.poster_headline(detail.code, qr.poster_persona(workspace, detail.code)),
    })


def _auto_tags(workspace: Any, ids: list[str]) -> list[tuple[str, bool]]:
    """A code's auto-tags as "group / name" (known) or the raw id (no such tag any more)."""
    names = codes.tag_names(workspace, [str(t) for t in ids])
    return [(names.get(str(t), str(t)), str(t) in names) for t in ids]


def _shifts_text(shifts: list[dict[str, Any]]) -> str:
    from siyu.channels.forms import format_shifts

    return format_shifts(shifts) or _("always")


def _split_errors(exc: ValidationError) -> tuple[ValidationError, list[str], list[str]]:
    """The service's errors for the code's fields, and those about its seats and its welcome
    attachments (each shown above its table)."""
    if not hasattr(exc, "error_dict"):
        return exc, [], []
    found = exc.message_dict
    seat_errors = found.pop("seats", [])
    attachment_errors = found.pop("welcome_attachments", [])
    return ValidationError(found) if found else ValidationError([]), seat_errors, attachment_errors


def _code_form_page(request: MemberRequest, code_id: int | None) -> HttpResponse:
    workspace, seat = request.workspace, request.membership
    code: ChannelCode | None = codes.code_for_editing(workspace, seat, code_id)
    if code is not None and not code.active:
        messages.error(request, _("This code is deactivated; create a new one instead."))
        return redirect("channels:code", code_id=code.pk)
    account_choices = [(a.pk, str(a)) for a in codes.account_options(workspace, seat)]
    welfare_choices = [(w.pk, w.name) for w in codes.welfare_options(workspace, seat)]
    picked = request.POST.getlist("auto_tag_ids") if request.method == "POST" else (code.auto_tag_ids if code else [])
    tag_choices = codes.tag_options(workspace, seat, keep=[str(t) for t in picked])
    group_choices = [(g.pk, g.name) for g in groups.list_groups(workspace, seat)]
    choices: dict[str, Any] = {"welfare_choices": welfare_choices, "tag_choices": tag_choices, "group_choices": group_choices,
               "group_code_choices": group_code_choices(workspace)}
    seat_errors: list[str] = []
    attachment_errors: list[str] = []
    if request.method == "POST":
        form = CodeForm(request.POST, **choices)
        formset = SeatFormSet(request.POST, prefix="seats", account_choices=account_choices)
        attachment_formset = AttachmentFormSet(request.POST, prefix="attachments")
        if form.is_valid() and formset.is_valid() and attachment_formset.is_valid():
            data = form.to_input(formset.to_seats(), attachment_formset.to_items())
            try:
                if code is None:
                    saved = codes.create_code(workspace, seat, data)
                else:
                    saved = codes.update_code(workspace, seat, code.pk, data)
            except ValidationError as exc:
                field_errors, seat_errors, attachment_errors = _split_errors(exc)
                if field_errors.messages:
                    apply_errors(form, field_errors)
            else:
                messages.success(request, _("Channel code “%(name)s” saved.") % {"name": saved.name})
                return redirect("channels:code", code_id=saved.pk)
    else:
        initial_fields = CodeForm.initial_from(code) if code else {
            "touchpoint": request.GET.get("touchpoint", ""), "kind": request.GET.get("kind") or CodeKind.CONTACT_WAY,
            "group": bounds.parse_id(request.GET.get("group", ""))}
        form = CodeForm(initial=initial_fields, **choices)
        initial = [SeatForm.initial_from(s) for s in routing.seats_of(workspace, code)] if code else []
        formset = SeatFormSet(initial=initial, prefix="seats", account_choices=account_choices)
        attachment_formset = AttachmentFormSet(
            initial=[AttachmentForm.initial_from(a) for a in code.welcome_attachments] if code else [],
            prefix="attachments")
    return render(request, "channels/code_form.html", {
        "form": form, "formset": formset, "code": code, "seat_errors": seat_errors,
        "attachments": attachment_formset, "attachment_errors": attachment_errors,
        "has_accounts": bool(account_choices),
    })


@member_page
def code_new(request: MemberRequest) -> HttpResponse:
    return _code_form_page(request, None)


@member_page
def code_edit(request: MemberRequest, code_id: int) -> HttpResponse:
    return _code_form_page(request, code_id)


@member_page
@require_POST
def code_deactivate(request: MemberRequest, code_id: int) -> HttpResponse:
    try:
        code = codes.deactivate_code(request.workspace, request.membership, code_id)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Channel code “%(name)s” deactivated; its adds stay in the numbers.")
                         % {"name": code.name})
    return redirect("channels:code", code_id=code_id)


@member_page
@require_POST
def code_reroute(request: MemberRequest, code_id: int) -> HttpResponse:
    try:
        choice = codes.reroute_code(request.workspace, request.membership, code_id)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, choice.note)
    return redirect("channels:code", code_id=code_id)


@member_page
def promoters(request: MemberRequest) -> HttpResponse:
    workspace, seat = request.workspace, request.membership
    return render(request, "channels/promoters.html", {
        "rows": codes.promoter_leaderboard(workspace, seat), "can_edit": codes.can_edit(seat),
    })
