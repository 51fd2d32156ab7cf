"""The moments pages: the persona's calendar with its warnings (and a phone list), the post form
with its errors and the material picker, the detail with publish state per staff; each within a
query budget, in Chinese, and each role's reach."""

from __future__ import annotations

import datetime as dt
import time

from django.utils import timezone

from siyu.moments.models import MomentPost, MomentSender, PostStatus

BUDGET = 20


def _month(post: MomentPost) -> str:
    return timezone.localtime(post.planned_at).strftime("%Y-%m")


def test_the_calendar_shows_posts_and_warnings_within_its_budget(studio, login, django_assert_max_num_queries):
    base = timezone.now() + dt.timedelta(hours=2)
    first = studio.plan(base, text="早安打卡")
    studio.plan(base + dt.timedelta(hours=1), text="午间分享")
    for n in range(30):  # demo scale: a month full of posts costs no more queries
        studio.plan(base + dt.timedelta(days=1, hours=n * 7), text=f"日常{n}")
    client = login(studio.brand.members["copywriter"])
    url = f"/content/moments/persona/{studio.persona.pk}/?month={_month(first)}"
    client.get(url)
    with django_assert_max_num_queries(BUDGET):
        started = time.perf_counter()
        html = client.get(url).content.decode()
        elapsed = time.perf_counter() - started
    assert elapsed < 0.3
    assert "客户朋友圈" in html and "早安打卡" in html and 'data-testid="day-list"' in html
    assert 'data-testid="collision"' in html and "撞车" in html
    assert 'data-testid="new-post"' in html


def test_the_content_home_is_the_entry_and_no_persona_says_what_to_do(brand_a, login):
    client = login(brand_a.admin)
    html = client.get("/content/moments/").content.decode()
    assert "还没有人设" in html


def test_a_copywriter_plans_a_post_on_the_form(studio, login):
    client = login(studio.brand.members["copywriter"])
    page = client.get(f"/content/moments/new/?persona={studio.persona.pk}").content.decode()
    assert studio.image.title in page and 'data-testid="counter"' in page
    at = (timezone.localtime() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    answer = client.post("/content/moments/new/", {
        "persona": studio.persona.pk, "planned_at": at, "text": "宝子们看过来～",
        "material_ids": [str(studio.image.pk)], "sender_ids": [str(studio.accounts[0].pk)]})
    assert answer.status_code == 302
    post = MomentPost.objects.for_workspace(studio.workspace).get()
    assert post.status == PostStatus.SCHEDULED and post.material_ids == [studio.image.pk]
    assert post.sender_ids == [studio.accounts[0].pk]


def test_the_form_explains_what_is_wrong(studio, login):
    client = login(studio.brand.members["copywriter"])
    answer = client.post("/content/moments/new/", {"persona": studio.persona.pk, "planned_at": "", "text": "好" * 2001})
    html = answer.content.decode()
    assert answer.status_code == 200
    assert 'data-error-for="text"' in html and "2001" in html and 'data-error-for="planned_at"' in html
    assert not MomentPost.objects.for_workspace(studio.workspace).exists()


def test_a_draft_is_saved_without_a_time_and_edited(studio, login):
    client = login(studio.brand.members["planner"])
    client.post("/content/moments/new/", {"persona": studio.persona.pk, "text": "想法", "draft": "1"})
    post = MomentPost.objects.for_workspace(studio.workspace).get()
    assert post.status == PostStatus.DRAFT
    assert "想法" in client.get(f"/content/moments/{post.pk}/edit/").content.decode()
    client.post(f"/content/moments/{post.pk}/delete/")
    assert not MomentPost.objects.for_workspace(studio.workspace).exists()


def test_the_detail_shows_publish_state_per_staff_within_its_budget(studio, login, django_assert_max_num_queries):
    post = studio.plan(timezone.now() + dt.timedelta(hours=1), material_ids=[studio.image.pk])
    MomentPost.unscoped.filter(pk=post.pk).update(status=PostStatus.POSTED, moment_id="mom1", reach_count=3,
                                                  like_count=2, sender_count=2, published_count=1)
    MomentSender.objects.create(workspace=studio.workspace, post=post, userid="staff0", account=studio.accounts[0],
                                published=True, reach_count=3, like_count=2)
    MomentSender.objects.create(workspace=studio.workspace, post=post, userid="staff1", account=studio.accounts[1])
    client = login(studio.brand.members["data_analyst"])
    client.get(f"/content/moments/{post.pk}/")
    with django_assert_max_num_queries(BUDGET):
        html = client.get(f"/content/moments/{post.pk}/").content.decode()
    assert 'data-testid="reach">3<' in html and 'data-testid="likes">2<' in html
    assert "已发表" in html and "未发表" in html and studio.image.title in html
    assert "编辑" not in html  # a data analyst only reads


def test_roles_that_only_read_may_not_open_the_form(studio, login):
    for role in ("customer_ops", "data_analyst", "merchandiser"):
        client = login(studio.brand.members[role])
        assert client.get("/content/moments/new/").status_code == 403
        html = client.get(f"/content/moments/persona/{studio.persona.pk}/").content.decode()
        assert 'data-testid="new-post"' not in html


def test_another_brands_post_is_not_found(studio, brand_b, login):
    post = studio.plan(timezone.now() + dt.timedelta(hours=1))
    client = login(brand_b.admin)
    assert client.get(f"/content/moments/{post.pk}/").status_code == 404
    assert client.get(f"/content/moments/persona/{studio.persona.pk}/").status_code == 404
