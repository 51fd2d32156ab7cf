"""流失与继承 console pages: the churn list with per-account figures, and transfers (在职继承 /
离职继承) — choose a handover account, its customers and a takeover account, see each customer's
result, follow the history. Thin: parse, call `services.churn` / `services.transfers`, render."""

from __future__ import annotations

import datetime as dt
from typing import Any, overload

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from siyu.accounts.models import StaffAccount
from siyu.core.bounds import parse_id, validate_day
from siyu.core.permissions import Action, Module, allows
from siyu.customers.channel_codes import channel_refs
from siyu.customers.models import DeletedBy, TransferStatus
from siyu.customers.services import churn, may_see_phone, transfers
from siyu.web import DayInput, MemberRequest, apply_errors, choice_field, member_page
from siyu.wecom.services import NotConnected

BLANK: list[tuple[Any, str | Promise]] = [("", "—")]


def _account_choices(accounts: list[StaffAccount]) -> list[tuple[Any, str | Promise]]:
    left = _("left the corp")
    return BLANK + [(a.pk, f"{a} ({a.userid})" + ("" if a.active else f" · {left}")) for a in accounts]


class ChurnFilterForm(forms.Form):
    start = forms.DateField(label=gettext_lazy("Start date"), required=False, validators=[validate_day],
                            widget=DayInput())
    end = forms.DateField(label=gettext_lazy("End date"), required=False, validators=[validate_day],
                          widget=DayInput())
    account = forms.TypedChoiceField(label=gettext_lazy("Account"), coerce=int, empty_value=None, required=False)
    reason = forms.MultipleChoiceField(label=gettext_lazy("Reason"), choices=DeletedBy.choices, required=False,
                                       widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args: Any, accounts: list[StaffAccount], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "account").choices = _account_choices(accounts)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", _("The end date is before the start date."))
        return data

    def to_filter(self) -> churn.ChurnFilter:
        d = self.cleaned_data if self.is_valid() else {}
        return churn.ChurnFilter(start=d.get("start"), end=d.get("end"), account_id=d.get("account"),
                                 reasons=tuple(d.get("reason") or (DeletedBy.CUSTOMER,)))


@member_page
def churn_list(request: MemberRequest) -> HttpResponse:
    workspace, seat = request.workspace, request.membership
    accounts = churn.account_options(workspace, seat)
    form = ChurnFilterForm(request.GET or None, accounts=accounts, initial={"reason": [DeletedBy.CUSTOMER]})
    flt = form.to_filter()
    page = churn.churn_list(workspace, seat, flt, _int(request.GET.get("page"), 1))
    figures = churn.churn_by_account(workspace, seat, flt)
    start, end = flt.bounds()
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "customers/churn.html", {
        "form": form, "page": page, "figures": figures, "range_start": start.date(),
        "channels": channel_refs(workspace, (row.state for row in page.rows)),
        "range_end": (end - dt.timedelta(days=1)).date(),
        "lost": sum(f.lost for f in figures), "returned": sum(f.returned for f in figures),
        "query": query.urlencode(),
    })


@overload
def _int(value: Any, default: int) -> int: ...
@overload
def _int(value: Any, default: None = None) -> int | None: ...
def _int(value: Any, default: int | None = None) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


# --- transfers ----------------------------------------------------------------------------------

class AccountChoiceField(forms.TypedChoiceField):
    """An account picked from a list; whether it is one of this brand's (and may take part) is
    the service's call, so the message is the service's too."""

    def valid_value(self, value: Any) -> bool:
        return True


class TransferForm(forms.Form):
    handover = AccountChoiceField(label=gettext_lazy("Handover account"), coerce=int, empty_value=None, required=False)
    takeover = AccountChoiceField(label=gettext_lazy("Takeover account"), coerce=int, empty_value=None, required=False)
    message = forms.CharField(label=gettext_lazy("Message to the customer"), required=False,
                              widget=forms.Textarea(attrs={"rows": 2}),
                              help_text=gettext_lazy("Sent by WeCom when the transfer completes (on-job only)."))

    def __init__(self, *args: Any, accounts: list[StaffAccount], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "handover").choices = _account_choices(accounts)
        choice_field(self, "takeover").choices = _account_choices([a for a in accounts if a.active])



class HistoryFilterForm(forms.Form):
    status = forms.ChoiceField(label=gettext_lazy("Status"), choices=[*BLANK, *TransferStatus.choices], required=False)
    h = forms.TypedChoiceField(label=gettext_lazy("Handover account"), coerce=int, empty_value=None, required=False)
    t = forms.TypedChoiceField(label=gettext_lazy("Takeover account"), coerce=int, empty_value=None, required=False)

    def __init__(self, *args: Any, accounts: list[StaffAccount], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "h").choices = choice_field(self, "t").choices = _account_choices(accounts)

    def to_filter(self) -> transfers.TransferFilter:
        d = self.cleaned_data if self.is_valid() else {}
        return transfers.TransferFilter(status=d.get("status") or "", handover_id=d.get("h"), takeover_id=d.get("t"))


def _transfers_page(request: MemberRequest, form: TransferForm, *, status: int = 200,
                    result: transfers.TransferRequest | None = None) -> HttpResponse:
    workspace, seat = request.workspace, request.membership
    accounts = churn.account_options(workspace, seat)
    handover_id = _int(request.POST.get("handover") or request.GET.get("handover"))
    handover = next((a for a in accounts if a.pk == handover_id), None)
    customers = None
    search = (request.GET.get("q") or "").strip()[:transfers.SEARCH_MAX_CHARS]
    if handover is not None:
        customers = transfers.handover_customers(workspace, seat, handover.pk, request.GET.get("page") or 1, search)
    history_form = HistoryFilterForm(request.GET or None, accounts=accounts)
    history = transfers.transfer_history(workspace, seat, history_form.to_filter(), request.GET.get("hpage") or 1)
    query = request.GET.copy()
    query.pop("hpage", None)
    return render(request, "customers/transfers.html", {
        "form": form, "handover": handover, "customers": customers, "history": history,
        "channels": channel_refs(workspace, (rel.state for rel in customers.object_list) if customers else ()),
        "history_form": history_form, "result": result, "resigned": [a for a in accounts if not a.active],
        "chosen": {i for i in map(parse_id, request.POST.getlist("customer")) if i is not None},
        "query": query.urlencode(), "can_edit": allows(seat.role, Module.CUSTOMERS, Action.EDIT),
        "search": search, "phones_visible": may_see_phone(seat.role),
    }, status=status)


@member_page
def transfer_home(request: MemberRequest) -> HttpResponse:
    workspace, seat = request.workspace, request.membership
    accounts = churn.account_options(workspace, seat)
    form = TransferForm(initial={"handover": request.GET.get("handover")}, accounts=accounts)
    return _transfers_page(request, form)


@member_page
@require_POST
def transfer_request(request: MemberRequest) -> HttpResponse:
    workspace, seat = request.workspace, request.membership
    accounts = churn.account_options(workspace, seat)
    form = TransferForm(request.POST, accounts=accounts)
    from_profile = _int(request.POST.get("from_profile"))
    if not form.is_valid():
        return _transfers_page(request, form, status=422)
    handover = next((a for a in accounts if a.pk == form.cleaned_data["handover"]), None)
    ids = [i for i in map(parse_id, request.POST.getlist("customer")) if i is not None]
    try:
        result = transfers.request_transfer(
            workspace, seat, form.cleaned_data["handover"], form.cleaned_data["takeover"], ids,
            resigned=handover is not None and not handover.active, message=form.cleaned_data["message"])
    except ValidationError as exc:
        if from_profile is not None:  # started on the customer's profile: back there, with the reasons
            for problem in exc.messages:
                messages.error(request, problem)
            return redirect("customers:customer", from_profile)
        apply_errors(form, exc)
        if "customer_ids" in getattr(exc, "error_dict", {}):
            form.add_error(None, exc.message_dict["customer_ids"])
        return _transfers_page(request, form, status=422)
    messages.success(request, _("%(accepted)s of %(total)s customers accepted by WeCom; they move within 24 hours "
                                "unless they refuse.") % {"accepted": result.accepted, "total": len(result.results)})
    return render(request, "customers/transfer_result.html", {"result": result})


@member_page
@require_POST
def transfer_unassigned(request: MemberRequest) -> HttpResponse:
    """离职继承 of everything WeCom still holds for one resigned account."""
    workspace, seat = request.workspace, request.membership
    try:
        result = transfers.transfer_unassigned(workspace, seat, _int(request.POST.get("handover")) or 0,
                                               _int(request.POST.get("takeover")) or 0)
    except ValidationError as exc:
        for problem in exc.messages:
            messages.error(request, problem)
        return redirect("customers:transfers")
    return render(request, "customers/transfer_result.html", {"result": result})


@member_page
@require_POST
def transfer_check(request: MemberRequest) -> HttpResponse:
    """Check status now: ask WeCom about every waiting transfer."""
    try:
        report = transfers.poll_transfers(request.workspace, request.membership)
    except NotConnected as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Checked %(checked)s waiting transfers: %(done)s taken over, %(failed)s did not "
                                    "go through.") % {"checked": report.checked, "done": report.done,
                                                      "failed": report.failed})
    return redirect("customers:transfers")
