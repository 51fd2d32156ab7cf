from siyu.core import services as core
from siyu.ip.models import Archetype, MatrixLevel
from tests.conftest import seat
from tests.ip.conftest import make_persona


def test_the_api_lists_personas_with_their_dimensions_and_completeness(brand_a, client):
    persona = make_persona(brand_a, catchphrases=["宝子们～"], interests=["美妆"], archetype=Archetype.PERFECT_USER)
    _, key = core.create_api_token(brand_a.workspace, seat(brand_a.members["customer_ops"], brand_a.workspace), "t")
    [item] = client.get("/api/ip/personas", headers={"Authorization": f"Bearer {key}"}).json()
    assert item["name"] == "小完子" and item["generation"] == "95s"
    assert item["catchphrases"] == ["宝子们～"] and item["archetype"] == "perfect_user"
    assert item["completeness"]["score"] == 67
    assert item["avatar_url"] == f"/ip/personas/{persona.pk}/avatar/"


def test_the_api_returns_the_matrix_as_a_nested_tree(brand_a, login):
    main = make_persona(brand_a, name="小完子", level=MatrixLevel.MAIN)
    key = make_persona(brand_a, name="店长", level=MatrixLevel.KEY, parent_id=main.pk)
    make_persona(brand_a, name="导购01", parent_id=key.pk)
    [root] = login(brand_a.members["planner"]).get("/api/ip/matrix").json()
    assert root["name"] == "小完子" and root["level"] == "main"
    assert root["children"][0]["name"] == "店长"
    assert root["children"][0]["children"][0]["name"] == "导购01"
    assert root["children"][0]["children"][0]["children"] == []


def test_the_ip_routes_are_in_the_openapi_document(brand_a, login):
    paths = login(brand_a.admin).get("/api/openapi.json").json()["paths"]
    assert {"/api/ip/personas", "/api/ip/personas/{persona_id}", "/api/ip/matrix"} <= set(paths)
