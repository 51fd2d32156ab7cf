"""The callback endpoint WeCom calls, and the connector's console pages."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from siyu.core.permissions import Action, Module, allows
from siyu.web import MemberRequest, apply_errors, member_page
from siyu.wecom import services, wechat
from siyu.wecom.forms import ConnectionForm, ServiceAccountForm
from siyu.wecom.models import InboundEvent, InboundStatus


@csrf_exempt
@require_http_methods(["GET", "POST"])
def callback(request: HttpRequest, slug: str) -> HttpResponse:
    """WECOM.md §2: GET answers the URL check; POST stores the event and answers 200 at once."""
    q = request.GET
    try:
        if request.method == "GET":
            plaintext = services.verify_url(
                slug, q.get("msg_signature", ""), q.get("timestamp", ""), q.get("nonce", ""), q.get("echostr", ""),
                request.META.get("REMOTE_ADDR"),
            )
            return HttpResponse(plaintext, content_type="text/plain; charset=utf-8")
        if int(request.META.get("CONTENT_LENGTH") or 0) > services.MAX_CALLBACK_BYTES:
            return HttpResponse("too_large", status=413, content_type="text/plain")
        services.receive_callback(
            slug, q.get("msg_signature", ""), q.get("timestamp", ""), q.get("nonce", ""), request.body,
            request.META.get("REMOTE_ADDR"),
        )
    except services.CallbackRefused as refused:
        return HttpResponse(refused.reason, status=refused.status, content_type="text/plain")
    return HttpResponse(b"", content_type="text/plain")


@member_page
def settings_page(request: MemberRequest) -> HttpResponse:
    workspace, seat = request.workspace, request.membership
    health = services.health(workspace, seat)
    connection = services.connection_of(workspace)
    initial = {"corp_id": connection.corp_id, "agent_id": connection.agent_id, "api_base": connection.api_base} if connection else {}
    account = wechat.service_account_of(workspace)
    account_initial = (
        {"app_id": account.app_id, "api_base": account.api_base, "oauth_base": account.oauth_base} if account else {}
    )
    posted_account = request.method == "POST" and request.POST.get("form") == "service_account"
    form = ConnectionForm(request.POST if request.method == "POST" and not posted_account else None, initial=initial)
    account_form = ServiceAccountForm(request.POST if posted_account else None, initial=account_initial,
                                      prefix="mp")
    if posted_account and account_form.is_valid():
        try:
            wechat.configure_service_account(workspace, seat, **account_form.cleaned_data)
        except ValidationError as exc:
            apply_errors(account_form, exc)
        else:
            messages.success(request, _("Service account settings saved."))
            return redirect("wecom:settings")
    if request.method == "POST" and not posted_account and form.is_valid():
        try:
            services.configure(workspace, seat, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("WeCom settings saved."))
            return redirect("wecom:settings")
    callback_url = request.build_absolute_uri(reverse("wecom:callback", args=[workspace.slug]))
    return render(request, "wecom/settings.html", {
        "form": form, "connection": connection, "health": health, "callback_url": callback_url,
        "account_form": account_form, "account": account,
        "can_edit": allows(seat.role, Module.SYSTEM, Action.EDIT),
    })


@member_page
@require_POST
def test_connection(request: MemberRequest) -> HttpResponse:
    try:
        messages.success(request, services.test_connection(request.workspace, request.membership))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("wecom:settings")


@member_page
def inbound_page(request: MemberRequest) -> HttpResponse:
    workspace, seat = request.workspace, request.membership
    kind, status = request.GET.get("kind", ""), request.GET.get("status", "")
    selected = None
    if request.GET.get("id", "").isdigit():
        selected = InboundEvent.objects.for_workspace(workspace).filter(pk=int(request.GET["id"])).first()
    return render(request, "wecom/inbound.html", {
        "events": services.inbound_events(workspace, seat, kind, status if status in InboundStatus.values else ""),
        "kinds": services.inbound_kinds(workspace), "statuses": InboundStatus.choices,
        "kind": kind, "status": status, "selected": selected,
    })


@member_page
@require_POST
def reprocess(request: MemberRequest, event_id: int) -> HttpResponse:
    services.reprocess(request.workspace, request.membership, event_id)
    messages.success(request, _("Queued for processing again."))
    return redirect(f"{reverse('wecom:inbound')}?id={event_id}")


@member_page
def calls_page(request: MemberRequest) -> HttpResponse:
    calls = services.api_calls(request.workspace, request.membership)
    return render(request, "wecom/calls.html", {"calls": calls})
