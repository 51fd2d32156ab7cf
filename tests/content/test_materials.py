"""Materials: kinds, upload checks against WeCom's limits, search and filters, roles, brands."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from siyu.content import services
from siyu.content.models import Material, MaterialKind
from siyu.core.models import AuditEntry
from tests.content.conftest import (
    MP4,
    image_material,
    link_material,
    png_file,
    seat_of,
    text_material,
)


@pytest.mark.parametrize("role", ["admin", "ops_lead", "copywriter", "planner"])
def test_editing_roles_save_materials(brand_a, role):
    saved = services.save_material(brand_a.workspace, seat_of(brand_a, role),
                                   services.MaterialInput(kind="text", title="t", text="你好呀"))
    assert saved.pk and AuditEntry.objects.for_workspace(brand_a.workspace).filter(module="content", action="created").exists()


@pytest.mark.parametrize("role", ["customer_ops", "data_analyst", "merchandiser"])
def test_viewing_roles_see_materials_but_may_not_change_them(brand_a, role):
    material = text_material(brand_a)
    seat = seat_of(brand_a, role)
    assert services.get_material(brand_a.workspace, seat, material.pk) == material
    with pytest.raises(PermissionDenied):
        services.save_material(brand_a.workspace, seat, services.MaterialInput(kind="text", title="x", text="y"))
    with pytest.raises(PermissionDenied):
        services.delete_material(brand_a.workspace, seat, material.pk)


def test_another_brands_material_is_not_found(brand_a, brand_b):
    material = text_material(brand_a)
    with pytest.raises(Material.DoesNotExist):
        services.get_material(brand_b.workspace, seat_of(brand_b, "admin"), material.pk)
    assert services.search_materials(brand_b.workspace, seat_of(brand_b, "admin")).paginator.count == 0


def test_an_image_must_be_a_jpg_or_png(brand_a):
    with pytest.raises(ValidationError) as refused:
        services.save_material(brand_a.workspace, seat_of(brand_a, "copywriter"),
                               services.MaterialInput(kind="image", title="x"),
                               file=SimpleUploadedFile("x.gif", b"GIF89a......"))
    assert "file" in refused.value.message_dict


def test_an_image_over_ten_megabytes_is_refused(brand_a):
    big = SimpleUploadedFile("big.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * (10 * 1024 * 1024))
    with pytest.raises(ValidationError) as refused:
        services.save_material(brand_a.workspace, seat_of(brand_a, "copywriter"),
                               services.MaterialInput(kind="image", title="x"), file=big)
    assert "10 MB" in refused.value.message_dict["file"][0]


def test_a_video_must_be_an_mp4_and_a_file_may_be_twenty_megabytes(brand_a):
    seat = seat_of(brand_a, "copywriter")
    with pytest.raises(ValidationError):
        services.save_material(brand_a.workspace, seat, services.MaterialInput(kind="video", title="v"),
                               file=SimpleUploadedFile("v.mp4", b"not a video at all"))
    video = services.save_material(brand_a.workspace, seat, services.MaterialInput(kind="video", title="v"),
                                   file=SimpleUploadedFile("v.mp4", MP4))
    assert video.file.name.endswith(".mp4")
    doc = services.save_material(brand_a.workspace, seat, services.MaterialInput(kind="file", title="f"),
                                 file=SimpleUploadedFile("清单.pdf", b"%PDF" + b"x" * (15 * 1024 * 1024)))
    assert doc.file_name == "清单.pdf" and doc.file_size > 15 * 1024 * 1024
    with pytest.raises(ValidationError):
        services.save_material(brand_a.workspace, seat, services.MaterialInput(kind="file", title="f"),
                               file=SimpleUploadedFile("big.pdf", b"x" * (20 * 1024 * 1024 + 1)))


def test_each_kind_asks_for_its_own_fields_all_at_once(brand_a):
    seat = seat_of(brand_a, "copywriter")
    with pytest.raises(ValidationError) as refused:
        services.save_material(brand_a.workspace, seat, services.MaterialInput(kind="miniprogram", title=""))
    assert set(refused.value.message_dict) == {"title", "appid", "page", "cover"}
    with pytest.raises(ValidationError) as refused:
        services.save_material(brand_a.workspace, seat, services.MaterialInput(kind="link", title="x",
                                                                               url="javascript:alert(1)"))
    assert set(refused.value.message_dict) == {"url"}
    card = services.save_material(brand_a.workspace, seat, services.MaterialInput(
        kind="miniprogram", title="商城", appid="wx1234567890abcdef", page="pages/index/index"), cover=png_file())
    assert card.cover and not card.file


def test_a_new_file_replaces_the_old_and_keeps_the_title(brand_a, django_capture_on_commit_callbacks):
    material = image_material(brand_a)
    old = material.file.name
    with django_capture_on_commit_callbacks(execute=True):
        updated = services.save_material(brand_a.workspace, seat_of(brand_a, "copywriter"),
                                         services.MaterialInput(kind="image", title="新图"), file=png_file(),
                                         material_id=material.pk)
    assert updated.file.name != old and updated.title == "新图"
    assert not updated.file.storage.exists(old)


def test_search_filters_by_text_kind_category_and_tag(brand_a):
    seat = seat_of(brand_a, "copywriter")
    top = services.create_category(brand_a.workspace, seat, name="产品")
    child = services.create_category(brand_a.workspace, seat, name="彩妆", parent_id=top.pk)
    lipstick = text_material(brand_a, "口红文案", "这支口红好显白呀", category_id=child.pk, tags=["口红", "爆款"])
    link = link_material(brand_a, "粉底详情")
    text_material(brand_a, "其他", "随便聊聊呀", tags=["爆款款"])

    def titles(**kw):
        return [m.title for m in services.search_materials(brand_a.workspace, seat_of(brand_a, "customer_ops"),
                                                          **kw).object_list]
    assert titles(q="显白") == [lipstick.title]
    assert titles(kind=MaterialKind.LINK) == [link.title]
    assert titles(category_id=top.pk) == [lipstick.title]  # subcategories included
    assert titles(tag="爆款") == [lipstick.title]  # a whole tag, not a part of another
    assert services.all_tags(brand_a.workspace, seat) == ["口红", "爆款", "爆款款"]


def test_materials_come_in_pages(brand_a):
    for i in range(25):
        text_material(brand_a, f"文案{i}", "你好呀")
    seat = seat_of(brand_a, "copywriter")
    first = services.search_materials(brand_a.workspace, seat)
    assert len(first.object_list) == 20 and first.has_next()
    assert len(services.search_materials(brand_a.workspace, seat, page=2).object_list) == 5


def test_sending_counts_only_this_brands_materials(brand_a, brand_b):
    mine, theirs = text_material(brand_a), text_material(brand_b)
    assert services.record_sent(brand_a.workspace, [mine.pk, mine.pk, theirs.pk], times=3) == 1
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.sent_count, theirs.sent_count) == (3, 0)
