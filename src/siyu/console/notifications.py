"""站内通知 pages of the console shell: a member's own notices, marking them read, and opening
one (read, then go to what it is about). Included by `console.urls` under `notifications/`; the
service is `siyu.core.notifications`, the API `siyu.console.notifications_api`."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from siyu.core import notifications
from siyu.web import MemberRequest, member_page


@member_page
def notification_list(request: MemberRequest) -> HttpResponse:
    unread_only = request.GET.get("unread") == "1"
    page = notifications.page_for(request.workspace, request.membership, request.GET.get("page") or 1,
                                  unread_only=unread_only)
    return render(request, "console/notifications.html", {
        "page": page, "unread_only": unread_only,
        "unread": notifications.unread_count(request.workspace, request.membership),
    })


@member_page
@require_POST
def notification_read(request: MemberRequest) -> HttpResponse:
    """Mark read the notices ticked (`id`), or all of them (`all=1`)."""
    ids = None if request.POST.get("all") == "1" else [int(i) for i in request.POST.getlist("id") if i.isdigit()]
    notifications.mark_read(request.workspace, request.membership, ids)
    if request.htmx:
        return render(request, "console/notifications_bell.html", {
            "unread": notifications.unread_count(request.workspace, request.membership)})
    return redirect("console:notifications")


@member_page
def notification_open(request: MemberRequest, notification_id: int) -> HttpResponse:
    """Open one of my notices: it becomes read and I go to its page (a local link only)."""
    notice = notifications.list_for(request.workspace, request.membership).get(pk=notification_id)
    notifications.mark_read(request.workspace, request.membership, [notice.pk])
    if notice.url and url_has_allowed_host_and_scheme(notice.url, allowed_hosts=None):
        return redirect(notice.url)
    return redirect("console:notifications")


urlpatterns = [
    path("", notification_list, name="notifications"),
    path("read/", notification_read, name="notifications_read"),
    path("<int:notification_id>/", notification_open, name="notification_open"),
]
