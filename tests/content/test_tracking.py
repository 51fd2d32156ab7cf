"""Link opens: the tracked address counts an open and redirects, without sign-in; a forged or
altered token is a 404."""

from __future__ import annotations

from django.test import Client

from siyu.content import services
from tests.content.conftest import link_material, text_material


def test_opening_a_tracked_link_counts_and_redirects_without_sign_in(brand_a):
    link = link_material(brand_a, url="https://shop.example.com/p/air")
    response = Client().get(services.tracked_path(link))
    assert response.status_code == 302 and response["Location"] == "https://shop.example.com/p/air"
    Client().get(services.tracked_path(link))
    link.refresh_from_db()
    assert link.open_count == 2


def test_a_forged_or_altered_token_is_not_found(brand_a):
    link = link_material(brand_a)
    path = services.tracked_path(link)
    token = path.rstrip("/").rsplit("/", 1)[-1]
    assert Client().get(path.replace(token, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))).status_code == 404
    assert Client().get("/content/o/not-a-token/").status_code == 404
    from django.core import signing
    other = signing.dumps([brand_a.workspace.pk, link.pk], salt="another-purpose", compress=True)
    assert Client().get(f"/content/o/{other}/").status_code == 404
    link.refresh_from_db()
    assert link.open_count == 0


def test_a_token_for_a_deleted_or_non_link_material_is_not_found(brand_a):
    text = text_material(brand_a)
    from django.core import signing

    from siyu.content.services.tracking import SALT
    token = signing.dumps([brand_a.workspace.pk, text.pk], salt=SALT, compress=True)
    assert Client().get(f"/content/o/{token}/").status_code == 404
