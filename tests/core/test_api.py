from siyu.core import services
from tests.conftest import seat


def test_openapi_document_is_served_to_a_signed_in_user(brand_a, login):
    doc = login(brand_a.members["planner"]).get("/api/openapi.json").json()
    assert doc["info"]["title"] == "Siyu API"
    assert "/api/members" in doc["paths"]


def test_openapi_document_is_served_to_a_token_holder(brand_a, client):
    _, key = services.create_api_token(brand_a.workspace, seat(brand_a.admin, brand_a.workspace), "codegen")
    response = client.get("/api/openapi.json", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200
    assert "/api/members" in response.json()["paths"]


def test_openapi_document_and_docs_are_not_public(db, client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 401
    assert "paths" not in response.json()
    assert client.get("/api/openapi.json", headers={"Authorization": "Bearer siyu_forged"}).status_code == 401
    docs = client.get("/api/docs")
    assert docs.status_code == 302
    assert docs["Location"] == "/login/?next=/api/docs"


def test_api_docs_page_is_served_from_this_site(brand_a, login):
    response = login(brand_a.admin).get("/api/docs")
    html = response.content.decode()
    assert response.status_code == 200
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()


def test_api_requires_authentication(db, client):
    assert client.get("/api/me").status_code == 401


def test_session_auth_uses_the_current_brand(brand_a, login):
    me = login(brand_a.members["planner"]).get("/api/me").json()
    assert me["workspace"]["slug"] == "alpha"
    assert me["role"] == "planner"
    assert me["permissions"]["channels"] == ["e", "v"]


def test_token_auth_and_a_revoked_token(brand_a, client):
    member = seat(brand_a.members["data_analyst"], brand_a.workspace)
    token, key = services.create_api_token(brand_a.workspace, member, "bi tool")
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/me", headers=headers).json()["role"] == "data_analyst"
    services.delete_api_token(brand_a.workspace, member, token.pk)
    assert client.get("/api/me", headers=headers).status_code == 401


def test_a_forged_token_is_refused(brand_a, client):
    assert client.get("/api/me", headers={"Authorization": "Bearer siyu_forged"}).status_code == 401


def test_invalid_role_gets_a_reason(brand_a, client):
    _, key = services.create_api_token(brand_a.workspace, seat(brand_a.admin, brand_a.workspace), "t")
    response = client.post("/api/invitations", {"role": "boss"}, content_type="application/json",
                           headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 422
    assert "role" in response.json()["errors"]


def test_malformed_json_is_rejected_with_422(brand_a, client):
    _, key = services.create_api_token(brand_a.workspace, seat(brand_a.admin, brand_a.workspace), "t")
    response = client.post("/api/workspaces", "{not json", content_type="application/json",
                           headers={"Authorization": f"Bearer {key}"})
    assert response.status_code in (400, 422)


def test_admin_creates_a_brand_through_the_api(brand_a, client):
    _, key = services.create_api_token(brand_a.workspace, seat(brand_a.admin, brand_a.workspace), "t")
    headers = {"Authorization": f"Bearer {key}"}
    response = client.post("/api/workspaces", {"name": "Gamma", "slug": "gamma"}, content_type="application/json",
                           headers=headers)
    assert response.status_code == 201
    assert {w["slug"] for w in client.get("/api/workspaces", headers=headers).json()} == {"alpha", "gamma"}


def test_tokens_page_creates_shows_once_and_deletes(brand_a, login):
    client = login(brand_a.members["planner"])
    html = client.post("/tokens/", {"name": "BI"}).content.decode()
    key = html.split('readonly value="')[1].split('"')[0]
    assert key.startswith("siyu_")
    assert key not in client.get("/tokens/").content.decode()
    from siyu.core.models import ApiToken

    token = ApiToken.objects.for_workspace(brand_a.workspace).get()
    assert client.post("/tokens/", {"delete": "not-a-number"}).status_code == 200
    assert client.post("/tokens/", {"delete": str(token.pk)}).status_code == 302
    assert not ApiToken.objects.for_workspace(brand_a.workspace).exists()


def test_a_member_cannot_delete_another_members_token(brand_a, login):
    token, _ = services.create_api_token(brand_a.workspace, seat(brand_a.admin, brand_a.workspace), "admin's")
    assert login(brand_a.members["planner"]).post("/tokens/", {"delete": str(token.pk)}).status_code == 404
    from siyu.core.models import ApiToken

    assert ApiToken.objects.for_workspace(brand_a.workspace).filter(pk=token.pk).exists()
