"""The channel-reports API: the ranked channel and touchpoint tables for a range, with session
or token auth, the role check and the brand's own rows only."""

from __future__ import annotations

import datetime as dt

import pytest

from siyu.core import services as core
from siyu.customers.models import DeletedBy
from tests.channels.test_analytics import add, at, make_code, spend
from tests.conftest import seat

MARCH = "start=2025-03-01&end=2025-03-20"


def channels_of(workspace):
    ad = make_code(workspace, "抖音信息流", "online_ad")
    store = make_code(workspace, "南京西路店", "store")
    mall = make_code(workspace, "万达店", "store")
    for day in (2, 3, 4):
        add(ad, at(day))
    add(store, at(2), deleted=at(3), by=DeletedBy.STAFF)
    add(mall, at(5))
    spend(ad, dt.date(2025, 3, 1), dt.date(2025, 3, 31), 31_000)
    return ad, store, mall


def test_the_channel_table_is_ranked_by_net_adds_with_every_figure(brand_a, login):
    ad, store, mall = channels_of(brand_a.workspace)
    body = login(brand_a.members["data_analyst"]).get(f"/api/channel-reports/channels?{MARCH}").json()
    assert (body["start"], body["end"], body["sort"], body["order"]) == ("2025-03-01", "2025-03-20", "net", "desc")
    assert [r["name"] for r in body["rows"]] == ["抖音信息流", "万达店", "南京西路店"]
    first = body["rows"][0]
    assert (first["code_id"], first["adds"], first["net"], first["touchpoint"]) == (ad.pk, 3, 3, "online_ad")
    assert first["cost_fen"] == 20_000 and first["cost_per_add_fen"] == 6_667  # 20 of 31 days of 310 yuan
    assert first["retention_30"] == {"days": 30, "cohort": 3, "retained": 3, "rate": "1.0000"}  # long past
    assert first["first_purchases"] is None and first["revenue_fen"] is None
    assert body["rows"][2]["deleted_by_staff"] == 1 and body["rows"][2]["net"] == 0
    assert body["totals"]["adds"] == 5 and body["totals"]["net"] == 4


def test_the_channel_table_can_be_sorted(brand_a, login):
    channels_of(brand_a.workspace)
    body = login(brand_a.admin).get(f"/api/channel-reports/channels?{MARCH}&sort=deleted_by_staff").json()
    assert body["rows"][0]["name"] == "南京西路店"
    body = login(brand_a.admin).get(f"/api/channel-reports/channels?{MARCH}&sort=name&order=asc").json()
    assert [r["name"] for r in body["rows"]] == sorted(["抖音信息流", "南京西路店", "万达店"])


def test_the_touchpoint_table_adds_up_codes_of_one_type(brand_a, login):
    channels_of(brand_a.workspace)
    body = login(brand_a.admin).get(f"/api/channel-reports/touchpoints?{MARCH}").json()
    rows = {r["touchpoint"]: r for r in body["rows"]}
    assert (rows["store"]["codes"], rows["store"]["adds"], rows["store"]["net"]) == (2, 2, 1)
    assert rows["store"]["cost_fen"] is None and rows["online_ad"]["cost_fen"] == 20_000
    assert [r["touchpoint"] for r in body["rows"]] == ["online_ad", "store"]


def test_without_dates_the_last_seven_days_are_reported(brand_a, login):
    body = login(brand_a.admin).get("/api/channel-reports/channels").json()
    start, end = dt.date.fromisoformat(body["start"]), dt.date.fromisoformat(body["end"])
    assert (end - start).days == 6


@pytest.mark.parametrize("query", ["start=2025-03-20&end=2025-03-01", "start=2024-01-01&end=2025-03-01",
                                   f"{MARCH}&sort=secret"])
def test_a_bad_range_or_sort_is_a_422_that_says_which_field(brand_a, login, query):
    response = login(brand_a.admin).get(f"/api/channel-reports/channels?{query}")
    assert response.status_code == 422 and response.json()["errors"]


def test_a_token_of_the_brand_reads_the_table(brand_a):
    from django.test import Client

    channels_of(brand_a.workspace)
    _, key = core.create_api_token(brand_a.workspace, seat(brand_a.members["data_analyst"], brand_a.workspace), "t")
    body = Client().get(f"/api/channel-reports/channels?{MARCH}", headers={"Authorization": f"Bearer {key}"}).json()
    assert len(body["rows"]) == 3


@pytest.mark.parametrize("path", ["channels", "touchpoints"])
def test_the_merchandiser_is_refused(brand_a, login, path):
    assert login(brand_a.members["merchandiser"]).get(f"/api/channel-reports/{path}").status_code == 403


@pytest.mark.parametrize("path", ["channels", "touchpoints"])
def test_another_brand_sees_only_its_own_rows(brand_a, brand_b, login, path):
    channels_of(brand_a.workspace)
    theirs = make_code(brand_b.workspace, "贝塔门店", "promoter")
    add(theirs, at(3))
    body = login(brand_b.admin).get(f"/api/channel-reports/{path}?{MARCH}").json()
    assert len(body["rows"]) == 1 and body["totals"]["adds"] == 1


@pytest.mark.parametrize("path", ["channels", "touchpoints"])
def test_an_anonymous_caller_is_refused(db, client, path):
    assert client.get(f"/api/channel-reports/{path}").status_code == 401


def test_the_routes_are_in_the_openapi_document(brand_a, login):
    paths = login(brand_a.admin).get("/api/openapi.json").json()["paths"]
    assert {"/api/channel-reports/channels", "/api/channel-reports/touchpoints"} <= set(paths)
