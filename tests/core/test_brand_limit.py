"""One user may create at most SIYU["MAX_BRANDS_PER_USER"] brands; the superuser is not limited."""

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from siyu.core import services
from siyu.core.models import AuditEntry, Workspace


@pytest.fixture
def limit_of_two(settings):
    settings.SIYU = {**settings.SIYU, "MAX_BRANDS_PER_USER": 2}


def test_a_user_may_create_brands_up_to_the_limit(brand_a, limit_of_two):
    for slug in ("one", "two"):
        workspace = services.create_workspace(brand_a.admin, f"Brand {slug}", slug)
        assert AuditEntry.objects.for_workspace(workspace).filter(action="workspace_created").exists()
    with pytest.raises(ValidationError) as refused:
        services.create_workspace(brand_a.admin, "Brand three", "three")
    assert "2" in refused.value.messages[0]
    assert not Workspace.objects.filter(slug="three").exists()


def test_brands_created_by_others_do_not_count(brand_a, brand_b, limit_of_two):
    services.create_workspace(brand_b.admin, "Beta two", "beta-two")
    services.create_workspace(brand_b.admin, "Beta three", "beta-three")
    assert services.create_workspace(brand_a.admin, "Alpha two", "alpha-two").slug == "alpha-two"


def test_the_superuser_is_not_limited(db, limit_of_two):
    root = get_user_model().objects.create_superuser("root", password="x-long-enough-password")
    for n in range(3):
        services.create_workspace(root, f"Brand {n}", f"brand-{n}")
    assert Workspace.objects.filter(created_by=root).count() == 3


def test_the_console_says_why_a_brand_is_refused(brand_a, login, limit_of_two):
    client = login(brand_a.admin)
    client.cookies["django_language"] = "en"
    for n in range(2):
        assert client.post("/workspaces/new/", {"name": f"Brand {n}", "slug": f"brand-{n}"}).status_code == 302
    response = client.post("/workspaces/new/", {"name": "Brand 2", "slug": "brand-2"})
    assert response.status_code == 200
    assert "You have created 2 brands, the most one person may create." in response.content.decode()


def test_the_api_refuses_past_the_limit_with_422(brand_a, login, limit_of_two):
    client = login(brand_a.admin)
    for n in range(2):
        assert client.post("/api/workspaces", {"name": f"Brand {n}", "slug": f"brand-{n}"},
                           content_type="application/json").status_code == 201
    response = client.post("/api/workspaces", {"name": "Brand 2", "slug": "brand-2"}, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["errors"]["__all__"]
