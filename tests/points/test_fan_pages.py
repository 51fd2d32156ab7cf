"""The fans' check-in and points pages, through the test client with a fan session cookie."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.http import HttpResponse
from django.test import RequestFactory

from siyu.mobile import services as mobile
from siyu.mobile import sessions
from siyu.points import services
from siyu.points.models import Checkin, Redemption, Source
from tests.points.conftest import SHANGHAI_NOON, code_reward, make_customer, make_plan

pytestmark = pytest.mark.django_db


def as_fan(client, workspace, customer_id):
    response = HttpResponse()
    sessions.start_fan_session(RequestFactory().get("/"), response, sessions.FanSession(workspace.pk, "o1", "u1", customer_id))
    client.cookies[sessions.FAN_COOKIE] = response.cookies[sessions.FAN_COOKIE].value
    return client


def test_a_fan_checks_in_once_a_day_from_the_page(client, brand_a, customer):
    ws = brand_a.workspace
    make_plan(ws, make_up_cards=1)
    as_fan(client, ws, customer.pk)
    with time_machine.travel(SHANGHAI_NOON, tick=False):
        page = client.get(f"/m/{ws.slug}/fan/checkin/")
        assert page.status_code == 200 and 'data-testid="check-in"' in page.content.decode()
        done = client.post(f"/m/{ws.slug}/fan/checkin/")
        assert done.status_code == 200 and "+5" in done.content.decode()
        again = client.post(f"/m/{ws.slug}/fan/checkin/")
        assert again.status_code == 200 and Checkin.unscoped.count() == 1
        assert services.balance_of(ws, customer.pk) == 5
    with time_machine.travel(SHANGHAI_NOON + dt.timedelta(days=2), tick=False):
        client.post(f"/m/{ws.slug}/fan/checkin/", {"day": "2026-12-08"})  # the missed Tuesday, with a card
        assert Checkin.unscoped.get(day=dt.date(2026, 12, 8)).made_up
        client.post(f"/m/{ws.slug}/fan/checkin/", {"day": "not-a-day"})
        assert Checkin.unscoped.count() == 2


def test_a_fan_redeems_a_code_and_sees_it(client, brand_a, customer):
    ws = brand_a.workspace
    reward = code_reward(ws, cost=20)
    services.grant(ws, customer, 25, Source.ACTIVITY, "seed")
    as_fan(client, ws, customer.pk)
    page = client.get(f"/m/{ws.slug}/fan/points/")
    assert page.status_code == 200 and reward.name in page.content.decode()
    key = page.context["key"]
    done = client.post(f"/m/{ws.slug}/fan/points/", {"reward": reward.pk, "key": key})
    assert done.status_code == 200 and 'data-testid="code"' in done.content.decode()
    twice = client.post(f"/m/{ws.slug}/fan/points/", {"reward": reward.pk, "key": key})  # a double tap
    assert twice.status_code == 200 and Redemption.unscoped.count() == 1
    poor = client.post(f"/m/{ws.slug}/fan/points/", {"reward": reward.pk, "key": "other"})
    assert 'data-testid="problem"' in poor.content.decode() and services.balance_of(ws, customer.pk) == 5
    bad = client.post(f"/m/{ws.slug}/fan/points/", {"reward": "99999999999999999999999", "key": "x"})
    assert bad.status_code == 200
    me = client.get(f"/m/{ws.slug}/fan/me/")
    assert 'data-testid="me-balance">5<' in me.content.decode()


def test_a_fan_who_is_not_a_customer_is_shown_how_to_join(client, brand_a):
    as_fan(client, brand_a.workspace, None)
    for page in ("checkin", "points"):
        answer = client.get(f"/m/{brand_a.workspace.slug}/fan/{page}/")
        assert answer.status_code == 200 and "mobile/fan_join.html" in [t.name for t in answer.templates]


def test_another_brands_fan_session_does_not_open_the_page(client, brand_a, brand_b):
    other = make_customer(brand_b.workspace)
    as_fan(client, brand_b.workspace, other.pk)
    answer = client.get(f"/m/{brand_a.workspace.slug}/fan/points/")
    assert answer.status_code in (302, 503)  # sign in with brand A first


def test_signed_links_can_point_at_check_in_and_points(client, brand_a, customer):
    ws = brand_a.workspace
    as_fan(client, ws, customer.pk)
    for page in ("checkin", "points"):
        answer = client.get(mobile.fan_link_path(ws, page, customer.pk))
        assert answer.status_code == 302 and answer["Location"] == f"/m/{ws.slug}/fan/{page}/"
