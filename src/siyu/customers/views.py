"""客户 console pages: the list (search, filters, keyset pages, bulk actions), the profile
(remarks, fields, tags, timeline), custom fields and the full sync. Thin: parse the form, call
`customers.services`, render; services check roles."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from siyu.accounts.models import StaffAccount
from siyu.core.contract import CustomerAction, customer_actions, profile_panels
from siyu.core.models import Workspace
from siyu.core.permissions import Action, Module, allows, require
from siyu.customers import services
from siyu.customers.channel_codes import channel_choices, channel_refs
from siyu.customers.forms import BulkForm, FieldForm, ListForm, ProfileForm, RemarkForm
from siyu.customers.segmentation import shared_fields
from siyu.customers.services import churn
from siyu.customers.services import profile as profiles
from siyu.customers.services import sync as syncs
from siyu.customers.timeline import TimelineKind
from siyu.web import MemberRequest, apply_errors, member_page


def _tag_choices(workspace: Workspace) -> list[tuple[int, str]]:
    """The brand's tags, from the `tags` segment field the tags app registers (none without it)."""
    tags = shared_fields().get("tags")
    return list(tags.options(workspace)) if tags is not None and tags.options is not None else []


def _account_choices(workspace: Workspace) -> list[tuple[int, str]]:
    return [(a.pk, str(a)) for a in StaffAccount.objects.for_workspace(workspace).order_by("name", "userid")]


def _actions_for(role: str) -> list[CustomerAction]:
    """The bulk actions the installed apps offer that this role may take."""
    return [a for a in customer_actions() if allows(role, a.module, a.needs)]


# --- the list -----------------------------------------------------------------------------------

@member_page
def home(request: MemberRequest) -> HttpResponse:
    workspace, seat = request.workspace, request.membership
    tag_choices = _tag_choices(workspace)
    form = ListForm(request.GET or None, tag_choices=tag_choices, account_choices=_account_choices(workspace),
                    channel_choices=channel_choices(workspace))
    filters = form.filters()
    page = services.search_customers(workspace, seat, filters, after=request.GET.get("after", ""))
    scope = services.scope_of(workspace, seat)
    role = seat.role
    query = {k: v for k, v in request.GET.items() if k != "after" and v}
    return render(request, "customers/home.html", {
        "page": page, "form": form, "tag_choices": tag_choices,
        "count": services.count_customers(workspace, seat, filters),
        "channels": channel_refs(workspace, (f.state for c in page.customers for f in c.follows.all())),
        "rows": [(c, services.shown_phone(c.phone, role)) for c in page.customers],
        "can_edit": profiles.can_edit(seat),
        "actions": _actions_for(role),
        "phones_visible": services.may_see_phone(role),
        "next_url": f"?{urlencode({**query, 'after': page.next_cursor})}" if page.next_cursor else "",
        "first_url": f"?{urlencode(query)}" if query else "?",
        "filtered": page.filters.active,
        "scope": scope.value,
        "mine": page.filters.mine or scope == services.Scope.OWN_ACCOUNTS,
    })


@member_page
@require_POST
def bulk(request: MemberRequest) -> HttpResponse:
    """The list's bulk action bar: the checked customers go to the action an app offers
    (`SiyuApp.customer_actions`: tag and untag from tags, export from segments)."""
    seat = request.membership
    action = next((a for a in customer_actions() if a.key == request.POST.get("action")), None)
    if action is None:
        messages.error(request, _("Choose an action."))
        return redirect("customers:home")
    # Refuse a role before telling it anything about its selection.
    require(seat.role, Module.CUSTOMERS, Action.VIEW)
    require(seat.role, action.module, Action(action.needs))
    form = BulkForm(request.POST)
    back = request.POST.get("next") or reverse("customers:home")
    if not back.startswith("/"):
        back = reverse("customers:home")
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect(back)
    # Customer ops act only on their accounts' customers, whatever ids were posted.
    chosen = services.visible_ids(request.workspace, seat, form.cleaned_data["customers"])
    if not chosen:
        messages.error(request, _("Select customers from the list."))
        return redirect(back)
    return action.run(request, chosen, back)


# --- the profile --------------------------------------------------------------------------------

def _profile_page(request: MemberRequest, customer_id: int, *, edit_form: ProfileForm | None = None,
                  remark_forms: dict[int, RemarkForm] | None = None, status: int = 200) -> HttpResponse:
    workspace, seat = request.workspace, request.membership
    profile = services.customer_profile(workspace, seat, customer_id)
    customer = profile.customer
    custom_fields = [v.field for v in profile.field_values]
    if edit_form is None and profile.can_edit:
        initial = {"phone": customer.phone if services.may_see_phone(seat.role) else "",
                   "birthday": customer.birthday.isoformat() if customer.birthday else ""}
        initial.update({f"field_{v.field.key}": v.value for v in profile.field_values if v.value is not None})
        edit_form = ProfileForm(initial=initial, custom_fields=custom_fields)
    forms_by_relation = remark_forms or {}
    may_transfer = allows(seat.role, Module.CUSTOMERS, Action.EDIT)  # the transfer service checks it again
    follows = [(f, forms_by_relation.get(f.pk) or RemarkForm(
        initial={"remark": f.remark, "description": f.description}, prefix=f"r{f.pk}")) for f in profile.follows]
    return render(request, "customers/customer.html", {
        "profile": profile, "customer": customer, "edit_form": edit_form, "follows": follows,
        "phones_visible": services.may_see_phone(seat.role),
        # the follows' states and the adds' on the timeline (an add's detail is its state)
        "channels": channel_refs(workspace, [*(f.state for f in profile.follows),
                                             *(e.detail for e in profile.timeline if e.kind == TimelineKind.ADDED)]),
        "added_kind": TimelineKind.ADDED.value,
        "transfer_from": [f for f in profile.follows if f.active] if may_transfer else [],
        "takeover_accounts": [a for a in churn.account_options(workspace, seat) if a.active] if may_transfer else [],
        "panels": [(panel.template, context) for panel in profile_panels()
                   if (context := panel.render_context(workspace, seat, customer)) is not None],
    }, status=status)


@member_page
def customer(request: MemberRequest, customer_id: int) -> HttpResponse:
    return _profile_page(request, customer_id)


@member_page
@require_POST
def customer_edit(request: MemberRequest, customer_id: int) -> HttpResponse:
    workspace, seat = request.workspace, request.membership
    form = ProfileForm(request.POST, custom_fields=profiles.list_fields(workspace, seat))
    if form.is_valid():
        values = {"birthday": form.cleaned_data["birthday"], "fields": form.custom_values()}
        # A role that sees the phone masked never gets it in the form, so it does not send one.
        if services.may_see_phone(seat.role):
            values["phone"] = form.cleaned_data["phone"]
        try:
            profiles.update_profile(workspace, seat, customer_id, **values)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Profile saved."))
            return redirect("customers:customer", customer_id)
    return _profile_page(request, customer_id, edit_form=form, status=400)


@member_page
@require_POST
def customer_remark(request: MemberRequest, customer_id: int, relation_id: int) -> HttpResponse:
    workspace, seat = request.workspace, request.membership
    form = RemarkForm(request.POST, prefix=f"r{relation_id}")
    if form.is_valid():
        try:
            profiles.remark_follow(workspace, seat, customer_id, relation_id, remark=form.cleaned_data["remark"],
                                   description=form.cleaned_data["description"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Remark saved in WeCom."))
            return redirect("customers:customer", customer_id)
    return _profile_page(request, customer_id, remark_forms={relation_id: form}, status=400)


# --- custom fields ------------------------------------------------------------------------------

def _save_field(request: MemberRequest, form: FieldForm, field_id: int | None) -> bool:
    workspace, seat = request.workspace, request.membership
    if not form.is_valid():
        return False
    data = form.cleaned_data
    try:
        profiles.save_field(workspace, seat, field_id, key=data.get("key") or "", label=data["label"],
                            kind=data["kind"], choices=data["choices"], position=data["position"] or 0)
    except ValidationError as exc:
        apply_errors(form, exc)
        return False
    return True


@member_page
def fields(request: MemberRequest) -> HttpResponse:
    workspace, seat = request.workspace, request.membership
    rows = profiles.list_fields(workspace, seat)
    form = FieldForm(request.POST or None)
    if request.method == "POST" and _save_field(request, form, None):
        messages.success(request, _("Custom field added."))
        return redirect("customers:fields")
    return render(request, "customers/fields.html", {
        "rows": rows, "form": form, "can_edit": profiles.can_edit(seat),
    }, status=400 if request.method == "POST" else 200)


@member_page
def field_edit(request: MemberRequest, field_id: int) -> HttpResponse:
    workspace, seat = request.workspace, request.membership
    custom = profiles.get_field(workspace, seat, field_id)
    if not profiles.can_edit(seat):
        raise PermissionDenied(_("Your role may not edit custom fields."))
    initial = {"key": custom.key, "label": custom.label, "kind": custom.kind,
               "choices": "\n".join(custom.choices), "position": custom.position}
    form = FieldForm(request.POST or None, initial=initial, editing=custom)
    if request.method == "POST" and _save_field(request, form, custom.pk):
        messages.success(request, _("Custom field saved."))
        return redirect("customers:fields")
    return render(request, "customers/field_form.html", {"form": form, "field": custom},
                  status=400 if request.method == "POST" else 200)


@member_page
@require_POST
def field_delete(request: MemberRequest, field_id: int) -> HttpResponse:
    workspace, seat = request.workspace, request.membership
    n = profiles.delete_field(workspace, seat, field_id)
    messages.success(request, _("Custom field deleted; %(n)s customers had a value.") % {"n": n})
    return redirect("customers:fields")


# --- full sync ----------------------------------------------------------------------------------

@member_page
def sync(request: MemberRequest) -> HttpResponse:
    workspace, seat = request.workspace, request.membership
    history = syncs.sync_history(workspace, seat)
    current = history[0] if history else None
    return render(request, "customers/sync.html", {
        "history": history, "current": current, "can_edit": profiles.can_edit(seat),
        "running": syncs.running_sync(workspace) is not None,
        "progress": syncs.progress_of(current) if current else 0,
        "stale": current is not None and syncs.is_stale(current),
    })


@member_page
def sync_status(request: MemberRequest, sync_id: int) -> HttpResponse:
    """The progress card alone, polled by HTMX while the sync runs."""
    workspace, seat = request.workspace, request.membership
    current = syncs.get_sync(workspace, seat, sync_id)
    return render(request, "customers/_sync_status.html", {
        "current": current, "progress": syncs.progress_of(current), "can_edit": profiles.can_edit(seat),
        "stale": syncs.is_stale(current),
    })


@member_page
@require_POST
def sync_start(request: MemberRequest) -> HttpResponse:
    try:
        syncs.start_sync(request.workspace, request.membership)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Sync started."))
    return redirect("customers:sync")


@member_page
@require_POST
def sync_resume(request: MemberRequest, sync_id: int) -> HttpResponse:
    try:
        syncs.resume_sync(request.workspace, request.membership, sync_id)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Sync resumed."))
    return redirect("customers:sync")

