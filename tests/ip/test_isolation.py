"""Brand B never sees brand A's personas, portrait or avatar files, on any page or API."""

from siyu.core import services as core
from siyu.ip import services
from siyu.ip.models import MatrixLevel, Persona
from tests.conftest import seat
from tests.ip.conftest import make_persona


def a_persona(brand_a):
    main = make_persona(brand_a, name="阿尔法主IP", level=MatrixLevel.MAIN)
    services.save_portrait(brand_a.workspace, seat(brand_a.admin, brand_a.workspace),
                           services.PortraitInput(ideal_endorser="阿尔法代言人"))
    return main


def test_another_brands_persona_pages_are_not_found(brand_a, brand_b, login):
    persona = a_persona(brand_a)
    client = login(brand_b.admin)
    for url in [f"/ip/personas/{persona.pk}/", f"/ip/personas/{persona.pk}/edit/", f"/ip/personas/{persona.pk}/avatar/"]:
        assert client.get(url).status_code == 404, url


def test_another_brands_persona_cannot_be_overwritten(brand_a, brand_b, login):
    persona = a_persona(brand_a)
    response = login(brand_b.admin).post(f"/ip/personas/{persona.pk}/edit/", {"name": "hijacked"})
    assert response.status_code == 404
    persona.refresh_from_db()
    assert persona.name == "阿尔法主IP"


def test_lists_matrix_and_portrait_show_only_the_own_brand(brand_a, brand_b, login):
    a_persona(brand_a)
    make_persona(brand_b, name="贝塔导购")
    client = login(brand_b.admin)
    for url in ["/ip/", "/ip/matrix/", "/ip/portrait/", "/ip/personas/new/"]:
        html = client.get(url).content.decode()
        assert "阿尔法" not in html, url
    assert "贝塔导购" in client.get("/ip/").content.decode()


def test_the_avatar_is_served_to_its_own_brand_only(brand_a, brand_b, login):
    persona = a_persona(brand_a)
    own = login(brand_a.members["copywriter"]).get(f"/ip/personas/{persona.pk}/avatar/")
    assert own.status_code == 200
    assert own["Content-Type"] == "image/png" and own["X-Content-Type-Options"] == "nosniff"
    with persona.avatar.open("rb") as stored:
        assert b"".join(own.streaming_content) == stored.read()
    assert login(brand_b.admin).get(f"/ip/personas/{persona.pk}/avatar/").status_code == 404


def test_avatars_are_not_reachable_as_public_media(brand_a, client):
    persona = a_persona(brand_a)
    assert client.get(f"/media/{persona.avatar.name}").status_code in (302, 404)
    assert client.get(f"/ip/personas/{persona.pk}/avatar/").status_code == 302  # to the sign-in page


def test_the_api_lists_only_the_callers_brand(brand_a, brand_b, login):
    persona = a_persona(brand_a)
    make_persona(brand_b, name="贝塔导购")
    client = login(brand_b.members["data_analyst"])
    assert [p["name"] for p in client.get("/api/ip/personas").json()] == ["贝塔导购"]
    assert [n["name"] for n in client.get("/api/ip/matrix").json()] == ["贝塔导购"]
    assert client.get(f"/api/ip/personas/{persona.pk}").status_code == 404


def test_a_brand_b_token_cannot_read_brand_a(brand_a, brand_b, client):
    persona = a_persona(brand_a)
    _, key = core.create_api_token(brand_b.workspace, seat(brand_b.admin, brand_b.workspace), "bi")
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/ip/personas", headers=headers).json() == []
    assert client.get(f"/api/ip/personas/{persona.pk}", headers=headers).status_code == 404


def test_a_member_of_two_brands_sees_the_brand_they_switched_to(brand_a, brand_b, login):
    from siyu.core.models import Membership

    persona = a_persona(brand_a)
    user = brand_b.admin
    Membership.objects.create(workspace=brand_a.workspace, user=user, role="copywriter")
    client = login(user)
    client.post("/workspaces/switch/", {"workspace": brand_b.workspace.pk})
    assert client.get(f"/ip/personas/{persona.pk}/avatar/").status_code == 404
    client.post("/workspaces/switch/", {"workspace": brand_a.workspace.pk})
    assert client.get(f"/ip/personas/{persona.pk}/avatar/").status_code == 200
    assert Persona.objects.for_workspace(brand_b.workspace).count() == 0
