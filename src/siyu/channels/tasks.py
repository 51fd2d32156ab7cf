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
from siyu.core.models import Workspace
from siyu.core.schedule import register_job
from siyu.core.tenancy import workspace_context
from siyu.customers.events import FollowStarted

logger = logging.getLogger("siyu.channels")


def _workspaces_with_codes() -> list[Workspace]:
    ids = ChannelCode.unscoped.filter(active=True).values_list("workspace_id", flat=True).distinct()
    return list(Workspace.objects.filter(pk__in=ids))


@task()
def route_codes() -> dict[str, int]:
    """Every minute: apply routing to every active code of every brand (WeCom is called only
    for codes whose accounts change). One brand's failure does not stop the others."""
    from siyu.wecom.services import NotConnected

    now = timezone.now()
    totals = {"codes": 0, "changed": 0, "failed": 0}
    for workspace in _workspaces_with_codes():
        with workspace_context(workspace):
            try:
                run = routing.route_active_codes(workspace, now)
            except NotConnected:
                continue
            except Exception:
                logger.exception("routing the codes of %s failed", workspace.slug)
                totals["failed"] += 1
                continue
        totals["codes"] += run.codes
        totals["changed"] += run.changed
        totals["failed"] += run.failed
    return totals


@task()
def reconcile_contact_ways() -> dict[str, int]:
    """Every five minutes: re-create contact ways WeCom no longer has (see
    `codes.reconcile_contact_ways`), so printed codes keep adding friends."""
    from siyu.wecom.services import NotConnected

    totals = {"checked": 0, "recreated": 0, "repaired": 0, "failed": 0}
    for workspace in _workspaces_with_codes():
        with workspace_context(workspace):
            try:
                report = codes.reconcile_contact_ways(workspace)
            except NotConnected:
                continue
            except Exception:
                logger.exception("reconciling the contact ways of %s failed", workspace.slug)
                totals["failed"] += 1
                continue
        totals["checked"] += report.checked
        totals["recreated"] += len(report.recreated)
        totals["repaired"] += len(report.repaired)
        totals["failed"] += len(report.failed)
    return totals


@task()
def sweep_stuck_welcomes() -> int:
    """Every five minutes: welcome sends a dead worker left "sending" become missed, with why."""
    total = 0
    for workspace in _workspaces_with_codes():
        with workspace_context(workspace):
            total += welcome.sweep_stuck_welcomes(workspace)
    return total


register_job("channels.route_codes", "* * * * *", route_codes)
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
            .filter(state=event.state, active=True).exclude(config_id="").first())
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

