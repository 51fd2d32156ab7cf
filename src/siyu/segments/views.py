"""人群 console pages. Thin: parse the form, call `segments.services`, render; services check roles."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from siyu.core.exports import XLSX_CONTENT_TYPE
from siyu.core.uploads import read_upload
from siyu.customers.segmentation import describe
from siyu.segments import services
from siyu.segments.forms import ExportForm, SegmentForm, UploadForm, parse_rule
from siyu.segments.models import Segment, SegmentKind
from siyu.segments.services.export import DEFAULT_COLUMNS, export_columns
from siyu.segments.services.membership import recompute_segment
from siyu.segments.services.rules import EVERYONE, summary
from siyu.segments.services.static import UPLOAD_MAX_BYTES, upload_static
from siyu.web import MemberRequest, apply_errors, client_ip, member_page


def _ctx(request: MemberRequest) -> tuple[Any, Any]:
    return request.workspace, request.membership


@member_page
def home(request: MemberRequest) -> HttpResponse:
    workspace, seat = _ctx(request)
    rows = [(s, summary(workspace, s.rule) if s.kind == SegmentKind.DYNAMIC else "") for s in
            services.list_segments(workspace, seat)]
    return render(request, "segments/home.html", {"rows": rows, "can_edit": services.can_edit(seat)})


def _builder_page(request: MemberRequest, segment: Segment | None) -> HttpResponse:
    workspace, seat = _ctx(request)
    rule_errors: list[str] = []
    if request.method == "POST":
        form = SegmentForm(request.POST)
        valid = form.is_valid()
        rule = form.cleaned_data.get("rule", EVERYONE)  # the posted rule, shown again when refused
        if valid:
            data = services.SegmentInput(form.cleaned_data["name"], form.cleaned_data["description"],
                                         form.cleaned_data["rule"])
            try:
                saved = (services.create_segment(workspace, seat, data) if segment is None
                         else services.update_segment(workspace, seat, segment.pk, data))
            except ValidationError as exc:
                found = exc.message_dict if hasattr(exc, "error_dict") else {"rule": exc.messages}
                rule_errors = found.pop("rule", [])
                if found:
                    apply_errors(form, ValidationError(found))
            else:
                messages.success(request, _("Segment “%(name)s” saved: %(n)s customers.")
                                 % {"name": saved.name, "n": saved.member_count})
                return redirect("segments:segment", segment_id=saved.pk)
        rule_errors += [str(error) for error in form.errors.get("rule", [])]
    else:
        services.require_edit(seat)
        initial = {"name": segment.name, "description": segment.description} if segment else {}
        form = SegmentForm(initial=initial)
        rule = segment.rule if segment else EVERYONE
    return render(request, "segments/builder.html", {
        "form": form, "segment": segment, "rule": rule, "rule_errors": rule_errors,
        "fields": describe(workspace),
    })


@member_page
def segment_new(request: MemberRequest) -> HttpResponse:
    return _builder_page(request, None)


@member_page
def segment_edit(request: MemberRequest, segment_id: int) -> HttpResponse:
    workspace, seat = _ctx(request)
    segment = services.get_segment(workspace, seat, segment_id)
    if segment.kind != SegmentKind.DYNAMIC:
        return redirect("segments:segment", segment_id=segment.pk)
    return _builder_page(request, segment)


@member_page
@require_POST
def count(request: MemberRequest) -> HttpResponse:
    """The builder's live count (HTMX): the number, or why the rule is not valid yet."""
    workspace, seat = _ctx(request)
    try:
        found = services.count(workspace, seat, parse_rule(request.POST.get("rule", "")))
    except ValidationError as exc:
        return render(request, "segments/_count.html", {"errors": exc.messages})
    return render(request, "segments/_count.html", {"count": found})


@member_page
def segment_detail(request: MemberRequest, segment_id: int) -> HttpResponse:
    workspace, seat = _ctx(request)
    segment = services.get_segment(workspace, seat, segment_id)
    try:
        after = max(int(request.GET.get("after") or 0), 0)
    except ValueError:
        after = 0
    page = services.member_page(workspace, seat, segment, after)
    columns = [(c.key, str(c.label)) for c in export_columns(workspace)]
    return render(request, "segments/segment.html", {
        "segment": segment, "page": page, "after": after,
        "summary": summary(workspace, segment.rule) if segment.kind == SegmentKind.DYNAMIC else "",
        "export_form": ExportForm(columns=columns, initial={"columns": DEFAULT_COLUMNS}),
        "can_edit": services.can_edit(seat), "can_export": services.can_export(seat),
    })


@member_page
@require_POST
def segment_export(request: MemberRequest, segment_id: int) -> HttpResponse:
    workspace, seat = _ctx(request)
    segment = services.get_segment(workspace, seat, segment_id)
    form = ExportForm(request.POST, columns=[(c.key, str(c.label)) for c in export_columns(workspace)])
    if not form.is_valid():
        messages.error(request, _("Choose at least one column to export."))
        return redirect("segments:segment", segment_id=segment.pk)
    content, _rows = services.export_segment(workspace, seat, segment, form.cleaned_data["columns"],
                                             ip_address=client_ip(request))
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, f"segment-{segment.pk}.xlsx")
    response["Cache-Control"] = "private, no-store"
    return response


@member_page
@require_POST
def segment_recompute(request: MemberRequest, segment_id: int) -> HttpResponse:
    try:
        segment = recompute_segment(*_ctx(request), segment_id)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("segments:segment", segment_id=segment_id)
    messages.success(request, _("Segment “%(name)s” recomputed: %(n)s customers.")
                     % {"name": segment.name, "n": segment.member_count})
    return redirect("segments:segment", segment_id=segment.pk)


@member_page
@require_POST
def segment_delete(request: MemberRequest, segment_id: int) -> HttpResponse:
    workspace, seat = _ctx(request)
    segment = services.get_segment(workspace, seat, segment_id)
    services.delete_segment(workspace, seat, segment.pk)
    messages.success(request, _("Segment “%(name)s” deleted.") % {"name": segment.name})
    return redirect("segments:home")


@member_page
def upload(request: MemberRequest) -> HttpResponse:
    workspace, seat = _ctx(request)
    services.require_edit(seat)  # refuse before the file is read
    result = None
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload_file = form.cleaned_data["file"]
            try:
                result = upload_static(workspace, seat, file_name=upload_file.name,
                                       data=read_upload(upload_file, max_bytes=UPLOAD_MAX_BYTES),
                                       name=form.cleaned_data["name"], description=form.cleaned_data["description"])
            except ValidationError as exc:
                apply_errors(form, exc)
    else:
        form = UploadForm()
    return render(request, "segments/upload.html", {"form": form, "result": result})


def export_checked(request: MemberRequest, customer_ids: list[int], back: str) -> HttpResponse:
    """The customer list's bulk export (declared in `SegmentsConfig.customer_actions`)."""
    content, rows = services.export_customers(request.workspace, request.membership, customer_ids, None,
                                              ip_address=client_ip(request))
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="customers-{stamp}.xlsx"'
    response["X-Row-Count"] = str(rows)
    return response
