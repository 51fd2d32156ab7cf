"""The demo seed: a week of the persona's posts, two posted for real to the twin, published by
its staff with likes and comments; run again, it adds nothing."""

from __future__ import annotations

from django.utils import timezone

from siyu.customers.models import Customer, FollowRelation
from siyu.moments import demo
from siyu.moments.models import MomentPost, PostStatus


def test_the_demo_fills_the_calendar_and_earns_likes_once(connected, twin):
    studio = connected
    demo.seed(studio.workspace)
    assert not MomentPost.objects.for_workspace(studio.workspace).exists()  # no customers yet: waits
    customer = Customer.objects.create(workspace=studio.workspace, external_userid="wm0000", name="客户0")
    FollowRelation.objects.create(workspace=studio.workspace, customer=customer, account=studio.accounts[0],
                                  added_at=timezone.now())
    demo.seed(studio.workspace)
    demo.seed(studio.workspace)
    posts = MomentPost.objects.for_workspace(studio.workspace)
    assert posts.count() == len(demo.PLANNED) + len(demo.POSTED)
    done = list(posts.filter(status=PostStatus.POSTED))
    assert len(done) == 2 and len(twin.app.world.moments) == 2
    for post in done:
        assert post.published_count == 2 and post.reach_count == 6
        assert post.like_count == 6 and post.comment_count == 2
