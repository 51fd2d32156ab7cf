"""The audit log page (审计日志): filters, pages and the .xlsx export. Thin: services check roles."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_POST

from siyu.core import services
from siyu.core.auditing import (
    SHORT_VALUE_CHARS,
    AuditFilter,
    actor_label,
    details_text,
    filter_choices,
    module_label,
    target_label,
)
from siyu.core.bounds import validate_day
from siyu.core.exports import XLSX_CONTENT_TYPE
from siyu.core.permissions import Action, Module, allows
from siyu.web import MemberRequest, client_ip, member_page


class DayInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


class AuditFilterForm(forms.Form):
    actor = forms.ChoiceField(label=_("Who"), required=False)
    module = forms.ChoiceField(label=pgettext_lazy("audit", "Module"), required=False)
    action = forms.ChoiceField(label=_("Action"), required=False)
    since = forms.DateField(label=pgettext_lazy("date range", "From"), required=False, validators=[validate_day],
                            widget=DayInput())
    until = forms.DateField(label=pgettext_lazy("date range", "To"), required=False, validators=[validate_day],
                            widget=DayInput())

    def __init__(self, *args: Any, choices: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        everyone = [("", _("Everyone"))]
        cast(forms.ChoiceField, self.fields["actor"]).choices = everyone + [(a, a) for a in choices.actors]
        cast(forms.ChoiceField, self.fields["module"]).choices = [("", _("All modules")), *choices.modules]
        cast(forms.ChoiceField, self.fields["action"]).choices = [("", _("All actions")), *choices.actions]
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-select" if isinstance(field, forms.ChoiceField) else "form-control"

    def wanted(self) -> AuditFilter:
        """The filter the form asks for; fields that do not validate are ignored."""
        if not self.is_bound:
            return AuditFilter()
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return AuditFilter(actor=data.get("actor") or "", module=data.get("module") or "",
                           action=data.get("action") or "", since=data.get("since"), until=data.get("until"))


def _form(request: MemberRequest) -> AuditFilterForm:
    data = request.GET if any(k in request.GET for k in ("actor", "module", "action", "since", "until")) else None
    return AuditFilterForm(data, choices=filter_choices(request.workspace))


@member_page
def audit(request: MemberRequest) -> HttpResponse:
    form = _form(request)
    page = services.audit_page(request.workspace, request.membership, form.wanted(), request.GET.get("page"))
    rows = []
    for entry in page.object_list:
        full = details_text(entry)
        short = details_text(entry, SHORT_VALUE_CHARS)
        rows.append({"entry": entry, "who": actor_label(entry), "module": module_label(entry.module),
                     "target": target_label(entry), "detail": short, "full": full if full != short else ""})
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "console/audit.html", {
        "form": form, "page": page, "rows": rows, "query": query.urlencode(),
        "can_export": allows(request.membership.role, Module.AUDIT, Action.EXPORT),
    })


@member_page
@require_POST
def audit_export(request: MemberRequest) -> HttpResponse:
    form = _form(request)
    content, _rows = services.export_audit(request.workspace, request.membership, form.wanted(),
                                           ip_address=client_ip(request))
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = content_disposition_header(True, f"audit-log-{stamp}.xlsx")
    response["Cache-Control"] = "private, no-store"
    return response
