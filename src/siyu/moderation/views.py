"""群规与治理 console pages (a section of 社群): rules, the blacklist with removal tasks, alerts
with keywords and reports, and the anti-spam checklist. Thin: parse, call `moderation.services`, render."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from siyu.community.models import CustomerGroup
from siyu.moderation import services
from siyu.moderation.forms import (
    TEMPLATE_CHOICES,
    EntryForm,
    KeywordsForm,
    LiftForm,
    RemovalForm,
    ReportForm,
    RulesForm,
)
from siyu.sop.models import StaffTask
from siyu.web import MemberRequest, apply_errors, member_page

LIST_ROWS = 100


def _can_edit(request: MemberRequest) -> bool:
    return services.can_edit(request.membership)


def _groups(request: MemberRequest) -> list[tuple[int, str]]:
    return list(CustomerGroup.objects.for_workspace(request.workspace).filter(dismissed_at__isnull=True)
                .order_by("name").values_list("pk", "name"))


def _page(request: MemberRequest, template: str, tab: str, context: dict[str, object]) -> HttpResponse:
    return render(request, f"moderation/{template}", {"tab": tab, "can_edit": _can_edit(request), **context})


@member_page
def rules(request: MemberRequest) -> HttpResponse:
    """The brand's rule sets, how many groups' notices carry each, and publishing."""
    services.require_view(request.membership)
    workspace = request.workspace
    rows = []
    for rule_set in services.rules_of(workspace):
        groups = services.groups_under(workspace, rule_set)
        text = services.rules_text(rule_set)
        rows.append({"rules": rule_set, "text": text, "groups": len(groups),
                     "carrying": sum(services.notice_carries(g, text) for g in groups)})
    return _page(request, "rules.html", "rules", {"rows": rows, "templates": services.TEMPLATES})


@member_page
def rules_edit(request: MemberRequest, rules_id: int | None = None) -> HttpResponse:
    services.require_edit(request.membership)
    workspace = request.workspace
    found = services.get_rules(workspace, request.membership, rules_id) if rules_id else None
    if request.method == "POST":
        form = RulesForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            try:
                services.save_rules(workspace, request.membership, name=d["name"], group_type=d["group_type"],
                                    join_rules=d["join_rules"], behaviour=d["behaviour"], penalties=d["penalties"],
                                    template=d["template"], rules_id=found.pk if found else None)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Group rules saved. Publish them to give the owners the new notice."))
                return redirect("moderation:rules")
    elif found is not None:
        form = RulesForm(initial={"name": found.name, "group_type": found.group_type, "join_rules": found.join_rules,
                                  "behaviour": found.behaviour, "penalties": found.penalties})
    else:
        template = services.TEMPLATE_KEYS.get(request.GET.get("template", ""))
        form = RulesForm(initial={"name": template.title, "join_rules": template.join_rules, "template": template.key,
                                  "behaviour": template.behaviour, "penalties": template.penalties} if template else {})
    return _page(request, "rules_edit.html", "rules", {"form": form, "found": found, "template_choices": TEMPLATE_CHOICES})


@member_page
@require_POST
def rules_publish(request: MemberRequest, rules_id: int) -> HttpResponse:
    made = services.publish_rules(request.workspace, request.membership, rules_id)
    messages.success(request, _("Published: %(n)s group owners have a task to post the notice.") % {"n": made})
    return redirect("moderation:rules")


@member_page
def blacklist(request: MemberRequest) -> HttpResponse:
    workspace = request.workspace
    entries = services.list_entries(workspace, request.membership)
    entry_form, removal_form = EntryForm(), RemovalForm(group_choices=_groups(request))
    if request.method == "POST":
        try:
            if request.POST.get("form") == "removal":
                removal_form = RemovalForm(request.POST, group_choices=_groups(request))
                if removal_form.is_valid():
                    d = removal_form.cleaned_data
                    services.removal_task(workspace, request.membership, group_id=d["group"], userid=d["userid"],
                                          reason=d["reason"])
                    messages.success(request, _("The group's owner has a task to remove the member."))
                    return redirect("moderation:blacklist")
            else:
                entry_form = EntryForm(request.POST)
                if entry_form.is_valid():
                    services.add_entry(workspace, request.membership, **entry_form.cleaned_data)
                    messages.success(request, _("Added to the blacklist."))
                    return redirect("moderation:blacklist")
        except ValidationError as exc:
            apply_errors(removal_form if request.POST.get("form") == "removal" else entry_form, exc)
    hits = list(services.list_hits(workspace, request.membership)[:LIST_ROWS])
    tasks = StaffTask.objects.for_workspace(workspace).in_bulk([h.task_id for h in hits if h.task_id])
    return _page(request, "blacklist.html", "blacklist", {
        "entries": entries[:LIST_ROWS], "lifted": services.list_entries(workspace, request.membership, lifted=True)[:20],
        "hits": [(h, tasks.get(h.task_id or 0)) for h in hits], "entry_form": entry_form,
        "removal_form": removal_form, "lift_form": LiftForm()})


@member_page
@require_POST
def blacklist_lift(request: MemberRequest, entry_id: int) -> HttpResponse:
    form = LiftForm(request.POST)
    try:
        services.lift_entry(request.workspace, request.membership, entry_id,
                            form.data.get("reason", "")[:200])
    except ValidationError as exc:
        messages.error(request, " ".join(m for ms in exc.message_dict.values() for m in ms))
    else:
        messages.success(request, _("Taken off the blacklist."))
    return redirect("moderation:blacklist")


@member_page
def alerts(request: MemberRequest) -> HttpResponse:
    workspace = request.workspace
    rows = list(services.list_alerts(workspace, request.membership)[:LIST_ROWS])
    report_form = ReportForm(group_choices=_groups(request))
    keywords_form = KeywordsForm(initial={"words": "\n".join(services.keywords_of(workspace))})
    if request.method == "POST":
        try:
            if request.POST.get("form") == "keywords":
                keywords_form = KeywordsForm(request.POST)
                if keywords_form.is_valid():
                    services.set_keywords(workspace, request.membership, keywords_form.cleaned_data["words"])
                    messages.success(request, _("Keywords saved."))
                    return redirect("moderation:alerts")
            else:
                report_form = ReportForm(request.POST, group_choices=_groups(request))
                if report_form.is_valid():
                    d = report_form.cleaned_data
                    services.report(workspace, request.membership, services.ReportInput(
                        d["group"], d["userid"], d["text"], d["blacklist"]))
                    messages.success(request, _("Reported: the group's owner has a task."))
                    return redirect("moderation:alerts")
        except ValidationError as exc:
            apply_errors(keywords_form if request.POST.get("form") == "keywords" else report_form, exc)
    tasks = StaffTask.objects.for_workspace(workspace).in_bulk([a.task_id for a in rows if a.task_id])
    return _page(request, "alerts.html", "alerts", {
        "rows": [(a, tasks.get(a.task_id or 0)) for a in rows], "report_form": report_form,
        "keywords_form": keywords_form})


@member_page
def checklist(request: MemberRequest) -> HttpResponse:
    if request.method == "POST":
        services.tick(request.workspace, request.membership, request.POST.get("item", "")[:20],
                      request.POST.get("on") == "1")
        return redirect("moderation:checklist")
    lines = services.checklist(request.workspace, request.membership)
    return _page(request, "checklist.html", "checklist", {"lines": lines, "done": sum(1 for x in lines if x.tick)})

