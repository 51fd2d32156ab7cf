"""客户朋友圈 console pages. Thin: parse, call `moments.services`, render; services check roles."""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from siyu.accounts.models import StaffAccount
from siyu.content.services import material_choices
from siyu.ip.models import Persona
from siyu.moments import services
from siyu.moments.forms import PostForm
from siyu.moments.models import MomentPost, MomentSender
from siyu.tags.models import Tag
from siyu.web import MemberRequest, apply_errors, member_page
from siyu.wecom.client import WeComError
from siyu.wecom.services import NotConnected


def _month(value: str | None, today: dt.date) -> dt.date:
    try:
        year, month = (int(p) for p in (value or "").split("-"))
        return dt.date(year, month, 1) if 1900 <= year <= 2999 else today.replace(day=1)
    except ValueError:
        return today.replace(day=1)


def _personas(request: MemberRequest) -> list[Persona]:
    return list(Persona.objects.for_workspace(request.workspace).order_by("pk").only("pk", "name"))


@member_page
def home(request: MemberRequest) -> HttpResponse:
    services.require_view(request.membership)
    first = Persona.objects.for_workspace(request.workspace).order_by("pk").first()
    if first is None:
        return render(request, "moments/calendar.html", {"calendar": None, "personas": []})
    return redirect("moments:calendar", persona_id=first.pk)


@member_page
def calendar(request: MemberRequest, persona_id: int) -> HttpResponse:
    today = timezone.localdate()
    month = _month(request.GET.get("month"), today)
    cal = services.month_calendar(request.workspace, request.membership, persona_id, month)
    prev_month = (month - dt.timedelta(days=1)).replace(day=1)
    next_month = (month + dt.timedelta(days=32)).replace(day=1)
    return render(request, "moments/calendar.html", {
        "calendar": cal, "personas": _personas(request), "today": today, "prev_month": prev_month,
        "next_month": next_month, "colliding": cal.colliding_ids, "can_edit": services.can_edit(request.membership),
        "collide_hours": services.COLLIDE_HOURS, "weekdays": [WEEKDAYS_ABBR[i] for i in range(7)]})


def _form_kwargs(request: MemberRequest) -> dict[str, Any]:
    groups: dict[str, list[tuple[str, str]]] = {}
    for pk, name, group in (Tag.objects.for_workspace(request.workspace).filter(deleted_at__isnull=True)
                            .order_by("group__order", "group_id", "order", "pk").values_list("pk", "name", "group__name")):
        groups.setdefault(group, []).append((str(pk), name))
    return {"personas": _personas(request), "materials": material_choices(request.workspace, request.membership),
            "accounts": list(StaffAccount.objects.for_workspace(request.workspace).filter(active=True).order_by("userid")),
            "tags": list(groups.items())}


def _edit(request: MemberRequest, post: MomentPost | None) -> HttpResponse:
    services.require_edit(request.membership)
    kwargs = _form_kwargs(request)
    if request.method == "POST":
        form = PostForm(request.POST, **kwargs)
        if form.is_valid():
            try:
                saved = services.save_post(request.workspace, request.membership,
                                           form.to_input(schedule="draft" not in request.POST),
                                           post.pk if post else None)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Post saved."))
                return redirect("moments:post", post_id=saved.pk)
    elif post is not None:
        form = PostForm(initial=PostForm.initial_from(post), **kwargs)
    else:
        initial: dict[str, Any] = {}
        if (persona := request.GET.get("persona", "")).isdigit():
            initial["persona"] = int(persona)
        if day := request.GET.get("day", ""):
            with contextlib.suppress(ValueError):
                initial["planned_at"] = dt.datetime.combine(dt.date.fromisoformat(day), dt.time(9, 0))
        form = PostForm(initial=initial, **kwargs)
    return render(request, "moments/post_form.html", {"form": form, "post": post})


@member_page
def new(request: MemberRequest) -> HttpResponse:
    return _edit(request, None)


@member_page
def edit(request: MemberRequest, post_id: int) -> HttpResponse:
    return _edit(request, services.get_post(request.workspace, request.membership, post_id))


@member_page
def post(request: MemberRequest, post_id: int) -> HttpResponse:
    item = services.get_post(request.workspace, request.membership, post_id)
    senders = list(MomentSender.objects.for_workspace(request.workspace).filter(post=item)
                   .select_related("account").order_by("-published", "userid"))
    return render(request, "moments/post.html", {
        "post": item, "senders": senders, "materials": services.post_materials(request.workspace, item),
        "collisions": services.warnings_for(request.workspace, item), "can_edit": services.can_edit(request.membership),
        "accounts": list(StaffAccount.objects.for_workspace(request.workspace).filter(pk__in=item.sender_ids)
                         .order_by("userid").values_list("name", flat=True)),
        "tags": list(Tag.objects.for_workspace(request.workspace).filter(pk__in=item.tag_ids)
                     .order_by("pk").values_list("name", flat=True))})


@require_POST
@member_page
def delete(request: MemberRequest, post_id: int) -> HttpResponse:
    item = services.get_post(request.workspace, request.membership, post_id)
    try:
        services.delete_post(request.workspace, request.membership, post_id)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("moments:post", post_id=post_id)
    messages.success(request, _("Post deleted."))
    return redirect("moments:calendar", persona_id=item.persona_id)


@require_POST
@member_page
def refresh(request: MemberRequest, post_id: int) -> HttpResponse:
    try:
        services.refresh_one(request.workspace, request.membership, post_id)
    except MomentPost.DoesNotExist as exc:
        raise Http404 from exc
    except (WeComError, NotConnected) as exc:
        messages.error(request, str(exc))
    return redirect("moments:post", post_id=post_id)
