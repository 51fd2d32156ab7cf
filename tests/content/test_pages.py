"""Console pages: each renders in Chinese, forms save through the services, viewers are refused
the editing pages, and the live voice check answers as staff type."""

from __future__ import annotations

import pytest

from siyu.content import services
from siyu.content.models import Category, Material, MessageTemplate, Script
from tests.content.conftest import link_material, png, seat_of, text_material, voiced_persona


@pytest.fixture
def filled(brand_a):
    seat = seat_of(brand_a, "copywriter")
    category = services.create_category(brand_a.workspace, seat, name="产品")
    material = text_material(brand_a, category_id=category.pk, tags=["新人"])
    link = link_material(brand_a)
    folder = services.list_folders(brand_a.workspace, seat)[0]
    script = services.save_script(brand_a.workspace, seat, services.ScriptInput(folder.pk, "问候", [{"text": "你好呀"}]))
    template = services.save_template(brand_a.workspace, seat, services.TemplateInput(
        name="欢迎", context="welcome", text="{customer_nickname}你好呀"))
    return brand_a, material, link, script, template


def test_every_page_renders_in_chinese(filled, login):
    brand, material, link, script, template = filled
    client = login(brand.members["copywriter"])
    for url, words in [("/content/", "素材库"), ("/content/?kind=text&tag=新人&q=你好", "见面礼"),
                       ("/content/scripts/", "话术库"), ("/content/templates/", "欢迎"),
                       ("/content/materials/new/", "新建素材"), (f"/content/materials/{link.pk}/", "/content/o/"),
                       ("/content/scripts/new/", "新建话术"), (f"/content/scripts/{script.pk}/", "问候"),
                       ("/content/templates/new/", "人设语气检查"), (f"/content/templates/{template.pk}/", "欢迎")]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert words in response.content.decode(), url


def test_viewers_see_the_library_but_not_the_editing_pages(filled, login):
    brand, material, *_ = filled
    client = login(brand.members["customer_ops"])
    assert client.get("/content/").status_code == 200
    assert "新建素材" not in client.get("/content/").content.decode()
    for url in ("/content/materials/new/", f"/content/materials/{material.pk}/", "/content/templates/new/",
                "/content/scripts/new/"):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/content/materials/{material.pk}/delete/").status_code == 403
    assert Material.objects.for_workspace(brand.workspace).filter(pk=material.pk).exists()


def test_another_brands_material_page_is_not_found(filled, brand_b, login):
    brand, material, *_ = filled
    assert login(brand_b.members["admin"]).get(f"/content/materials/{material.pk}/").status_code == 404


def test_uploading_an_image_through_the_form(brand_a, login):
    from django.core.files.uploadedfile import SimpleUploadedFile
    client = login(brand_a.members["planner"])
    response = client.post("/content/materials/new/", {"kind": "image", "title": "产品图",
                                                      "file": SimpleUploadedFile("a.png", png())})
    assert response.status_code == 302
    material = Material.objects.for_workspace(brand_a.workspace).get()
    assert client.get(f"/content/materials/{material.pk}/file/")["Content-Type"] == "image/png"
    refused = client.post("/content/materials/new/", {"kind": "image", "title": "坏图",
                                                     "file": SimpleUploadedFile("a.png", b"not an image")})
    assert refused.status_code == 200 and "JPG" in refused.content.decode()


def test_the_category_forms_create_rename_and_delete(brand_a, login):
    client = login(brand_a.members["copywriter"])
    client.post("/content/categories/new/", {"name": "活动"})
    category = Category.objects.for_workspace(brand_a.workspace).get()
    client.post(f"/content/categories/{category.pk}/", {"action": "rename", "name": "大促"})
    category.refresh_from_db()
    assert category.name == "大促"
    client.post(f"/content/categories/{category.pk}/", {"action": "delete", "confirm": "1"})
    assert not Category.objects.for_workspace(brand_a.workspace).exists()


def test_a_script_is_written_in_paragraphs_and_copied_through_htmx(brand_a, login):
    client = login(brand_a.members["copywriter"])
    folder = services.list_folders(brand_a.workspace, seat_of(brand_a, "copywriter"))[0]
    client.post("/content/scripts/new/", {"folder": folder.pk, "title": "打招呼", "steps": "你好呀\n\n我是小完子哦"})
    script = Script.objects.for_workspace(brand_a.workspace).get()
    assert script.steps == [{"text": "你好呀"}, {"text": "我是小完子哦"}]
    viewer = login(brand_a.members["customer_ops"])
    page = viewer.get("/content/scripts/").content.decode()
    assert 'data-copy-text="我是小完子哦"' in page and "content/content.js" in page
    assert viewer.post(f"/content/scripts/{script.pk}/copied/").content == b"1"


def test_the_template_form_refuses_an_unknown_variable_on_the_field(brand_a, login):
    client = login(brand_a.members["planner"])
    response = client.post("/content/templates/new/", {"name": "x", "context": "group",
                                                       "text": "{customer_nickname}你好"})
    assert response.status_code == 200 and "customer_nickname" in response.content.decode()
    assert not MessageTemplate.objects.for_workspace(brand_a.workspace).exists()


def test_the_live_check_flags_sentences_and_forbidden_words(brand_a, login):
    persona = voiced_persona(brand_a)
    client = login(brand_a.members["copywriter"])
    answer = client.post("/content/templates/check/", {"persona": persona.pk, "context": "mass",
                                                       "text": "你好呀。欢迎光临。全网最低哦", "material_ids": []})
    html = answer.content.decode()
    assert 'data-finding="no_tone"' in html and "欢迎光临。" in html and 'data-finding="forbidden"' in html
