"""Signed links and phone sessions, refused when they should be: tampered, expired, another
brand's, another fan's; and no fan or staff cookie opens the console."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import signing
from django.http import HttpResponse
from django.test import RequestFactory

from siyu.mobile import services, sessions

pytestmark = pytest.mark.django_db


def test_a_fan_token_opens_until_its_date_and_not_after():
    now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    token = sessions.fan_token(7, "welfare", 42, days=3, now=now)
    link = sessions.open_fan_token(token, now=now + dt.timedelta(days=2, hours=23))
    assert (link.workspace_id, link.page, link.customer_id) == (7, "welfare", 42)
    with pytest.raises(sessions.LinkRefused) as refused:
        sessions.open_fan_token(token, now=now + dt.timedelta(days=3, seconds=1))
    assert refused.value.expired


@pytest.mark.parametrize("tamper", [
    lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # the signature
    lambda t: "x" + t,  # the payload
    lambda t: t.split(":")[0],  # no signature at all
    lambda t: "",
])
def test_a_tampered_fan_token_is_refused_as_not_valid(tamper):
    token = sessions.fan_token(7, "welfare", 42)
    with pytest.raises(sessions.LinkRefused) as refused:
        sessions.open_fan_token(tamper(token))
    assert not refused.value.expired


def _cookies_of(response: HttpResponse) -> dict[str, str]:
    return {name: morsel.value for name, morsel in response.cookies.items()}


def test_a_staff_session_is_for_one_brand_and_its_cookie_cannot_be_forged():
    factory = RequestFactory()
    response = HttpResponse()
    sessions.start_staff_session(factory.get("/"), response, 3, 11)
    cookie = response.cookies[sessions.STAFF_COOKIE]
    assert cookie["path"] == "/m/" and cookie["httponly"] and cookie["samesite"] == "Lax"
    request = factory.get("/m/x/staff/")
    request.COOKIES[sessions.STAFF_COOKIE] = cookie.value
    assert sessions.staff_session(request, 3) == sessions.StaffSession(3, 11)
    assert sessions.staff_session(request, 4) is None  # another brand's pages
    _payload, signature = cookie.value.split(":", 1)
    request.COOKIES[sessions.STAFF_COOKIE] = signing.b64_encode(b"[3,12]").decode() + ":" + signature
    assert sessions.staff_session(request, 3) is None


def test_a_fan_session_cookie_is_not_a_staff_session():
    factory = RequestFactory()
    response = HttpResponse()
    sessions.start_fan_session(factory.get("/"), response, sessions.FanSession(3, "o1", "u1", 5))
    request = factory.get("/m/x/staff/")
    request.COOKIES[sessions.STAFF_COOKIE] = response.cookies[sessions.FAN_COOKIE].value
    assert sessions.staff_session(request, 3) is None


def test_the_oauth_state_must_be_the_one_this_browser_was_given():
    factory = RequestFactory()
    response = HttpResponse()
    state = sessions.start_oauth(factory.get("/"), response, "/m/x/fan/welfare/")
    request = factory.get("/m/x/fan/oauth/")
    request.COOKIES[sessions.STATE_COOKIE] = response.cookies[sessions.STATE_COOKIE].value
    assert sessions.finish_oauth(request, state) == "/m/x/fan/welfare/"
    assert sessions.finish_oauth(request, state + "x") is None
    assert sessions.finish_oauth(factory.get("/"), state) is None  # no cookie: another browser


def test_links_open_in_the_browser(client, brand_a, brand_b):
    ws = brand_a.workspace
    path = services.fan_link_path(ws, "welfare", None)
    assert path.startswith(f"/m/{ws.slug}/f/")
    # tampered
    response = client.get(path[:-3] + "zz/")
    assert response.status_code == 403 and "链接无效" in response.content.decode()
    # another brand's link on this brand's address
    other = services.fan_link_path(brand_b.workspace, "welfare", None)
    assert client.get(other.replace(brand_b.workspace.slug, ws.slug)).status_code == 403
    # expired
    expired = sessions.fan_token(ws.pk, "welfare", None, days=-1)
    response = client.get(f"/m/{ws.slug}/f/{expired}/")
    assert response.status_code == 410 and "链接已过期" in response.content.decode()
    # unknown brand
    assert client.get(path.replace(ws.slug, "nobody")).status_code == 404


def test_a_fan_or_staff_cookie_does_not_open_the_console(client, brand_a):
    factory = RequestFactory()
    response = HttpResponse()
    sessions.start_fan_session(factory.get("/"), response, sessions.FanSession(brand_a.workspace.pk, "o1", "u1", 5))
    sessions.start_staff_session(factory.get("/"), response, brand_a.workspace.pk, 1)
    for name, value in _cookies_of(response).items():
        client.cookies[name] = value
    for url in ("/", "/customers/", "/api/customers/"):
        answer = client.get(url)
        assert answer.status_code in (302, 401), url
        if answer.status_code == 302:
            assert "/login/" in answer["Location"]


def test_fan_pages_are_rate_limited_per_ip(client, brand_a, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    from django.core.cache import cache

    cache.clear()
    path = services.fan_link_path(brand_a.workspace, "welfare", None)
    codes = [client.get(path[:-3] + "zz/").status_code for _ in range(61)]
    assert codes[:60] == [403] * 60 and codes[60] == 429
