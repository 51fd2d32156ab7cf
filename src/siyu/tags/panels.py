"""What the tags app adds to the customers hub's pages: the profile's tags panel and the
customer list's bulk tag / untag actions (declared in `TagsConfig`)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from siyu.core.bounds import parse_id
from siyu.core.models import Membership, Workspace
from siyu.customers.models import Customer
from siyu.customers.services.profile import can_edit
from siyu.tags.models import CustomerTag
from siyu.tags.services import catalogue, tagging
from siyu.web import MemberRequest


def tag_choices(workspace: Workspace) -> list[tuple[int, str]]:
    return [(t.pk, f"{t.group.name} / {t.name}") for t in catalogue.live_tags(workspace)]


def customer_tags_panel(workspace: Workspace, membership: Membership, customer: Customer) -> dict[str, Any]:
    links = list(CustomerTag.objects.for_workspace(workspace).filter(customer=customer)
                 .select_related("tag", "tag__group", "account").order_by("tag__group__name", "tag__name"))
    editable = can_edit(membership)
    held = {link.tag_id for link in links}
    return {
        "customer": customer, "links": links, "can_edit": editable,
        "addable": [(pk, label) for pk, label in tag_choices(workspace) if pk not in held] if editable else [],
    }


def chosen_tags(request: MemberRequest) -> list[int]:
    """The tag ids posted as `tags`, kept only if they are the brand's live tags."""
    live = {pk for pk, _label in tag_choices(request.workspace)}
    return [i for i in map(parse_id, request.POST.getlist("tags")) if i is not None and i in live]


def _apply(request: MemberRequest, customer_ids: list[int], back: str, *, untag: bool) -> HttpResponse:
    tag_ids = chosen_tags(request)
    if not tag_ids:
        messages.error(request, _("Choose at least one tag."))
        return redirect(back)
    workspace, seat = request.workspace, request.membership
    if untag:
        outcome = tagging.untag_customers_outcome(workspace, seat, customer_ids, tag_ids)
    else:
        outcome = tagging.tag_customers_outcome(workspace, seat, customer_ids, tag_ids)
    (messages.warning if outcome.failed else messages.success)(request, outcome.summary())
    return redirect(back)


def bulk_tag(request: MemberRequest, customer_ids: list[int], back: str) -> HttpResponse:
    return _apply(request, customer_ids, back, untag=False)


def bulk_untag(request: MemberRequest, customer_ids: list[int], back: str) -> HttpResponse:
    return _apply(request, customer_ids, back, untag=True)


def refuse_unless_editor(membership: Membership) -> None:
    if not can_edit(membership):
        raise PermissionDenied(_("Your role may not tag customers."))
