"""Posting moments against the twin over real HTTP: posted once with `add_moment_task`, its job
followed to the moment_id, at most once even when a worker dies between the claim and WeCom's
answer, and metrics per staff member from what the twin's staff and customers did."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from siyu.core.models import AuditEntry
from siyu.moments import services
from siyu.moments.models import MomentPost, MomentSender, PostStatus
from siyu.moments.services import posting
from siyu.wecom.services import client_for


def twin_moments(twin) -> dict:
    return twin.app.world.moments


def posted(studio, twin, **kw) -> MomentPost:
    now = timezone.now()
    post = studio.plan(now, material_ids=[studio.image.pk], **kw)
    assert services.post_due(studio.workspace, now) == 1
    services.track(studio.workspace, now + posting.FIRST_CHECK)
    post.refresh_from_db()
    return post


def test_a_due_post_is_posted_once_with_its_image_and_range(connected, twin):
    studio = connected
    now = timezone.now()
    post = studio.plan(now, material_ids=[studio.image.pk], sender_ids=[studio.accounts[0].pk])
    later = studio.plan(now + dt.timedelta(days=1), text="明天见")
    assert services.post_due(studio.workspace, now) == 1
    assert services.post_due(studio.workspace, now) == 0  # claimed: a second run posts nothing
    post.refresh_from_db()
    assert post.status == PostStatus.POSTING and post.jobid
    [moment] = twin_moments(twin).values()
    assert moment.text == "今天也要美美哒" and moment.senders == ["staff0"]
    assert moment.attachments[0]["msgtype"] == "image" and moment.attachments[0]["image"]["media_id"]
    assert services.track(studio.workspace, now) == 0  # WeCom is not asked straight away
    assert services.track(studio.workspace, now + posting.FIRST_CHECK) == 1
    post.refresh_from_db()
    later.refresh_from_db()
    assert post.status == PostStatus.POSTED and post.moment_id == moment.moment_id
    assert later.status == PostStatus.SCHEDULED
    assert AuditEntry.objects.for_workspace(studio.workspace).filter(
        module="moments", detail__post=post.pk).count() == 2  # planned, posted


def test_a_crash_after_wecom_made_the_moment_finds_it_and_never_posts_again(connected, twin):
    studio = connected
    now = timezone.now()
    post = studio.plan(now, text="宝子们看过来～")
    assert posting.claim(post, now)
    with client_for(studio.workspace) as client:  # the call reaches WeCom; the worker dies before recording
        client.add_moment_task(posting.moment_spec(studio.workspace, post, now))
    assert services.post_due(studio.workspace, now) == 0
    services.track(studio.workspace, now + posting.RECONCILE_AFTER)
    post.refresh_from_db()
    [moment] = twin_moments(twin).values()
    assert post.status == PostStatus.POSTED and post.moment_id == moment.moment_id
    assert services.post_due(studio.workspace, now + dt.timedelta(hours=1)) == 0
    assert len(twin_moments(twin)) == 1


def test_a_crash_before_wecom_got_it_fails_the_post_without_posting(connected, twin):
    studio = connected
    now = timezone.now()
    post = studio.plan(now)
    assert posting.claim(post, now)  # the worker dies here
    services.track(studio.workspace, now + posting.RECONCILE_AFTER)
    post.refresh_from_db()
    assert post.status == PostStatus.POSTING  # not yet given up: WeCom may list it late
    services.track(studio.workspace, now + posting.GIVE_UP_UNMATCHED + posting.RECONCILE_AFTER * 2)
    post.refresh_from_db()
    assert post.status == PostStatus.FAILED and "never made" in post.error
    assert twin_moments(twin) == {}


def test_a_post_whose_material_was_deleted_fails_with_the_reason(connected, twin):
    studio = connected
    now = timezone.now()
    post = studio.plan(now, material_ids=[studio.image.pk])
    studio.image.delete()
    services.post_due(studio.workspace, now)
    post.refresh_from_db()
    assert post.status == PostStatus.FAILED and "deleted" in post.error
    assert twin_moments(twin) == {}


def test_a_job_is_asked_with_back_off_and_given_up_after_a_day(connected, twin):
    studio = connected
    now = timezone.now()
    post = studio.plan(now)
    services.post_due(studio.workspace, now)
    MomentPost.unscoped.filter(pk=post.pk).update(jobid="job-lost")
    at, waits = now + dt.timedelta(minutes=1), []
    for _n in range(3):  # WeCom answers an error: asked again later, each wait twice the last
        services.track(studio.workspace, at)
        post.refresh_from_db()
        waits.append(post.next_check_at - at)
        at = post.next_check_at
    assert waits == [dt.timedelta(minutes=1), dt.timedelta(minutes=2), dt.timedelta(minutes=4)]
    assert post.status == PostStatus.POSTING and "jobid" in post.error
    services.track(studio.workspace, now + dt.timedelta(hours=25))
    post.refresh_from_db()
    assert post.status == PostStatus.FAILED and "24 h" in post.error


def test_metrics_follow_what_staff_and_customers_did_at_the_twin(connected, twin):
    studio = connected
    post = posted(studio, twin)
    twin.admin.post("/twin/moments/publish", json={"moment_id": post.moment_id, "userid": "staff0"}).raise_for_status()
    for external, kind in (("wm0000", "like"), ("wm0002", "like"), ("wm0004", "comment")):
        twin.admin.post("/twin/moments/interact", json={
            "moment_id": post.moment_id, "userid": "staff0", "external_userid": external, "kind": kind,
        }).raise_for_status()
    for _run in range(2):  # idempotent: a second refresh writes the same numbers
        assert services.refresh_metrics(studio.workspace, force=True) == 1
        post.refresh_from_db()
        assert (post.sender_count, post.published_count, post.reach_count, post.like_count, post.comment_count) == \
            (2, 1, 3, 2, 1)
    rows = {s.userid: (s.published, s.reach_count, s.like_count, s.comment_count, s.account_id)
            for s in MomentSender.objects.for_workspace(studio.workspace).filter(post=post)}
    assert rows == {"staff0": (True, 3, 2, 1, studio.accounts[0].pk), "staff1": (False, 0, 0, 0, studio.accounts[1].pk)}
    assert services.refresh_metrics(studio.workspace) == 0  # fresh numbers are not read again


def test_metrics_are_read_only_for_the_brands_own_posts(connected, twin, brand_b):
    studio = connected
    posted(studio, twin)
    assert services.refresh_metrics(brand_b.workspace, force=True) == 0
    assert MomentSender.objects.for_workspace(brand_b.workspace).count() == 0


def test_the_minute_job_run_twice_posts_once(connected, twin):
    from siyu.moments import tasks

    studio = connected
    post = studio.plan(timezone.now() - dt.timedelta(minutes=1))
    assert tasks.tick.call() == 1  # one brand with open posts
    assert tasks.tick_brand.call(studio.workspace.pk) == {"posted": 1, "checked": 0}
    assert tasks.tick_brand.call(studio.workspace.pk) == {"posted": 0, "checked": 0}
    assert len(twin_moments(twin)) == 1
    post.refresh_from_db()
    assert services.track(studio.workspace, post.next_check_at) == 1
    post.refresh_from_db()
    assert post.status == PostStatus.POSTED
    assert tasks.tick.call() == 0  # nothing open is left
