"""Background entry points of tags: the nightly corp tag sync and time-based rules, and the
first sync of a newly connected brand. Each only calls services and is idempotent."""

from __future__ import annotations

import logging

from django_tasks import task

from siyu.core.models import Workspace
from siyu.core.schedule import register_job
from siyu.core.services import OPERATOR
from siyu.core.tenancy import workspace_context
from siyu.tags.models import TagSync
from siyu.tags.services import catalogue, rules

logger = logging.getLogger("siyu.tags")


def _connected() -> list[Workspace]:
    from siyu.wecom.models import WeComConnection

    ids = WeComConnection.unscoped.values_list("workspace_id", flat=True)
    return list(Workspace.objects.filter(pk__in=list(ids)))


@task()
def nightly_tags() -> dict[str, int]:
    """Every night: a full corp tag sync and the behaviour rules, for every connected brand.
    One brand's failure does not stop the others."""
    totals = {"synced": 0, "failed": 0, "tagged": 0}
    for workspace in _connected():
        with workspace_context(workspace):
            try:
                run = catalogue.sync_tags(workspace, OPERATOR)  # type: ignore[arg-type]
                totals["failed" if run.error else "synced"] += 1
                totals["tagged"] += rules.run_time_rules(workspace)
            except Exception:
                logger.exception("nightly tags of %s failed", workspace.slug)
                totals["failed"] += 1
    return totals


@task()
def first_sync() -> int:
    """Every five minutes: a brand connected to WeCom whose tags were never synced gets its
    first sync (so tags appear soon after connecting, with no one pressing a button)."""
    synced = 0
    synced_before = set(TagSync.unscoped.values_list("workspace_id", flat=True).distinct())
    for workspace in _connected():
        if workspace.pk in synced_before:
            continue
        with workspace_context(workspace):
            try:
                catalogue.sync_tags(workspace, OPERATOR)  # type: ignore[arg-type]
                synced += 1
            except Exception:
                logger.exception("first tag sync of %s failed", workspace.slug)
    return synced


register_job("tags.nightly", "30 2 * * *", nightly_tags)
register_job("tags.first_sync", "*/5 * * * *", first_sync)


@task()
def bulk_tagging(workspace_id: int, membership_id: int | None, customer_ids: list[int], tag_ids: list[int],
                 untag: bool, source: str) -> dict[str, int]:
    """A large tag or untag request from the console or the API (see `tagging.queue_tagging`).
    Re-running it changes nothing: tags already there (or already gone) are skipped."""
    from siyu.core.models import Membership
    from siyu.tags.services import tagging

    workspace = Workspace.objects.get(pk=workspace_id)
    seat = Membership.objects.for_workspace(workspace).filter(pk=membership_id).first() if membership_id else OPERATOR
    with workspace_context(workspace):
        outcome = tagging.run_queued_tagging(workspace, seat, customer_ids, tag_ids, untag, source)  # type: ignore[arg-type]
    return {"changed": outcome.changed, "local_only": len(outcome.local_only), "failed": len(outcome.failed)}
