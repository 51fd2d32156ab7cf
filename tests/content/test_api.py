"""The content API: materials (multipart), categories, scripts, templates, check and render."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from siyu.content import services
from tests.content.conftest import png, seat_of, voiced_persona

JSON = "application/json"


def test_materials_are_created_listed_filtered_and_deleted(brand_a, login):
    client = login(brand_a.members["copywriter"])
    created = client.post("/api/content/materials", {"kind": "image", "title": "产品图", "tags": "口红,爆款",
                                                     "file": SimpleUploadedFile("a.png", png())})
    assert created.status_code == 201, created.content
    assert created.json()["tags"] == ["口红", "爆款"] and created.json()["file_size"] > 0
    link = client.post("/api/content/materials", {"kind": "link", "title": "详情", "url": "https://e.com/p"}).json()
    assert link["tracked_path"].startswith("/content/o/")
    listed = client.get("/api/content/materials?tag=口红").json()
    assert [m["title"] for m in listed["items"]] == ["产品图"] and listed["count"] == 1
    assert client.delete(f"/api/content/materials/{link['id']}").status_code == 204
    assert client.get(f"/api/content/materials/{link['id']}").status_code == 404


def test_a_bad_upload_and_a_viewer_are_refused(brand_a, login):
    client = login(brand_a.members["copywriter"])
    refused = client.post("/api/content/materials", {"kind": "video", "title": "v",
                                                     "file": SimpleUploadedFile("v.mp4", b"not a video")})
    assert refused.status_code == 422 and "file" in refused.json()["errors"]
    viewer = login(brand_a.members["data_analyst"])
    assert viewer.post("/api/content/materials", {"kind": "text", "title": "t", "text": "x"}).status_code == 403
    assert viewer.get("/api/content/materials").status_code == 200


def test_categories_are_a_tree_through_the_api(brand_a, login):
    client = login(brand_a.members["planner"])
    top = client.post("/api/content/categories", {"name": "产品"}, content_type=JSON).json()
    child = client.post("/api/content/categories", {"name": "彩妆", "parent_id": top["id"]}, content_type=JSON).json()
    looped = client.put(f"/api/content/categories/{top['id']}", {"name": "产品", "parent_id": child["id"]},
                        content_type=JSON)
    assert looped.status_code == 422
    assert client.delete(f"/api/content/categories/{top['id']}").status_code == 422
    assert client.delete(f"/api/content/categories/{top['id']}?confirm=true").status_code == 204
    assert [(c["name"], c["depth"]) for c in client.get("/api/content/categories").json()] == [("彩妆", 0)]


def test_scripts_and_copy_counts_through_the_api(brand_a, login):
    client = login(brand_a.members["copywriter"])
    folder = client.get("/api/content/scripts/folders").json()[0]
    script = client.post("/api/content/scripts", {"folder_id": folder["id"], "title": "问候",
                                                  "steps": [{"text": "你好呀"}]}, content_type=JSON).json()
    viewer = login(brand_a.members["customer_ops"])
    assert viewer.post(f"/api/content/scripts/{script['id']}/copied").json() == {"copy_count": 1}
    assert [s["title"] for s in viewer.get("/api/content/scripts?q=你好").json()] == ["问候"]


def test_templates_check_and_render_through_the_api(brand_a, login):
    persona = voiced_persona(brand_a)
    client = login(brand_a.members["planner"])
    bad = client.post("/api/content/templates", {"name": "x", "context": "group", "text": "{points}分"},
                      content_type=JSON)
    assert bad.status_code == 422 and "text" in bad.json()["errors"]
    template = client.post("/api/content/templates", {"name": "欢迎", "persona_id": persona.pk, "context": "welcome",
                                                      "text": "{customer_nickname}你好呀"}, content_type=JSON).json()
    rendered = client.post(f"/api/content/templates/{template['id']}/render", {"values": {"customer_nickname": "小雨"}},
                           content_type=JSON)
    assert rendered.json()["text"] == "小雨你好呀"
    assert client.post(f"/api/content/templates/{template['id']}/render", {"values": {}},
                       content_type=JSON).status_code == 422
    check = client.post("/api/content/templates/check", {"persona_id": persona.pk, "text": "欢迎光临。"},
                        content_type=JSON).json()
    assert check["findings"][0]["sentence"] == "欢迎光临。" and check["errors"] == []
    assert {v["name"] for v in client.get("/api/content/variables?context=group").json()} >= {"group_name"}


def test_another_brand_cannot_read_or_render_a_template(brand_a, brand_b, login):
    template = services.save_template(brand_a.workspace, seat_of(brand_a, "admin"), services.TemplateInput(
        name="欢迎", context="welcome", text="你好呀"))
    client = login(brand_b.members["admin"])
    assert client.get(f"/api/content/templates/{template.pk}").status_code == 404
    assert client.post(f"/api/content/templates/{template.pk}/render", {"values": {}},
                       content_type=JSON).status_code == 404
