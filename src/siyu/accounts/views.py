"""Console pages. Thin: parse the form, call `accounts.services`, render; services check roles."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from siyu.accounts import services
from siyu.accounts.forms import AccountForm, PlanForm
from siyu.web import MemberRequest, apply_errors, member_page, private_file
from siyu.wecom.client import WeComError
from siyu.wecom.services import NotConnected


@member_page
def home(request: MemberRequest) -> HttpResponse:
    workspace, seat = request.workspace, request.membership
    overview = services.accounts_overview(workspace, seat)
    fill = services.fill_history(workspace, seat)
    return render(request, "accounts/home.html", {
        "overview": overview,
        "can_edit": services.can_edit(seat),
        "forecast_days": services.FORECAST_DAYS,
        "fill": fill,
        "fill_chart": {
            "days": [d.strftime("%m-%d") for d in fill.days],
            "lines": [{"name": str(line.account), "percents": line.percents, "friends": line.friends}
                      for line in fill.lines],
        },
        "fill_empty": _("No active staff account yet: sync the corp's members first.") if fill.empty else "",
    })


@member_page
@require_POST
def sync(request: MemberRequest) -> HttpResponse:
    try:
        result = services.sync_accounts(request.workspace, request.membership)
    except NotConnected as exc:
        messages.error(request, str(exc))
    except WeComError as exc:
        messages.error(request, _("WeCom refused the sync (%(code)s %(message)s); nothing was changed.")
                       % {"code": exc.errcode, "message": exc.errmsg})
    else:
        messages.success(request, _(
            "Synced %(listed)s members from WeCom: %(created)s new, %(updated)s changed, "
            "%(gone)s no longer in the corp.") % {
            "listed": result.listed, "created": len(result.created), "updated": len(result.updated),
            "gone": len(result.deactivated)})
    return redirect("accounts:home")


@member_page
def edit(request: MemberRequest, account_id: int) -> HttpResponse:
    workspace, seat = request.workspace, request.membership
    account = services.account_for_editing(workspace, seat, account_id)
    personas = services.persona_options(workspace, seat)
    members = services.operator_options(workspace, seat)
    if request.method == "POST":
        form = AccountForm(request.POST, request.FILES, personas=personas, members=members)
        if form.is_valid():
            try:
                saved = services.save_account(workspace, seat, account_id, form.to_input(),
                                              form.cleaned_data["kit_avatar"])
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Account “%(name)s” saved.") % {"name": saved.account})
                for warning in saved.warnings:
                    messages.warning(request, warning)
                return redirect("accounts:home")
    else:
        form = AccountForm(initial=AccountForm.initial_from(account), personas=personas, members=members)
    return render(request, "accounts/account_form.html", {"form": form, "account": account})


@member_page
@require_GET
def kit_avatar(request: MemberRequest, account_id: int) -> FileResponse:
    """The uploaded avatar, private to its brand like persona avatars."""
    handle, content_type = services.kit_avatar_file(request.workspace, request.membership, account_id)
    return private_file(handle, content_type)


@member_page
@require_GET
def plan(request: MemberRequest) -> HttpResponse:
    """A question, not a change: the form is sent with GET so a plan can be bookmarked."""
    workspace, seat = request.workspace, request.membership
    personas = services.persona_options(workspace, seat)
    result = None
    if request.GET:
        form = PlanForm(request.GET, personas=personas)
        if form.is_valid():
            d = form.cleaned_data
            try:
                result = services.plan_accounts(workspace, seat, d["expected"], d["days"], d["persona"])
            except ValidationError as exc:
                apply_errors(form, exc)
    else:
        form = PlanForm(initial={"persona": personas[0].pk if len(personas) == 1 else None}, personas=personas)
    return render(request, "accounts/plan.html", {
        "form": form, "plan": result, "safe_fill": services.SAFE_FILL_PERCENT, "personas": personas,
    })


@member_page
def kit(request: MemberRequest) -> HttpResponse:
    workspace, seat = request.workspace, request.membership
    reports = services.kit_check(workspace, seat)
    return render(request, "accounts/kit.html", {
        "reports": reports,
        "mismatched": sum(1 for r in reports if not r.ok),
        "can_edit": services.can_edit(seat),
        "max_distance": services.AVATAR_MATCH_MAX_DISTANCE,
    })
