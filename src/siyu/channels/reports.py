"""渠道数据 console pages: channel analytics and its Excel export, spend entry, and the QR and
poster downloads. Thin: parse the request, call `services.analytics` / `services.qr`, render;
the services check roles."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from siyu.channels.services import analytics, groups, qr
from siyu.core.exports import XLSX_CONTENT_TYPE
from siyu.core.permissions import Action, Module, allows
from siyu.web import DayInput, MemberRequest, apply_errors, choice_field, client_ip, member_page

TOP_CODES_IN_TREND = 5
TOP_CODES_COMPARED = 10
TOP_STAFF_RANKED = 15


# --- analytics -------------------------------------------------------------------------------

def _period(request: HttpRequest) -> tuple[analytics.DateRange, str, list[str]]:
    """The range asked for (a preset or custom dates), its preset, and any problems with it;
    a bad range falls back to the last 7 days, with the problem shown."""
    preset = request.GET.get("preset") or "7"
    start, end = request.GET.get("start", ""), request.GET.get("end", "")
    if preset in analytics.PRESETS:
        start = end = ""
    try:
        return analytics.parse_range(preset, start, end), preset, []
    except ValidationError as exc:
        return analytics.last_days(7), "7", [m for ms in exc.message_dict.values() for m in ms]


def _sort(request: HttpRequest) -> tuple[str, bool]:
    sort = request.GET.get("sort", analytics.DEFAULT_SORT)
    if sort not in analytics.SORT_KEYS:
        sort = analytics.DEFAULT_SORT
    return sort, request.GET.get("order", "desc") != "asc"


def _cells(figures: analytics.Figures) -> list[dict[str, str]]:
    cells = []
    for column in analytics.COLUMNS:
        title = ""
        if column.kind == "rate":
            kept = figures.retention[int(column.key.rsplit("_", 1)[1])]
            title = (_("%(kept)d of %(cohort)d customers old enough") % {"kept": kept.retained, "cohort": kept.cohort}
                     if kept.cohort else _("Nobody added in the range is old enough yet."))
        elif column.kind == "commerce":
            title = _("Filled by the commerce module.")
        cells.append({"text": analytics.display(column, figures), "title": title, "kind": column.kind})
    return cells


def _range_query(period: analytics.DateRange, preset: str) -> dict[str, str]:
    if preset in analytics.PRESETS:
        return {"preset": preset}
    return {"preset": "custom", "start": period.start.isoformat(), "end": period.end.isoformat()}


@member_page
@require_GET
def analytics_page(request: MemberRequest) -> HttpResponse:
    workspace, seat = request.workspace, request.membership
    period, preset, range_errors = _period(request)
    sort, descending = _sort(request)
    group = groups.parse_group(request.GET.get("group"))
    compare = "groups" if request.GET.get("compare") == "groups" else "codes"
    result = analytics.channel_report(workspace, seat, period, sort, descending, group=group)
    base = {**_range_query(period, preset), **({"group": str(group)} if group is not None else {})}
    comparison = result.comparison(TOP_CODES_COMPARED, by=compare)
    staff = analytics.staff_chart(analytics.staff_ranking(workspace, seat, period, TOP_STAFF_RANKED))
    moved = result.totals.adds or result.totals.deleted_by_customer or result.totals.deleted_by_staff
    empty = {  # each chart's empty state, "" when it has something to draw
        "trend": "" if moved else _("No adds or losses through channel codes in this range yet."),
        "comparison": _("No code brought or lost a customer in this range.") if comparison["empty"] else "",
        "staff": _("No staff account made friends through a code in this range.") if staff["empty"] else "",
        "hint": _("Choose a longer range, or share a channel code: its adds show here.") if not moved else "",
    }
    headers = []
    for key, label, kind in [("name", _("Channel code"), "text"), ("touchpoint", _("Touchpoint"), "text")] + [
            (c.key, str(c.label), c.kind) for c in analytics.COLUMNS]:
        order = "asc" if key == sort and descending else "desc"
        headers.append({"key": key, "label": label, "active": key == sort, "kind": kind,
                        "url": "?" + urlencode({**base, "sort": key, "order": order})})
    return render(request, "channels/analytics.html", {
        "result": result,
        "period": period,
        "preset": preset,
        "range_errors": range_errors,
        "headers": headers,
        "code_rows": [{"row": r, "cells": _cells(r.figures)} for r in result.codes],
        "touch_rows": [{"row": r, "cells": _cells(r.figures), "key": r.touchpoint, "label": r.touchpoint_label}
                       for r in result.touchpoints],
        "group_rows": [{"row": r, "cells": _cells(r.figures), "key": r.filter_value, "label": r.name,
                        "url": "?" + urlencode({**_range_query(period, preset), "group": r.filter_value})}
                       for r in result.groups],
        "code_groups": groups.list_groups(workspace, seat),
        "group": "" if group is None else str(group),
        "no_group": groups.NO_GROUP,
        "compare": compare,
        "compare_urls": {by: "?" + urlencode({**base, "sort": sort, "order": "desc" if descending else "asc",
                                              "compare": by}) for by in ("codes", "groups")},
        "totals": _cells(result.totals),
        "days": [(day, f) for day, f in result.daily_totals()],
        "chart": result.trend(TOP_CODES_IN_TREND),
        "comparison": comparison,
        "staff": staff,
        "empty": empty,
        "export_query": urlencode({**base, "sort": sort, "order": "desc" if descending else "asc"}),
        "can_export": allows(seat.role, Module.CHANNELS, Action.EXPORT),
        "can_edit": allows(seat.role, Module.CHANNELS, Action.EDIT),
    })


@member_page
@require_GET
def analytics_export(request: MemberRequest) -> HttpResponse:
    workspace, seat = request.workspace, request.membership
    period, _preset, range_errors = _period(request)
    if range_errors:
        return render(request, "channels/report_error.html",
                      {"title": _("Export"), "reason": " ".join(range_errors)}, status=400)
    sort, descending = _sort(request)
    export = analytics.export_report(workspace, seat, period, sort, descending, ip_address=client_ip(request),
                                     group=groups.parse_group(request.GET.get("group")))
    response = HttpResponse(export.content, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, export.filename)
    response["Cache-Control"] = "private, no-store"
    return response


# --- spend -----------------------------------------------------------------------------------

class SpendForm(forms.Form):
    code = forms.TypedChoiceField(label=gettext_lazy("Channel code"), coerce=int)
    start = forms.DateField(label=gettext_lazy("First day"), widget=DayInput())
    end = forms.DateField(label=gettext_lazy("Last day"), widget=DayInput())
    amount_yuan = forms.CharField(label=gettext_lazy("Amount (yuan)"), max_length=20,
                                  widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    note = forms.CharField(label=gettext_lazy("Note"), max_length=120, required=False)

    def __init__(self, *args: Any, codes: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "code").choices = [("", "—")] + [(c.pk, c.name) for c in codes]


@member_page
def spend(request: MemberRequest) -> HttpResponse:
    workspace, seat = request.workspace, request.membership
    codes = analytics.spend_code_options(workspace, seat)
    if request.method == "POST" and request.POST.get("delete"):
        try:
            spend_id = int(request.POST["delete"])
        except ValueError:
            return redirect("channels:spend")
        analytics.delete_spend(workspace, seat, spend_id)
        messages.success(request, _("Spend entry deleted."))
        return redirect("channels:spend")
    today = analytics.local_today()
    form = SpendForm(request.POST or None, codes=codes,
                     initial={"start": today.replace(day=1), "end": today})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            analytics.add_spend(workspace, seat, data["code"], data["start"], data["end"], data["amount_yuan"],
                                data["note"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Spend recorded."))
            return redirect("channels:spend")
    return render(request, "channels/analytics_spend.html", {
        "form": form,
        "spends": [(s, analytics.yuan(s.amount_fen)) for s in analytics.list_spends(workspace, seat)],
    })


# --- QR and poster ---------------------------------------------------------------------------

def _download(download: qr.Download) -> HttpResponse:
    response = HttpResponse(download.png, content_type="image/png")
    response["Content-Disposition"] = content_disposition_header(True, download.filename)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _unavailable(request: HttpRequest, title: str, exc: qr.QrUnavailable) -> HttpResponse:
    return render(request, "channels/report_error.html", {"title": title, "reason": exc.reason}, status=exc.status)


@member_page
@require_GET
def qr_download(request: MemberRequest, code_id: int) -> HttpResponse:
    try:
        download = qr.code_qr(request.workspace, request.membership, code_id)
    except qr.QrUnavailable as exc:
        return _unavailable(request, _("QR code"), exc)
    return _download(download)


@member_page
@require_GET
def poster(request: MemberRequest, code_id: int) -> HttpResponse:
    try:
        download = qr.code_poster(request.workspace, request.membership, code_id)
    except qr.QrUnavailable as exc:
        return _unavailable(request, _("Poster"), exc)
    return _download(download)
