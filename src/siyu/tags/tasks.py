"""Background entry points of tags: the nightly corp tag sync and time-based rules, and the
first sync of a newly connected brand. Each only calls services and is idempotent."""

from __future__ import annotations

import logging
from typing import Any

from django.db.models import QuerySet
from django_tasks import task

from siyu.core.fanout import brands_of, for_each_brand, open_brand
from siyu.core.models import Membership, Workspace
from siyu.core.schedule import register_job
from siyu.core.services import OPERATOR
from siyu.core.tenancy import workspace_context
from siyu.tags.models import TagSync
from siyu.tags.services import catalogue, rules, tagging
from siyu.wecom.models import WeComConnection

logger = logging.getLogger("siyu.tags")


def _connected() -> QuerySet[Any]:
    """The ids of the brands connected to WeCom, as a subquery."""
    return brands_of(WeComConnection.unscoped.all())


# Both cron jobs enqueue one task per connected brand (`core.fanout`), not sliced: a brand's sync
# is one WeCom call and its time rules a few set-based queries each.

@task()
def nightly_tags_brand(workspace_id: int) -> dict[str, int]:
    """A full corp tag sync and the behaviour rules of one brand."""
    workspace = open_brand(workspace_id)
    if workspace is None:
        return {}
    with workspace_context(workspace):
        run = catalogue.sync_tags(workspace, OPERATOR)
        tagged = rules.run_time_rules(workspace)
    return {"synced": int(not run.error), "failed": int(bool(run.error)), "tagged": tagged}


@task()
def nightly_tags() -> int:
    """Every night: the tag sync and the behaviour rules of every connected brand, one task per brand."""
    return for_each_brand(nightly_tags_brand, _connected())


@task()
def first_sync_brand(workspace_id: int) -> int:
    """The first tag sync of one brand; nothing when it has synced since it was enqueued."""
    workspace = open_brand(workspace_id)
    if workspace is None or TagSync.objects.for_workspace(workspace).exists():
        return 0
    with workspace_context(workspace):
        catalogue.sync_tags(workspace, OPERATOR)
    return 1


@task()
def first_sync() -> int:
    """Every five minutes: a brand connected to WeCom whose tags were never synced gets its
    first sync (so tags appear soon after connecting, with no one pressing a button)."""
    never_synced = Workspace.objects.filter(pk__in=_connected()).exclude(pk__in=brands_of(TagSync.unscoped.all()))
    return for_each_brand(first_sync_brand, never_synced.values("pk"))


register_job("tags.nightly", "30 2 * * *", nightly_tags)
register_job("tags.first_sync", "*/5 * * * *", first_sync)


@task()
def bulk_tagging(workspace_id: int, membership_id: int | None, customer_ids: list[int], tag_ids: list[int],
                 untag: bool, source: str) -> dict[str, int]:
    """A large tag or untag request from the console or the API (see `tagging.queue_tagging`).
    Re-running it changes nothing: tags already there (or already gone) are skipped."""
    workspace = Workspace.objects.get(pk=workspace_id)
    seat = Membership.objects.for_workspace(workspace).filter(pk=membership_id).first() if membership_id else OPERATOR
    with workspace_context(workspace):
        outcome = tagging.run_queued_tagging(workspace, seat, customer_ids, tag_ids, untag, source)
    return {"changed": outcome.changed, "local_only": len(outcome.local_only), "failed": len(outcome.failed)}
