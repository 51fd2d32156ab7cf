"""标签 console pages. Thin: parse the form, call `tags.services`, render or redirect with the
outcome; services check roles and WeCom's refusals come back as messages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from siyu.customers.channel_codes import channel_choices, channel_refs
from siyu.customers.models import CustomField
from siyu.customers.services import customer_profile as profile_of
from siyu.tags import panels
from siyu.tags.forms import GroupForm, RenameForm, RuleForm, TagForm, TaggingForm, split_names
from siyu.tags.models import RuleKind as TagRuleKind
from siyu.tags.models import TagSource
from siyu.tags.services import catalogue, completeness, rules, tagging
from siyu.web import MemberRequest, apply_errors, member_page


def _tag_choices(request: MemberRequest) -> list[tuple[int, str]]:
    return [(t.pk, f"{t.group.name} / {t.name}") for t in catalogue.live_tags(request.workspace)]


def _home(request: MemberRequest, **forms: Any) -> HttpResponse:
    workspace, seat = request.workspace, request.membership
    groups = catalogue.live_groups(workspace, seat)
    return render(request, "tags/home.html", {
        "groups": groups,
        "tag_count": sum(len(g.live_tags) for g in groups),  # what there is now, not what the last sync saw
        "last_sync": catalogue.last_sync(workspace),
        "report": completeness.completeness_report(workspace, seat),
        "can_edit": catalogue.can_edit(seat),
        "group_form": forms.get("group_form") or GroupForm(),
        "tagging_form": forms.get("tagging_form") or TaggingForm(tag_choices=_tag_choices(request)),
    })


@member_page
def home(request: MemberRequest) -> HttpResponse:
    return _home(request)


def _action(back: str = "tags:home") -> Callable[[Callable[..., str]], Callable[..., HttpResponseBase]]:
    """A POST that calls a service and returns to `back` with its outcome as a message."""

    def decorate(view: Callable[..., str]) -> Callable[..., HttpResponseBase]:
        @wraps(view)
        @member_page
        @require_POST
        def wrapper(request: MemberRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                text = view(request, *args, **kwargs)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(request, text)
            return redirect(back)

        return wrapper

    return decorate


@member_page
@require_POST
def group_create(request: MemberRequest) -> HttpResponse:
    form = GroupForm(request.POST)
    if form.is_valid():
        try:
            group = catalogue.create_group(request.workspace, request.membership, form.cleaned_data["name"],
                                           split_names(form.cleaned_data["tag_names"]),
                                           required=form.cleaned_data["required"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Tag group “%(name)s” created in WeCom.") % {"name": group.name})
            return redirect("tags:home")
    return _home(request, group_form=form)


@_action()
def tag_create(request: MemberRequest, group_id: int) -> str:
    form = TagForm(request.POST)
    if not form.is_valid():
        raise ValidationError(_("Enter a tag name of at most 30 characters."))
    tag = catalogue.create_tag(request.workspace, request.membership, group_id, form.cleaned_data["name"])
    return _("Tag “%(name)s” created in WeCom.") % {"name": tag.name}


@_action()
def group_edit(request: MemberRequest, group_id: int) -> str:
    form = RenameForm(request.POST)
    if not form.is_valid():
        raise ValidationError(_("Enter a name of at most 30 characters."))
    group = catalogue.edit_group(request.workspace, request.membership, group_id,
                                 name=form.cleaned_data["name"], order=form.cleaned_data["order"])
    return _("Tag group “%(name)s” saved in WeCom.") % {"name": group.name}


@_action()
def tag_edit(request: MemberRequest, tag_id: int) -> str:
    form = RenameForm(request.POST)
    if not form.is_valid():
        raise ValidationError(_("Enter a name of at most 30 characters."))
    tag = catalogue.edit_tag(request.workspace, request.membership, tag_id,
                             name=form.cleaned_data["name"], order=form.cleaned_data["order"])
    return _("Tag “%(name)s” saved in WeCom.") % {"name": tag.name}


@_action()
def group_delete(request: MemberRequest, group_id: int) -> str:
    group = catalogue.delete_group(request.workspace, request.membership, group_id)
    return _("Tag group “%(name)s” deleted in WeCom and from every customer.") % {"name": group.name}


@_action()
def tag_delete(request: MemberRequest, tag_id: int) -> str:
    tag = catalogue.delete_tag(request.workspace, request.membership, tag_id)
    return _("Tag “%(name)s” deleted in WeCom and from every customer.") % {"name": tag.name}


@_action()
def group_required(request: MemberRequest, group_id: int) -> str:
    required = request.POST.get("required") == "1"
    group = catalogue.set_required(request.workspace, request.membership, group_id, required)
    if required:
        return _("“%(name)s” now counts toward tag completeness; every customer is being recomputed.") % {
            "name": group.name}
    return _("“%(name)s” no longer counts toward tag completeness.") % {"name": group.name}


@member_page
@require_POST
def sync(request: MemberRequest) -> HttpResponse:
    run = catalogue.sync_tags(request.workspace, request.membership)
    if run.error:
        messages.error(request, _("Sync from WeCom failed: %(error)s") % {"error": run.error})
    else:
        messages.success(request, _("Synced from WeCom: %(groups)s groups, %(tags)s tags; %(created)s new, "
                                    "%(updated)s changed, %(deleted)s deleted.") % {
            "groups": run.groups_seen, "tags": run.tags_seen, "created": run.created, "updated": run.updated,
            "deleted": run.deleted})
    return redirect("tags:home")


@member_page
@require_POST
def bulk(request: MemberRequest) -> HttpResponse:
    form = TaggingForm(request.POST, tag_choices=_tag_choices(request))
    if form.is_valid():
        d = form.cleaned_data
        tag_ids = [int(t) for t in d["tag_ids"]]
        workspace, seat = request.workspace, request.membership
        try:
            if len(d["customer_ids"]) > tagging.BACKGROUND_OVER:
                queued = tagging.queue_tagging(workspace, seat, d["customer_ids"], tag_ids, untag=d["untag"])
            elif d["untag"]:
                outcome = tagging.untag_customers_outcome(workspace, seat, d["customer_ids"], tag_ids)
            else:
                outcome = tagging.tag_customers_outcome(workspace, seat, d["customer_ids"], tag_ids, TagSource.BULK)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            if len(d["customer_ids"]) > tagging.BACKGROUND_OVER:
                messages.info(request, _("%(n)s customers queued; you will get a notification when it is done.")
                              % {"n": queued})
            else:
                (messages.warning if outcome.failed else messages.success)(request, outcome.summary())
            return redirect("tags:home")
    return _home(request, tagging_form=form)


@member_page
@require_POST
def customer_tags(request: MemberRequest, customer_id: int) -> HttpResponse:
    """The profile's tags panel: add the chosen tags, or remove one (`remove`), on one customer."""
    workspace, seat = request.workspace, request.membership
    profile_of(workspace, seat, customer_id)  # not found for another brand
    panels.refuse_unless_editor(seat)
    tag_ids = panels.chosen_tags(request)
    if not tag_ids:
        messages.error(request, _("Choose a tag."))
    else:
        change = tagging.untag_customers_outcome if request.POST.get("remove") else tagging.tag_customers_outcome
        outcome = change(workspace, seat, [customer_id], tag_ids)
        (messages.warning if outcome.failed else messages.success)(request, outcome.summary())
    return redirect("customers:customer", customer_id)


# --- rules ---------------------------------------------------------------------------------------

@member_page
def rule_list(request: MemberRequest) -> HttpResponse:
    workspace, seat = request.workspace, request.membership
    fields = [(f.key, f"{f.label} ({f.key})") for f in CustomField.objects.for_workspace(workspace)]
    form = RuleForm(request.POST or None, tag_choices=_tag_choices(request), field_choices=fields,
                    channel_choices=channel_choices(workspace))
    if request.method == "POST" and form.is_valid():
        try:
            rule = rules.create_rule(workspace, seat, form.to_input())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Rule “%(name)s” created; run it now to tag the customers it "
                                        "already matches.") % {"name": rule.name})
            return redirect("tags:rules")
    listed = rules.list_rules(workspace, seat)
    return render(request, "tags/rules.html", {
        "rules": listed, "form": form, "can_edit": catalogue.can_edit(seat),
        "channels": channel_refs(workspace, (s for r in listed if r.kind == TagRuleKind.CHANNEL for s in r.params.get("states", []))),
    })


@_action("tags:rules")
def rule_toggle(request: MemberRequest, rule_id: int) -> str:
    rule = rules.set_enabled(request.workspace, request.membership, rule_id, request.POST.get("enabled") == "1")
    return (_("Rule “%(name)s” enabled.") if rule.enabled else _("Rule “%(name)s” paused.")) % {"name": rule.name}


@_action("tags:rules")
def rule_run(request: MemberRequest, rule_id: int) -> str:
    added = rules.run_rule(request.workspace, request.membership, rule_id)
    return _("The rule tagged %(n)s customers.") % {"n": added}


@_action("tags:rules")
def rule_delete(request: MemberRequest, rule_id: int) -> str:
    rules.delete_rule(request.workspace, request.membership, rule_id)
    return _("Rule deleted; the tags it put on stay.")
