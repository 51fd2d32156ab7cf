"""SOP 数据 console pages: an SOP's figures per step with its charts, the staff table (on-time
tasks per member of staff), and each one's Excel export. Thin: parse, call
`services.analytics`, render; the service checks roles."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from siyu.core.exports import XLSX_CONTENT_TYPE
from siyu.core.permissions import Action, allows, role_of
from siyu.sop.services import analytics
from siyu.web import MemberRequest, client_ip, member_page


def _all_versions(request: HttpRequest) -> bool:
    return request.GET.get("versions") == "all"


def _may_export(request: MemberRequest) -> bool:
    return allows(role_of(request.membership) or "", analytics.MODULE, Action.EXPORT)


def _download(export: analytics.Export) -> HttpResponse:
    response = HttpResponse(export.content, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, export.filename)
    response["Cache-Control"] = "private, no-store"
    return response


@member_page
@require_GET
def sop_page(request: MemberRequest, sop_id: int) -> HttpResponse:
    all_versions = _all_versions(request)
    report = analytics.sop_analytics(request.workspace, request.membership, sop_id, all_versions=all_versions)
    return render(request, "sop/analytics.html", {
        "report": report, "sop": report.sop, "all_versions": all_versions, "can_export": _may_export(request),
        "daily": report.daily_chart(), "by_step": report.steps_chart(),
        "empty": {"daily": "" if report.has_days else _("No run ended in the last 30 days."),
                  "steps": "" if report.has_runs else _("No customer is enrolled in this SOP yet.")},
        "export_query": urlencode({"versions": "all"} if all_versions else {})})


@member_page
@require_GET
def sop_export(request: MemberRequest, sop_id: int) -> HttpResponse:
    return _download(analytics.export_sop(request.workspace, request.membership, sop_id,
                                          all_versions=_all_versions(request), ip_address=client_ip(request)))


def _days(request: HttpRequest) -> tuple[analytics.Days, list[str]]:
    """The range asked for and its problems; a bad range falls back to the last 30 days."""
    try:
        return analytics.parse_days(request.GET.get("start", ""), request.GET.get("end", "")), []
    except ValidationError as exc:
        return analytics.last_days(analytics.CHART_DAYS), exc.messages


@member_page
@require_GET
def staff_page(request: MemberRequest) -> HttpResponse:
    days, errors = _days(request)
    report = analytics.staff_report(request.workspace, request.membership, days)
    return render(request, "sop/staff.html", {
        "report": report, "days": days, "range_errors": errors, "chart": report.chart(),
        "empty": "" if report.rows else _("No task fell due in this range."),
        "can_export": _may_export(request),
        "export_query": urlencode({"start": days.start.isoformat(), "end": days.end.isoformat()})})


@member_page
@require_GET
def staff_export(request: MemberRequest) -> HttpResponse:
    days, errors = _days(request)
    if errors:  # never a workbook of other days than asked for
        messages.error(request, " ".join(errors))
        return redirect("sop:staff")
    return _download(analytics.export_staff(request.workspace, request.membership, days,
                                            ip_address=client_ip(request)))
