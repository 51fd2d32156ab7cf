"""The demo brand's 朋友圈: the persona's calendar with a week of posts (seed 001: her daily
life, products and proof). Two are posted for real to the twin at once; the twin's staff
publish them in their client (`POST /twin/moments/publish`) and a few of their customers like
and comment (`/twin/moments/interact`), so the detail pages show reach and interaction. The
coming week keeps a gap or two, so the calendar shows its "a day goes empty" warning."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from siyu.accounts.models import StaffAccount
from siyu.content.models import Material
from siyu.core.models import Workspace
from siyu.core.queue import enqueue
from siyu.core.services import OPERATOR
from siyu.customers.models import FollowRelation
from siyu.ip.models import Persona
from siyu.moments import services
from siyu.moments.models import MomentPost, PostStatus
from siyu.moments.services import metrics, posting
from siyu.wecom import twin
from siyu.wecom.services import client_for, connection_of

RETRY_AFTER = dt.timedelta(minutes=2)  # the twin's population brings customers within minutes
ATTEMPTS = 30
POSTED = (
    ("宝子们看过来～今天的早八通勤妆只用了5分钟，空气粉底液真的服帖到不行！", "空气粉底液产品图"),
    ("亲测好用才推荐！口红试色来啦，左边日常右边约会，你们pick哪一支？", "口红试色图"),
)
PLANNED = (  # (days from today, hour, text, material title)
    (1, 8, "早安～今天也要美美哒！分享一下我的晨间护肤小步骤 ☀️", ""),
    (2, 12, "双十二清单我已经帮你们整理好啦，老客还有小样相送哦～", "双十二海报"),
    (4, 20, "周末在家看了我们的品牌故事短片，原来每一瓶都这么用心 🥹", "品牌故事短片"),
)


def _twin_base(workspace: Workspace) -> str | None:
    """The API base of the demo twin the brand is connected to; None for a real WeCom."""
    connection = connection_of(workspace)
    return connection.api_base if connection is not None and twin.twin_url(connection.api_base) else None


def _material(workspace: Workspace, title: str) -> list[int]:
    pk = Material.objects.for_workspace(workspace).filter(title=title).values_list("pk", flat=True).first()
    return [pk] if pk else []


def publish_at_twin(workspace: Workspace, api_base: str, post: MomentPost, likes: int = 3) -> None:
    """Every sender publishes the moment in their client; a few of their customers react."""
    with client_for(workspace) as client:
        for row in client.get_moment_tasks(post.moment_id).task_list:
            if row.publish_status == 0:
                twin.act(api_base, "moments/publish", {"moment_id": post.moment_id, "userid": row.userid})
            audience = client.get_moment_customers(post.moment_id, row.userid).customer_list
            for n, customer in enumerate(audience[:likes]):
                body = {"moment_id": post.moment_id, "userid": row.userid, "external_userid": customer.external_userid}
                twin.act(api_base, "moments/interact", body | {"kind": "like"})
                if n == 0:
                    twin.act(api_base, "moments/interact", body | {"kind": "comment", "text": "好好看！求链接～"})


def seed(workspace: Workspace, attempt: int = 0) -> None:
    """Once per brand. Until the persona's staff have customers, looks again every two minutes
    (for an hour) through the worker."""
    persona = Persona.objects.for_workspace(workspace).order_by("pk").first()
    api_base = _twin_base(workspace)
    if persona is None or api_base is None or MomentPost.objects.for_workspace(workspace).exists():
        return
    if not FollowRelation.objects.for_workspace(workspace).filter(deleted_at__isnull=True).exists():
        if attempt < ATTEMPTS:
            enqueue("siyu.moments.tasks.seed_demo", workspace.pk, attempt + 1, run_after=timezone.now() + RETRY_AFTER)
        return
    now = timezone.now()
    senders = list(StaffAccount.objects.for_workspace(workspace).filter(active=True, persona=persona)
                   .values_list("pk", flat=True))
    today = timezone.localtime(now).replace(minute=0, second=0, microsecond=0)
    for days, hour, text, title in PLANNED:
        services.save_post(workspace, OPERATOR, services.PostInput(
            persona_id=persona.pk, planned_at=today.replace(hour=hour) + dt.timedelta(days=days), text=text,
            material_ids=_material(workspace, title), sender_ids=senders))
    for text, title in POSTED:
        services.save_post(workspace, OPERATOR, services.PostInput(
            persona_id=persona.pk, planned_at=now, text=text, material_ids=_material(workspace, title),
            sender_ids=senders))
    posting.post_due(workspace, now)
    posting.track(workspace, now + posting.FIRST_CHECK)
    for post in MomentPost.objects.for_workspace(workspace).filter(status=PostStatus.POSTED):
        publish_at_twin(workspace, api_base, post)
    metrics.refresh_metrics(workspace, force=True)
