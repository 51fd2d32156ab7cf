"""Planning posts: WeCom's rules checked before anything is sent, the calendar's warnings
(collisions, empty days), each role's reach, brand isolation and the audit trail."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from siyu.content.models import MaterialKind
from siyu.core.models import AuditEntry
from siyu.moments import services
from siyu.moments.models import MomentPost, PostStatus
from tests.content.conftest import image_material, link_material, text_material

ROLES_WHO_PLAN = {"admin", "ops_lead", "copywriter", "planner"}
ALL_ROLES = ROLES_WHO_PLAN | {"customer_ops", "data_analyst", "merchandiser"}
SOON = dt.timedelta(hours=1)


def errors_of(studio, **kw) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        studio.plan(timezone.now() + SOON, **kw)
    return caught.value.message_dict


def test_text_over_wecoms_limit_is_refused_with_the_count(studio):
    errors = errors_of(studio, text="好" * 2001)
    assert "2001" in errors["text"][0]
    assert studio.plan(timezone.now() + SOON, text="好" * 2000).text == "好" * 2000


def test_attachments_follow_wecoms_rule(studio):
    brand = studio.brand
    link = link_material(brand)
    assert "不能混发" in errors_of(studio, material_ids=[studio.image.pk, link.pk])["material_ids"][0]
    assert "不能发到朋友圈" in errors_of(studio, material_ids=[text_material(brand).pk])["material_ids"][0]
    images = [studio.image.pk] + [image_material(brand, f"图{n}").pk for n in range(9)]
    assert "最多 9 张" in errors_of(studio, material_ids=images)["material_ids"][0]
    link2 = link_material(brand, "另一页", "https://shop.example.com/p/2")
    assert "只能带一个" in errors_of(studio, material_ids=[link.pk, link2.pk])["material_ids"][0]
    assert studio.plan(timezone.now() + SOON, text="", material_ids=images[:9]).material_ids == images[:9]


def test_an_empty_post_a_past_time_and_foreign_ids_are_refused(studio, brand_b):
    errors = errors_of(studio, text="", sender_ids=[10**9], tag_ids=[10**9])
    assert set(errors) == {"text", "sender_ids", "tag_ids"}
    with pytest.raises(ValidationError) as caught:
        services.save_post(studio.workspace, studio.seat("copywriter"), services.PostInput(
            persona_id=studio.persona.pk, planned_at=timezone.now() - dt.timedelta(hours=1), text="昨天"))
    assert "planned_at" in caught.value.message_dict
    foreign = image_material(brand_b)
    assert "material_ids" in errors_of(studio, material_ids=[foreign.pk])


def test_a_draft_needs_no_time_and_is_not_posted(studio):
    post = services.save_post(studio.workspace, studio.seat("copywriter"), services.PostInput(
        persona_id=studio.persona.pk, planned_at=None, text="想法", schedule=False))
    assert post.status == PostStatus.DRAFT
    assert services.post_due(studio.workspace, timezone.now() + dt.timedelta(days=3)) == 0


@pytest.mark.parametrize("role", sorted(ALL_ROLES))
def test_each_role_plans_or_only_reads(studio, role):
    if role in ROLES_WHO_PLAN:
        post = studio.plan(timezone.now() + SOON, role=role)
    else:
        with pytest.raises(PermissionDenied):
            studio.plan(timezone.now() + SOON, role=role)
        post = studio.plan(timezone.now() + SOON)
        with pytest.raises(PermissionDenied):
            services.delete_post(studio.workspace, studio.seat(role), post.pk)
    assert services.get_post(studio.workspace, studio.seat(role), post.pk) == post
    cal = services.month_calendar(studio.workspace, studio.seat(role), studio.persona.pk, timezone.localdate())
    assert post in [p for d in cal.days_with_posts for p in d.posts] or post.planned_at.month != cal.month.month


def test_another_brand_sees_nothing(studio, brand_b):
    post = studio.plan(timezone.now() + SOON)
    other = brand_b.members["admin"]
    from tests.conftest import seat

    with pytest.raises(MomentPost.DoesNotExist):
        services.get_post(brand_b.workspace, seat(other, brand_b.workspace), post.pk)
    with pytest.raises(MomentPost.DoesNotExist):
        services.delete_post(brand_b.workspace, seat(other, brand_b.workspace), post.pk)


def test_editing_and_deleting_are_audited_and_a_posted_post_stays(studio):
    at = timezone.now() + SOON
    post = studio.plan(at)
    services.save_post(studio.workspace, studio.seat("copywriter"), services.PostInput(
        persona_id=studio.persona.pk, planned_at=at, text="改过的文案"), post.pk)
    entries = AuditEntry.objects.for_workspace(studio.workspace).filter(module="moments").order_by("pk")
    assert [e.action for e in entries] == ["created", "updated"]
    assert entries[1].detail["changes"][0]["after"] == "改过的文案"
    MomentPost.unscoped.filter(pk=post.pk).update(status=PostStatus.POSTED)
    for call in (lambda: services.delete_post(studio.workspace, studio.seat("copywriter"), post.pk),
                 lambda: services.save_post(studio.workspace, studio.seat("copywriter"), services.PostInput(
                     persona_id=studio.persona.pk, planned_at=at, text="再改"), post.pk)):
        with pytest.raises(ValidationError):
            call()
    MomentPost.unscoped.filter(pk=post.pk).update(status=PostStatus.FAILED)
    services.delete_post(studio.workspace, studio.seat("copywriter"), post.pk)
    assert entries.last().action == "deletion"


def test_posts_within_hours_for_the_same_customers_collide(studio):
    base = timezone.now() + dt.timedelta(days=1)
    a = studio.plan(base)
    b = studio.plan(base + dt.timedelta(hours=2))
    studio.plan(base + dt.timedelta(hours=5, minutes=1))  # more than 3 h after b
    apart = studio.plan(base + dt.timedelta(hours=1), sender_ids=[studio.accounts[0].pk],
                        tag_ids=[studio.tags["高"].pk])
    also_apart = studio.plan(base + dt.timedelta(hours=1, minutes=30), sender_ids=[studio.accounts[0].pk],
                             tag_ids=[studio.tags["低"].pk])  # same sender, other customers
    services.save_post(studio.workspace, studio.seat("copywriter"), services.PostInput(
        persona_id=studio.persona.pk, planned_at=base, text="草稿", schedule=False))
    posts = list(MomentPost.objects.for_workspace(studio.workspace))
    pairs = {(c.first.pk, c.second.pk) for c in services.collisions(posts)}
    assert (a.pk, b.pk) in pairs and (apart.pk, also_apart.pk) not in pairs
    assert (a.pk, apart.pk) in pairs  # a has no range: every customer
    assert all(MomentPost.unscoped.get(pk=p).status != PostStatus.DRAFT for pair in pairs for p in pair)
    assert {(c.first.pk, c.second.pk) for c in services.warnings_for(studio.workspace, b)} == {
        (a.pk, b.pk), (apart.pk, b.pk), (also_apart.pk, b.pk)}


def test_days_of_the_coming_week_without_a_post_are_flagged(studio):
    now = timezone.now()
    today = timezone.localdate()
    for days in (0, 1, 2, 4):
        at = timezone.make_aware(dt.datetime.combine(today + dt.timedelta(days), dt.time(23, 0)))
        studio.plan(at)
    cal = services.month_calendar(studio.workspace, studio.seat("planner"), studio.persona.pk, today, now=now)
    assert cal.empty_days == [today + dt.timedelta(n) for n in (3, 5, 6)]
    flagged = [d.date for week in cal.weeks for d in week if d.empty_warning]
    assert flagged == [d for d in cal.empty_days if any(d == x.date for w in cal.weeks for x in w)]


def test_a_poster_counts_as_an_image(studio):
    from siyu.content import services as content
    from tests.content.conftest import png_file

    poster = content.save_material(studio.workspace, studio.seat("copywriter"), content.MaterialInput(
        kind=MaterialKind.POSTER, title="海报"), file=png_file())
    assert studio.plan(timezone.now() + SOON, material_ids=[studio.image.pk, poster.pk]).material_ids
