"""Every console page has a strict Content-Security-Policy and the usual protective headers."""

import re
from pathlib import Path

import pytest

import siyu

TEMPLATES = sorted(Path(siyu.__file__).parent.glob("*/templates/**/*.html"))


def policy(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] for part in (p.strip() for p in header.split(";"))}


def assert_strict(response) -> None:
    csp = policy(response)
    assert csp["default-src"] == "'self'"
    assert csp["frame-ancestors"] == "'none'"
    assert csp["object-src"] == "'none'"
    assert csp["base-uri"] == "'none'"
    assert csp["style-src"] == "'self'"
    assert "'unsafe-inline'" not in csp["script-src"]
    assert "'unsafe-eval'" not in csp["script-src"]
    assert "http" not in response["Content-Security-Policy"]  # nothing from another origin
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_the_sign_in_page_has_a_strict_policy(db, client):
    assert_strict(client.get("/login/"))


def test_a_console_page_has_a_strict_policy_and_its_inline_script_the_nonce(brand_a, login):
    from django.utils import timezone

    from siyu.customers import services as customers

    # An add, so the home page draws its chart (an empty chart shows its empty state, no script).
    customers.record_add(brand_a.workspace, staff_userid="xw01", external_userid="wmCSP", state="", at=timezone.now())
    response = login(brand_a.admin).get("/")
    assert_strict(response)
    nonce = re.search(r"'nonce-([^']+)'", policy(response)["script-src"]).group(1)
    scripts = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", response.content.decode())
    assert scripts, "the home page's chart script is inline"
    assert all(f'nonce="{nonce}"' in attributes for attributes in scripts if "application/json" not in attributes)


def test_each_response_gets_its_own_nonce(brand_a, login):
    client = login(brand_a.admin)
    first, second = (policy(client.get("/"))["script-src"] for _ in range(2))
    assert first != second


@pytest.mark.parametrize("path", ["/customers/segments/new/", "/channels/codes/new/"])
def test_only_pages_with_alpine_expressions_allow_eval(brand_a, login, path):
    client = login(brand_a.admin)
    assert "'unsafe-eval'" in policy(client.get(path))["script-src"]
    assert "'unsafe-eval'" not in policy(client.get("/customers/"))["script-src"]


def test_api_responses_have_the_policy_too(brand_a, login):
    response = login(brand_a.admin).get("/api/me")
    assert response.status_code == 200
    assert policy(response)["frame-ancestors"] == "'none'"


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_templates_have_no_inline_handlers_or_unsigned_inline_code(template):
    html = template.read_text(encoding="utf-8")
    assert not re.search(r"<[^>]+\son[a-z]+\s*=", html), "bind events in console/console.js"
    assert "<style" not in html, "put styles in a static .css file"
    for attributes in re.findall(r"<script\b([^>]*)>", html):
        assert "src=" in attributes or "nonce=" in attributes or "application/json" in attributes
