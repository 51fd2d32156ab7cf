"""Per-post metrics from WeCom: who published the moment (`get_moment_task`), the customers it
reached per staff member (`get_moment_send_result`), and likes and comments
(`get_moment_comments`). Refreshed on a schedule for posts of the last `FOLLOW_FOR`; running
it twice writes the same numbers."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from siyu.accounts.models import StaffAccount
from siyu.core.models import Workspace
from siyu.core.permissions import Seat
from siyu.moments.models import MomentPost, MomentSender, PostStatus
from siyu.moments.services.common import require_view
from siyu.moments.services.posting import open_client
from siyu.wecom.client import WeComClient, WeComError
from siyu.wecom.services import client_for

FOLLOW_FOR = dt.timedelta(days=30)  # get_moment_list spans at most 30 days (WECOM.md §6)
REFRESH_EVERY = dt.timedelta(minutes=30)
MAX_PAGES = 50


def _customers(client: WeComClient, moment_id: str, userid: str) -> int:
    total, cursor = 0, ""
    for _page in range(MAX_PAGES):
        page = client.get_moment_send_result(moment_id, userid, cursor)
        total += len(page.customer_list)
        cursor = page.next_cursor
        if not cursor:
            break
    return total


def _publishers(client: WeComClient, moment_id: str) -> dict[str, bool]:
    found: dict[str, bool] = {}
    cursor = ""
    for _page in range(MAX_PAGES):
        page = client.get_moment_tasks(moment_id, cursor)
        found.update({row.userid: row.publish_status == 1 for row in page.task_list})
        cursor = page.next_cursor
        if not cursor:
            break
    return found


def refresh_post(workspace: Workspace, client: WeComClient, post: MomentPost, now: dt.datetime) -> None:
    """Read one posted moment's state per staff member and store it, replacing what was there."""
    publishers = _publishers(client, post.moment_id)
    accounts = dict(StaffAccount.objects.for_workspace(workspace).filter(userid__in=list(publishers))
                    .values_list("userid", "pk"))
    rows = []
    for userid, published in sorted(publishers.items()):
        reach = likes = comments = 0
        if published:
            reach = _customers(client, post.moment_id, userid)
            interaction = client.get_moment_comments(post.moment_id, userid)
            likes, comments = len(interaction.like_list), len(interaction.comment_list)
        rows.append(MomentSender(workspace=workspace, post=post, userid=userid, account_id=accounts.get(userid),
                                 published=published, reach_count=reach, like_count=likes, comment_count=comments))
    with transaction.atomic():
        MomentSender.unscoped.filter(post=post).delete()
        MomentSender.unscoped.bulk_create(rows)
        MomentPost.unscoped.filter(pk=post.pk).update(
            sender_count=len(rows), published_count=sum(r.published for r in rows),
            reach_count=sum(r.reach_count for r in rows), like_count=sum(r.like_count for r in rows),
            comment_count=sum(r.comment_count for r in rows), metrics_at=now)


def refresh_metrics(workspace: Workspace, now: dt.datetime | None = None, *, force: bool = False) -> int:
    """Refresh the metrics of recent posted moments whose numbers are older than `REFRESH_EVERY`;
    returns how many were refreshed. Background work: no role check."""
    now = now or timezone.now()
    posts = MomentPost.objects.for_workspace(workspace).filter(
        status=PostStatus.POSTED, posted_at__gte=now - FOLLOW_FOR).exclude(moment_id="")
    if not force:
        posts = posts.exclude(metrics_at__gt=now - REFRESH_EVERY)
    todo = list(posts.order_by("metrics_at", "pk")[:200])
    if (client := open_client(workspace, todo)) is None:
        return 0
    done = 0
    with client:
        for post in todo:
            try:
                refresh_post(workspace, client, post, now)
            except WeComError as exc:
                MomentPost.unscoped.filter(pk=post.pk).update(error=str(exc)[:300])
                continue
            done += 1
    return done


def refresh_one(workspace: Workspace, membership: Seat | None, post_id: int) -> MomentPost:
    """The detail page's refresh button: the post's numbers now (reads WeCom, changes no plan)."""
    require_view(membership)
    post = MomentPost.objects.for_workspace(workspace).get(pk=post_id, status=PostStatus.POSTED)
    with client_for(workspace) as client:
        refresh_post(workspace, client, post, timezone.now())
    post.refresh_from_db()
    return post
