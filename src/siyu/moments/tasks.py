"""客户朋友圈 background work: every minute, post the moments whose time has come and follow
their jobs; every 30 minutes, refresh the metrics of recent moments. One task per brand."""

from __future__ import annotations

from django_tasks import task

from siyu.core.fanout import brands_of, for_each_brand, open_brand
from siyu.core.schedule import register_job
from siyu.core.tenancy import workspace_context
from siyu.moments.models import MomentPost, PostStatus
from siyu.moments.services import metrics, posting


@task()
def tick_brand(workspace_id: int) -> dict[str, int]:
    workspace = open_brand(workspace_id)
    if workspace is None:
        return {}
    with workspace_context(workspace):
        return {"posted": posting.post_due(workspace), "checked": posting.track(workspace)}


@task()
def metrics_brand(workspace_id: int) -> int:
    workspace = open_brand(workspace_id)
    if workspace is None:
        return 0
    with workspace_context(workspace):
        return metrics.refresh_metrics(workspace)


@task()
def seed_demo(workspace_id: int, attempt: int) -> None:
    from siyu.moments import demo

    workspace = open_brand(workspace_id)
    if workspace is not None:
        with workspace_context(workspace):
            demo.seed(workspace, attempt)


@task()
def tick() -> int:
    open_posts = MomentPost.unscoped.filter(status__in=(PostStatus.SCHEDULED, PostStatus.POSTING))
    return for_each_brand(tick_brand, set(brands_of(open_posts).values_list("workspace_id", flat=True)))


@task()
def refresh() -> int:
    posted = MomentPost.unscoped.filter(status=PostStatus.POSTED)
    return for_each_brand(metrics_brand, set(brands_of(posted).values_list("workspace_id", flat=True)))


register_job("moments.tick", "* * * * *", tick)
register_job("moments.metrics", "*/30 * * * *", refresh)
