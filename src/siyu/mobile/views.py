"""Phone pages: the staff chat sidebar (`/m/<brand>/staff/…`) and fans' pages (`/m/<brand>/f/…`,
`/m/<brand>/fan/…`). Thin: who is on the phone (`sessions`), then `mobile.services`, then render.

Staff arrive from the WeCom client: a page without a staff session sends them through WeCom
OAuth (no password on the phone) and back. Fans arrive by a signed link: without a fan session
they go through the service account's web OAuth, are matched to the brand's customer by unionid,
and land on the page the link names.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    JsonResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_ratelimit.core import is_ratelimited

from siyu.accounts.models import StaffAccount
from siyu.core import bounds
from siyu.core.middleware import content_security_policy
from siyu.core.models import Workspace
from siyu.core.tenancy import workspace_context
from siyu.ip.models import Persona
from siyu.mobile import services, sessions
from siyu.points import services as points
from siyu.points.models import PointsEntry
from siyu.sop.services import SNOOZE_HOURS
from siyu.wecom import identity, wechat
from siyu.wecom.errors import WeComError
from siyu.wecom.services import NotConnected

FAN_RATE = "60/m"  # page views per fan, and per IP address, a minute
FAN_ENTRIES = 20  # the points page's recent entries


def _brand(slug: str) -> Workspace:
    try:
        return Workspace.objects.get(slug=slug)
    except Workspace.DoesNotExist as exc:
        raise Http404 from exc


def _problem(request: HttpRequest, title: str, detail: str, status: int) -> HttpResponse:
    return render(request, "mobile/problem.html", {"title": title, "detail": detail}, status=status)


def _phone_csp(request: HttpRequest, response: HttpResponseBase, extra_origin: str | None = None) -> HttpResponseBase:
    """The console's strict policy, plus the twin's JS-SDK stand-in where the brand is on the twin."""
    policy = content_security_policy(request.csp_nonce)  # type: ignore[attr-defined]
    policy = policy.replace("img-src 'self' data:", "img-src 'self' data: https:")
    if extra_origin:
        policy = (policy.replace("script-src 'self'", f"script-src 'self' {extra_origin}")
                  .replace("connect-src 'self'", f"connect-src 'self' {extra_origin}")
                  .replace("img-src 'self'", f"img-src 'self' {extra_origin}"))
    response["Content-Security-Policy"] = policy
    response["Cache-Control"] = "private, no-store"
    return response


# --- staff ----------------------------------------------------------------------------------------

StaffView = Callable[..., HttpResponseBase]


def staff_page(view: StaffView) -> Callable[..., HttpResponseBase]:
    """The brand's staff, signed in through WeCom OAuth; pages render with the JS-SDK allowed."""

    @wraps(view)
    def wrapper(request: HttpRequest, brand: str, *args: Any, **kwargs: Any) -> HttpResponseBase:
        workspace = _brand(brand)
        session = sessions.staff_session(request, workspace.pk)
        with workspace_context(workspace):
            try:
                account = services.account_by_id(workspace, session.account_id) if session else None
            except StaffAccount.DoesNotExist:
                account = None  # left the corp since: sign in again
            if account is None:
                if request.method != "GET":
                    return _phone_csp(request, _problem(request, _("Not allowed"),
                                                        _("Open the sidebar again from WeCom."), 403))
                return _staff_sign_in(request, workspace)
            try:
                response = view(request, workspace, account, *args, **kwargs)
            except PermissionDenied as exc:
                response = _problem(request, _("Not allowed"), str(exc), 403)
            except ObjectDoesNotExist:
                response = _problem(request, _("Not found"),
                                    _("This customer is not one of your WeCom friends."), 404)
        return _phone_csp(request, response, identity.twin_origin(workspace))

    return wrapper


def _staff_sign_in(request: HttpRequest, workspace: Workspace) -> HttpResponseBase:
    response = HttpResponse(status=302)
    state = sessions.start_oauth(request, response, request.get_full_path())
    callback = request.build_absolute_uri(reverse("mobile:staff_oauth", args=[workspace.slug]))
    try:
        response["Location"] = identity.staff_authorize_url(workspace, callback, state)
    except NotConnected:
        return _problem(request, _("WeCom is not connected"), _("An admin has to connect WeCom first."), 503)
    return response


def staff_oauth(request: HttpRequest, brand: str) -> HttpResponseBase:
    workspace = _brand(brand)
    back_to = sessions.finish_oauth(request, request.GET.get("state", ""))
    code = request.GET.get("code", "")
    if back_to is None or not code or not back_to.startswith(f"/m/{workspace.slug}/staff/"):
        return _phone_csp(request, _problem(request, _("Sign-in expired"), _("Open the sidebar again from WeCom."), 400))
    with workspace_context(workspace):
        try:
            userid = identity.staff_userid_from_code(workspace, code)
            account = services.staff_account(workspace, userid)
        except WeComError:
            return _phone_csp(request, _problem(request, _("Sign-in expired"),
                                                _("Open the sidebar again from WeCom."), 400))
        except StaffAccount.DoesNotExist:
            return _phone_csp(request, _problem(
                request, _("Not this brand's staff"),
                _("Your WeCom account is not one of this brand's accounts in Siyu. Ask an admin to sync the accounts."),
                403))
    response = redirect(back_to)
    sessions.start_staff_session(request, response, workspace.pk, account.pk)
    response.delete_cookie(sessions.STATE_COOKIE, path=sessions.COOKIE_PATH)
    return _phone_csp(request, response)


def _staff_context(request: HttpRequest, workspace: Workspace, account: StaffAccount, tab: str) -> dict[str, Any]:
    return {"workspace": workspace, "account": account, "tab": tab,
            "jssdk_url": identity.jssdk_script_url(workspace)}


@staff_page
def staff_home(request: HttpRequest, workspace: Workspace, account: StaffAccount) -> HttpResponse:
    """The page WeCom's chat toolbar opens: the script finds the open chat and moves on to its
    panel; outside a chat it stays here and shows today's tasks."""
    return render(request, "mobile/staff_home.html", {
        **_staff_context(request, workspace, account, "customer"), "tasks": services.my_tasks(workspace, account)})


@staff_page
def staff_signature(request: HttpRequest, workspace: Workspace, account: StaffAccount) -> HttpResponse:
    """The agentConfig signature for the page URL the JS-SDK asks about (this site's pages only)."""
    url = request.GET.get("url", "")
    if not url.startswith(request.build_absolute_uri("/m/")):
        return JsonResponse({"error": _("Only Siyu's own pages are signed.")}, status=400)
    return JsonResponse(identity.agent_config(workspace, url))


@staff_page
def staff_customer(request: HttpRequest, workspace: Workspace, account: StaffAccount,
                   external_userid: str) -> HttpResponse:
    panel = services.customer_panel(workspace, account, external_userid)
    return render(request, "mobile/staff_customer.html", {
        **_staff_context(request, workspace, account, "customer"), "panel": panel,
        "has": {t.tag_id for t in panel.tags}})


@require_POST
@staff_page
def staff_tag(request: HttpRequest, workspace: Workspace, account: StaffAccount, external_userid: str) -> HttpResponse:
    try:
        tag_id = int(request.POST.get("tag", ""))
    except ValueError:
        return _problem(request, _("Not saved"), _("Choose a tag."), 400)
    try:
        services.toggle_tag(workspace, account, external_userid, tag_id, request.POST.get("on") == "1")
    except (ValidationError, WeComError) as exc:
        return _problem(request, _("Not saved"), " ".join(getattr(exc, "messages", [str(exc)])), 400)
    return redirect(reverse("mobile:staff_customer", args=[workspace.slug, external_userid]) + "#tags")


@staff_page
def staff_group(request: HttpRequest, workspace: Workspace, account: StaffAccount, chat_id: str) -> HttpResponse:
    return render(request, "mobile/staff_group.html", {**_staff_context(request, workspace, account, "customer"),
                                                       "group": services.group_panel(workspace, account, chat_id)})


@staff_page
def staff_scripts(request: HttpRequest, workspace: Workspace, account: StaffAccount) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:100]
    return render(request, "mobile/staff_scripts.html", {
        **_staff_context(request, workspace, account, "scripts"), "q": q,
        "scripts": services.scripts(workspace, account, q)})


@require_POST
@staff_page
def staff_script_sent(request: HttpRequest, workspace: Workspace, account: StaffAccount, script_id: int) -> HttpResponse:
    return JsonResponse({"sent": services.record_script_sent(workspace, account, script_id)})


@staff_page
def staff_tasks(request: HttpRequest, workspace: Workspace, account: StaffAccount) -> HttpResponse:
    return render(request, "mobile/staff_tasks.html", {
        **_staff_context(request, workspace, account, "tasks"), "tasks": services.my_tasks(workspace, account),
        "snooze_hours": SNOOZE_HOURS})


@require_POST
@staff_page
def staff_task_action(request: HttpRequest, workspace: Workspace, account: StaffAccount, task_id: int,
                      action: str) -> HttpResponse:
    try:
        services.act_on_task(workspace, account, task_id, action, request.POST.get("value", ""))
    except ValidationError as exc:
        return _problem(request, _("Not saved"), " ".join(exc.messages), 400)
    return redirect("mobile:staff_tasks", workspace.slug)


# --- fans -----------------------------------------------------------------------------------------

def _fan_key(group: str, request: HttpRequest) -> str:
    return request.COOKIES.get(sessions.FAN_COOKIE, "")[:60] or "anonymous"


def _limited(request: HttpRequest) -> bool:
    """Over the rate per IP address, or per fan (their session cookie)."""
    return any(is_ratelimited(request, group="mobile.fan", key=key, rate=FAN_RATE, increment=True)
               for key in ("ip", _fan_key))


def fan_page(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """A fan of the brand, through the service account's OAuth; rate-limited; no JavaScript."""

    @wraps(view)
    def wrapper(request: HttpRequest, brand: str, *args: Any, **kwargs: Any) -> HttpResponseBase:
        workspace = _brand(brand)
        if _limited(request):
            return _phone_csp(request, _problem(request, _("Slow down"), _("Too many visits; try again in a minute."), 429))
        fan = sessions.fan_session(request, workspace.pk)
        with workspace_context(workspace):
            response = (_fan_sign_in(request, workspace, request.get_full_path()) if fan is None
                        else view(request, workspace, fan, *args, **kwargs))
        return _phone_csp(request, response)

    return wrapper


def _fan_sign_in(request: HttpRequest, workspace: Workspace, back_to: str) -> HttpResponseBase:
    response = HttpResponse(status=302)
    state = sessions.start_oauth(request, response, back_to)
    callback = request.build_absolute_uri(reverse("mobile:fan_oauth", args=[workspace.slug]))
    try:
        response["Location"] = wechat.fan_authorize_url(workspace, callback, state)
    except ObjectDoesNotExist:
        return _problem(request, _("Not available yet"), _("This brand has not connected its service account."), 503)
    return response


def fan_link(request: HttpRequest, brand: str, token: str) -> HttpResponseBase:
    """A signed link: refused when tampered or expired; for one customer, only that customer's."""
    workspace = _brand(brand)
    if _limited(request):
        return _phone_csp(request, _problem(request, _("Slow down"), _("Too many visits; try again in a minute."), 429))
    try:
        link = sessions.open_fan_token(token)
    except sessions.LinkRefused as refused:
        title, status = ((_("This link has expired"), 410) if refused.expired else (_("This link is not valid"), 403))
        return _phone_csp(request, _problem(request, title, _("Ask for a new link in the chat."), status))
    target = services.fan_page_path(workspace, link.page)
    if link.workspace_id != workspace.pk or target is None:
        return _phone_csp(request, _problem(request, _("This link is not valid"), _("Ask for a new link in the chat."), 403))
    fan = sessions.fan_session(request, workspace.pk)
    if fan is None:
        with workspace_context(workspace):
            return _phone_csp(request, _fan_sign_in(request, workspace, request.get_full_path()))
    if link.customer_id is not None and fan.customer_id != link.customer_id:
        return _phone_csp(request, _problem(request, _("This link is for someone else"),
                                            _("It was sent to another friend of ours; ask us for your own."), 403))
    return redirect(target)


def fan_oauth(request: HttpRequest, brand: str) -> HttpResponseBase:
    workspace = _brand(brand)
    if _limited(request):
        return _phone_csp(request, _problem(request, _("Slow down"), _("Too many visits; try again in a minute."), 429))
    back_to = sessions.finish_oauth(request, request.GET.get("state", ""))
    code = request.GET.get("code", "")
    if back_to is None or not code or not back_to.startswith(f"/m/{workspace.slug}/"):
        return _phone_csp(request, _problem(request, _("Sign-in expired"), _("Open the link again."), 400))
    with workspace_context(workspace):
        try:
            fan = wechat.fan_from_code(workspace, code)
            customer = services.customer_for_fan(workspace, fan.unionid, fan.openid)
        except (WeComError, ObjectDoesNotExist):
            return _phone_csp(request, _problem(request, _("Sign-in expired"), _("Open the link again."), 400))
    response = redirect(back_to)
    sessions.start_fan_session(request, response, sessions.FanSession(
        workspace.pk, fan.openid, fan.unionid, customer.pk if customer else None))
    response.delete_cookie(sessions.STATE_COOKIE, path=sessions.COOKIE_PATH)
    return _phone_csp(request, response)


def _fan_context(workspace: Workspace, fan: sessions.FanSession, tab: str) -> dict[str, Any]:
    return {"workspace": workspace, "fan": fan, "tab": tab, "persona": services.persona_of(workspace, fan.customer_id)}


def _join(request: HttpRequest, workspace: Workspace, fan: sessions.FanSession, tab: str) -> HttpResponse:
    """A WeChat user who is not (yet) the brand's customer: the way to add the persona."""
    return render(request, "mobile/fan_join.html", {**_fan_context(workspace, fan, tab),
                                                    "join": services.join_way(workspace)})


@fan_page
def fan_welfare(request: HttpRequest, workspace: Workspace, fan: sessions.FanSession) -> HttpResponse:
    if fan.customer_id is None:
        return _join(request, workspace, fan, "welfare")
    return render(request, "mobile/fan_welfare.html", {
        **_fan_context(workspace, fan, "welfare"), "held": services.welfare_of(workspace, fan.customer_id)})


@fan_page
def fan_me(request: HttpRequest, workspace: Workspace, fan: sessions.FanSession) -> HttpResponse:
    if fan.customer_id is None:
        return _join(request, workspace, fan, "me")
    return render(request, "mobile/fan_me.html", {**_fan_context(workspace, fan, "me"),
                                                  "balance": points.balance_of(workspace, fan.customer_id)})


def persona_avatar(request: HttpRequest, brand: str, persona_id: int) -> FileResponse:
    """A persona's avatar, public: it is what customers see in WeCom anyway."""
    workspace = _brand(brand)
    persona = Persona.objects.for_workspace(workspace).filter(pk=persona_id).first()
    if persona is None or not persona.avatar:
        raise Http404
    response = FileResponse(persona.avatar.open("rb"))
    response["Cache-Control"] = "public, max-age=3600"
    return response


# --- check-ins and points (the points app) -----------------------------------------------------

def _points_head(context: dict[str, Any]) -> dict[str, Any]:
    return {**context, "balance": points.balance_of(context["workspace"], context["fan"].customer_id)}


@fan_page
def fan_checkin(request: HttpRequest, workspace: Workspace, fan: sessions.FanSession) -> HttpResponse:
    """打卡: today's check-in, the streak, the month's calendar and make-up cards."""
    if fan.customer_id is None:
        return _join(request, workspace, fan, "checkin")
    plan = points.plan_of(workspace)
    notice = problem = ""
    if request.method == "POST" and plan is not None:
        try:
            if request.POST.get("day"):
                done = points.make_up(workspace, plan, fan.customer_id, dt.date.fromisoformat(request.POST["day"]))
                notice = _("Made up with a card: +%(points)s points.") % {"points": done.checkin.points}
            else:
                done = points.check_in(workspace, plan, fan.customer_id)
                notice = (_("Checked in: +%(points)s points, day %(streak)s in a row.")
                          % {"points": done.checkin.points, "streak": done.checkin.streak}
                          if done.new else _("You have already checked in today."))
        except points.PointsError as exc:
            problem = exc.message
        except ValueError:
            problem = _("That day cannot be made up.")
    return render(request, "mobile/fan_checkin.html", _points_head({
        **_fan_context(workspace, fan, "checkin"), "plan": plan, "notice": notice, "problem": problem,
        "month": points.month_of(workspace, plan, fan.customer_id) if plan and plan.active else None,
        "weekdays": [WEEKDAYS_ABBR[i] for i in range(7)]}))


@fan_page
def fan_points(request: HttpRequest, workspace: Workspace, fan: sessions.FanSession) -> HttpResponse:
    """积分: the balance, recent entries, and rewards to redeem (a code is shown at once)."""
    if fan.customer_id is None:
        return _join(request, workspace, fan, "points")
    redeemed = None
    problem = ""
    if request.method == "POST":
        reward_id = bounds.parse_id(request.POST.get("reward"))
        try:
            if reward_id is None:
                raise ObjectDoesNotExist
            redeemed = points.redeem(workspace, fan.customer_id, reward_id, request.POST.get("key", "")[:40])
        except points.PointsError as exc:
            problem = exc.message
        except ObjectDoesNotExist:
            problem = _("This reward is no longer on offer.")
    entries = PointsEntry.objects.for_workspace(workspace).filter(customer_id=fan.customer_id)[:FAN_ENTRIES]
    return render(request, "mobile/fan_points.html", _points_head({
        **_fan_context(workspace, fan, "points"), "entries": entries, "rewards": points.rewards_on_offer(workspace),
        "key": points.new_ref(), "redeemed": redeemed, "problem": problem,
        "redemptions": points.redemptions_of(workspace, fan.customer_id)}))


# --- group leaderboards (the points app's 积分排行榜) and the waiting list of fixed-size groups ----------

FAN_BOARD_ROWS = 10  # a board's top rows on the boards page


@fan_page
def fan_boards(request: HttpRequest, workspace: Workspace, fan: sessions.FanSession) -> HttpResponse:
    """排行榜: this week's board of each group the fan is in, with the fan's own place."""
    if fan.customer_id is None:
        return _join(request, workspace, fan, "points")
    boards = [points.fan_board(workspace, fan.customer_id, g.pk, limit=FAN_BOARD_ROWS)
              for g in points.groups_of_fan(workspace, fan.customer_id)]
    return render(request, "mobile/fan_boards.html", _points_head({
        **_fan_context(workspace, fan, "points"), "boards": boards}))


@fan_page
def fan_board(request: HttpRequest, workspace: Workspace, fan: sessions.FanSession, group_id: int) -> HttpResponse:
    """One group's board (week or month) for a member; for someone outside a fixed-size group,
    the waiting list (queue, see one's place, leave)."""
    if fan.customer_id is None:
        return _join(request, workspace, fan, "points")
    kind = request.GET.get("period", "week")
    try:
        found, mine = points.fan_board(workspace, fan.customer_id, group_id, kind)
    except ObjectDoesNotExist:
        return _fan_waitlist(request, workspace, fan, group_id)
    return render(request, "mobile/fan_board.html", _points_head({
        **_fan_context(workspace, fan, "points"), "board": found, "mine": mine, "period": found.span.kind}))


def _fan_waitlist(request: HttpRequest, workspace: Workspace, fan: sessions.FanSession, group_id: int) -> HttpResponse:
    rule = points.rule_of(workspace, group_id)
    if rule is None or rule.seat_limit is None or not rule.active or rule.group.dismissed_at is not None:
        return _problem(request, _("Not found"), _("This group's board is for its members."), 404)
    problem = ""
    if request.method == "POST":
        try:
            if request.POST.get("leave"):
                points.leave_waitlist(workspace, group_id, fan.customer_id)  # type: ignore[arg-type]
            else:
                points.join_waitlist(workspace, group_id, fan.customer_id)  # type: ignore[arg-type]
        except points.PointsError as exc:
            problem = exc.message
        else:
            return redirect("mobile:fan_board", workspace.slug, group_id)
    entry = points.waitlist_entry(workspace, group_id, fan.customer_id)  # type: ignore[arg-type]
    return render(request, "mobile/fan_waitlist.html", {
        **_fan_context(workspace, fan, "points"), "group": rule.group, "rule": rule, "entry": entry,
        "place": points.place_in_line(workspace, entry) if entry else 0, "problem": problem})
