"""加号福利 console pages. Thin: parse the form, call `channels.services.welfare`, render;
the service checks roles (`Module.CHANNELS`: edit to change, view to see)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from siyu.channels.models import WelfareKind
from siyu.channels.services import welfare as services
from siyu.web import MemberRequest, MinuteInput, apply_errors, member_page

_LOCAL_MINUTE = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"]


class WelfareForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=60)
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=WelfareKind.choices)
    description = forms.CharField(label=gettext_lazy("What the customer gets"), max_length=200, required=False,
                                  help_text=gettext_lazy("Shown in the welcome message as {welfare}; a coupon's code follows it."))
    link_url = forms.URLField(label=gettext_lazy("Link"), max_length=500, required=False,
                              assume_scheme="https")
    stock = forms.IntegerField(label=gettext_lazy("Stock"), min_value=0, required=False,
                               help_text=gettext_lazy("Empty: unlimited. A coupon's stock is its uploaded codes."))
    starts_at = forms.DateTimeField(label=gettext_lazy("Starts"), required=False, input_formats=_LOCAL_MINUTE,
                                    widget=MinuteInput())
    ends_at = forms.DateTimeField(label=gettext_lazy("Ends"), required=False, input_formats=_LOCAL_MINUTE,
                                  widget=MinuteInput())

    def to_input(self) -> services.WelfareInput:
        d: dict[str, Any] = self.cleaned_data
        return services.WelfareInput(name=d["name"], kind=d["kind"], description=d["description"],
                                     link_url=d["link_url"], stock=d["stock"], starts_at=d["starts_at"],
                                     ends_at=d["ends_at"])


class CodesForm(forms.Form):
    codes = forms.CharField(label=gettext_lazy("Paste codes, one a line"), required=False,
                            widget=forms.Textarea(attrs={"rows": 6}))
    file = forms.FileField(label=gettext_lazy("Or upload a .txt, .csv or .xlsx file (first column)"), required=False,
                           widget=forms.ClearableFileInput(attrs={"accept": ".txt,.csv,.xlsx"}))

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if not (data.get("codes") or "").strip() and not data.get("file"):
            raise ValidationError(_("Paste codes or choose a file."))
        return data


class GrantSearchForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("Search"), max_length=64, required=False,
                        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("Nickname, WeCom id or coupon code"),
                                                      "type": "search"}))
    status = forms.ChoiceField(label=gettext_lazy("Status"), required=False, choices=[
        ("", gettext_lazy("All")), ("open", gettext_lazy("Not redeemed")), ("redeemed", gettext_lazy("Redeemed"))])


@member_page
def welfare(request: MemberRequest) -> HttpResponse:
    rows = services.list_welfare(request.workspace, request.membership)
    return render(request, "channels/welfare.html", {"rows": rows, "can_edit": services.can_edit(request.membership)})


@member_page
def welfare_new(request: MemberRequest) -> HttpResponse:
    workspace, seat = request.workspace, request.membership
    services.require_edit(seat)  # refuse before the form is filled in, not only on save
    form = WelfareForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            created = services.create_welfare(workspace, seat, form.to_input())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Welfare “%(name)s” created.") % {"name": created.name})
            return redirect("channels:welfare_detail", welfare_id=created.pk)
    return render(request, "channels/welfare_form.html", {"form": form})


def _detail(request: MemberRequest, welfare_id: int, codes_form: CodesForm | None = None,
            report: services.UploadReport | None = None, status: int = 200) -> HttpResponse:
    workspace, seat = request.workspace, request.membership
    row = services.welfare_row(workspace, seat, welfare_id)
    search = GrantSearchForm(request.GET)
    found = search.cleaned_data if search.is_valid() else {"q": "", "status": ""}
    grants = services.grants_of(workspace, seat, welfare_id, search=found["q"], status=found["status"],
                                page=request.GET.get("page", 1))
    kept = {k: v for k, v in found.items() if v}
    return render(request, "channels/welfare_detail.html", {
        "row": row, "welfare": row.welfare, "grants": grants, "search": search, "query": urlencode(kept),
        "here": urlencode({**kept, "page": grants.number}),
        "can_edit": services.can_edit(seat), "is_coupon": row.welfare.kind == WelfareKind.COUPON,
        "codes_form": codes_form or CodesForm(), "report": report,
    }, status=status)


@member_page
def welfare_detail(request: MemberRequest, welfare_id: int) -> HttpResponse:
    return _detail(request, welfare_id)


@member_page
@require_POST
def welfare_codes_upload(request: MemberRequest, welfare_id: int) -> HttpResponse:
    workspace, seat = request.workspace, request.membership
    form = CodesForm(request.POST, request.FILES)
    report = None
    if form.is_valid():
        try:
            report = services.upload_codes(workspace, seat, welfare_id, text=form.cleaned_data["codes"] or "",
                                           file=form.cleaned_data["file"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("%(added)s codes added, %(rejected)s rows skipped.")
                             % {"added": report.added, "rejected": report.rejected})
            form = CodesForm()
    return _detail(request, welfare_id, form, report, status=200 if report is not None else 400)


@member_page
@require_POST
def welfare_redeem(request: MemberRequest, welfare_id: int, grant_id: int) -> HttpResponse:
    workspace, seat = request.workspace, request.membership
    services.welfare_row(workspace, seat, welfare_id)  # the welfare is the brand's, or 404
    # Back to the same search and page, so the next coupon is found where the last one was.
    back = QueryDict(request.POST.get("back", ""))
    kept = {k: back[k] for k in ("q", "status", "page") if back.get(k)}
    url = reverse("channels:welfare_detail", kwargs={"welfare_id": welfare_id})
    try:
        services.redeem(workspace, seat, grant_id, request.POST.get("note", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Redemption recorded."))
    return redirect(f"{url}?{urlencode(kept)}" if kept else url)
