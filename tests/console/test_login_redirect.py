"""After signing in, `?next=` is followed only to a page of this site; anything else goes home."""

from urllib.parse import quote

import pytest

from tests.conftest import PASSWORD

UNSAFE = [
    "https://evil.example/",
    "//evil.example/",
    "https:evil.example",
    "\\\\evil.example",
    "/\\evil.example",
    "http://testserver@evil.example/",
    "foo",
    "javascript:alert(1)",
    "",
]


@pytest.mark.parametrize("target", UNSAFE)
def test_an_unsafe_next_goes_to_the_home_page_signed_in(brand_a, client, target):
    response = client.post(f"/login/?next={quote(target, safe='')}", {"username": "alpha-admin", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.session["_auth_user_id"] == str(brand_a.admin.pk)


def test_a_page_of_this_site_is_honoured(brand_a, client):
    response = client.post("/login/?next=/customers/%3Fpage%3D2", {"username": "alpha-admin", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/customers/?page=2"
    assert client.get(response["Location"]).status_code == 200


def test_the_sign_in_page_of_a_protected_page_brings_you_back(brand_a, client):
    asked = client.get("/audit/")
    assert asked.status_code == 302
    response = client.post(asked["Location"], {"username": "alpha-admin", "password": PASSWORD})
    assert response["Location"] == "/audit/"
