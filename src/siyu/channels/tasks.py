"""Background entry points of channel live codes (渠道活码): the rotation job, the contact-way
reconcile job, and re-routing a code at once when an add fills an account. Each only calls
services and is idempotent: running it twice changes nothing the first run did not.
"""

from __future__ import annotations

import logging
from typing import Any

from django.utils import timezone
from django_tasks import task

from siyu.channels.models import ChannelAccount, ChannelCode
from siyu.channels.services import codes, routing, welcome
from siyu.core import events
from siyu.core.fanout import brands_of, for_each_brand, open_brand
from siyu.core.models import Workspace
from siyu.core.schedule import register_job
from siyu.core.tenancy import workspace_context
from siyu.customers.events import FollowStarted
from siyu.wecom.services import NotConnected

logger = logging.getLogger("siyu.channels")


# Each cron job below enqueues one task per brand with active codes (`core.fanout`). A brand's
# codes are routed (or reconciled) in one task, not sliced: a brand has tens to hundreds of codes,
# routed with one WeCom connection and three queries in all.

@task()
def route_codes_brand(workspace_id: int) -> dict[str, int]:
    """Apply routing to every active code of one brand (WeCom is called only for codes whose
    accounts change)."""
    workspace = open_brand(workspace_id)
    if workspace is None:
        return {}
    with workspace_context(workspace):
        try:
            run = routing.route_active_codes(workspace, timezone.now())
        except NotConnected:
            return {"codes": 0, "changed": 0, "failed": 0}
    return {"codes": run.codes, "changed": run.changed, "failed": run.failed}


@task()
def route_codes() -> int:
    """Every minute: route the codes of every brand, one task per brand."""
    return for_each_brand(route_codes_brand, brands_of(ChannelCode.unscoped.filter(active=True)))


@task()
def reconcile_contact_ways_brand(workspace_id: int) -> dict[str, int]:
    """Re-create the contact ways WeCom no longer has for one brand (see
    `codes.reconcile_contact_ways`), so printed codes keep adding friends."""
    workspace = open_brand(workspace_id)
    if workspace is None:
        return {}
    with workspace_context(workspace):
        try:
            report = codes.reconcile_contact_ways(workspace)
        except NotConnected:
            return {"checked": 0, "recreated": 0, "repaired": 0, "failed": 0}
    return {"checked": report.checked, "recreated": len(report.recreated), "repaired": len(report.repaired),
            "failed": len(report.failed)}


@task()
def reconcile_contact_ways() -> int:
    """Every five minutes: reconcile the contact ways of every brand, one task per brand."""
    return for_each_brand(reconcile_contact_ways_brand, brands_of(ChannelCode.unscoped.filter(active=True)))


@task()
def sweep_stuck_welcomes_brand(workspace_id: int) -> int:
    """Welcome sends of one brand a dead worker left "sending" become missed, with why (few:
    only sends in flight when a worker died)."""
    workspace = open_brand(workspace_id)
    if workspace is None:
        return 0
    with workspace_context(workspace):
        return welcome.sweep_stuck_welcomes(workspace)


@task()
def sweep_stuck_welcomes() -> int:
    """Every five minutes: sweep the stuck welcomes of every brand, one task per brand."""
    return for_each_brand(sweep_stuck_welcomes_brand, brands_of(ChannelCode.unscoped.filter(active=True)))


@task()
def expire_codes_brand(workspace_id: int) -> list[str]:
    """Retire one brand's codes whose last day is past (see `codes.expire_codes`)."""
    workspace = open_brand(workspace_id)
    if workspace is None:
        return []
    with workspace_context(workspace):
        try:
            return codes.expire_codes(workspace, timezone.now())
        except NotConnected:
            return []


@task()
def expire_codes() -> int:
    """Daily, just after midnight in China: retire expired codes, one task per brand."""
    return for_each_brand(expire_codes_brand,
                          brands_of(ChannelCode.unscoped.filter(active=True, expires_on__isnull=False)))


register_job("channels.route_codes", "* * * * *", route_codes)
register_job("channels.expire_codes", "5 0 * * *", expire_codes)
register_job("channels.sweep_stuck_welcomes", "*/5 * * * *", sweep_stuck_welcomes)
register_job("channels.reconcile_contact_ways", "*/5 * * * *", reconcile_contact_ways)


# --- event-driven re-routing ------------------------------------------------------------------------

@events.subscribe(FollowStarted)
def reroute_after_follow(workspace: Workspace, event: FollowStarted, record: Any) -> None:
    """A friend was added through a code: if that filled the account (its friend limit, or its
    daily cap on this code), route the code away from it now instead of at the next minute.
    Idempotent: `apply_routing` changes WeCom only when the choice changes."""
    if not event.state:
        return
    code = (ChannelCode.objects.for_workspace(workspace)
            .filter(state=event.state, active=True).exclude(config_id="", link_id="").first())
    if code is None:
        return
    seat = (ChannelAccount.objects.for_workspace(workspace)
            .filter(code=code, account_id=event.account_id).select_related("account").first())
    if seat is None or seat.account.userid not in code.routed_userids:
        return
    now = timezone.now()
    adds = routing.adds_today_by_account(workspace, [code], now).get(code.state, {})
    if routing.why_not(seat, now, adds) is None:
        return  # the account can still take friends: the rotation continues as planned
    routing.apply_routing(workspace, code, now, adds_today=adds)

