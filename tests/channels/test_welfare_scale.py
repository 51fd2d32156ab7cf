"""加号福利 pages as grants grow (issue 12): the same number of queries with 10 and 200 grants,
figures counted without multiplying the pool by the grants, and every grant reachable by paging
and search so an old coupon can still be redeemed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from siyu.channels.models import Welfare, WelfareCode, WelfareGrant
from siyu.channels.services import welfare as svc
from siyu.customers.models import Customer
from tests.conftest import seat


def a_coupon_with_grants(brand, n: int, name: str = "新人券") -> Welfare:
    """A coupon with `n` codes issued to `n` customers (in bulk: the pages are measured, not issuing)
    and as many codes again left in its pool; every third grant redeemed."""
    ws = brand.workspace
    welfare = svc.create_welfare(ws, seat(brand.admin, ws), svc.WelfareInput(name=name, kind="coupon"))
    now = timezone.now()
    codes = WelfareCode.unscoped.bulk_create(
        [WelfareCode(workspace=ws, welfare=welfare, code=f"XWZ{i:06d}", issued_at=now if i < n else None)
         for i in range(2 * n)])
    customers = Customer.unscoped.bulk_create(
        [Customer(workspace=ws, external_userid=f"wm{name}{i}", name=f"客户{i:04d}") for i in range(n)])
    WelfareGrant.unscoped.bulk_create([
        WelfareGrant(workspace=ws, welfare=welfare, customer=c, code=codes[i],
                     granted_at=now - dt.timedelta(minutes=i), redeemed_at=now if i % 3 == 0 else None)
        for i, c in enumerate(customers)])
    Welfare.unscoped.filter(pk=welfare.pk).update(issued=n)
    return welfare


def queries_of(client, method: str, url: str, data=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = getattr(client, method)(url, data or {})
    assert response.status_code in (200, 302), response.status_code
    return len(ctx.captured_queries)


@pytest.mark.parametrize("grants", [10, 200])
def test_welfare_pages_stay_within_a_query_budget_whatever_the_number_of_grants(
        brand_a, login, grants, django_assert_max_num_queries):
    welfare = a_coupon_with_grants(brand_a, grants)
    open_grant = WelfareGrant.objects.for_workspace(brand_a.workspace).filter(redeemed_at__isnull=True).first()
    client = login(brand_a.admin)
    client.get("/channels/welfare/")  # the session and the language settle on the first request
    with django_assert_max_num_queries(8):
        assert client.get("/channels/welfare/").status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get(f"/channels/welfare/{welfare.pk}/").status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get(f"/channels/welfare/{welfare.pk}/", {"q": "客户0", "status": "open", "page": "2"}).status_code == 200
    with django_assert_max_num_queries(17):
        assert client.post(f"/channels/welfare/{welfare.pk}/grants/{open_grant.pk}/redeem/").status_code == 302


def test_the_same_pages_make_the_same_number_of_queries_with_10_and_200_grants(brand_a, login):
    few, many = a_coupon_with_grants(brand_a, 10, "十张"), a_coupon_with_grants(brand_a, 200, "两百张")
    client = login(brand_a.admin)
    client.get("/channels/welfare/")
    counts = {w.name: queries_of(client, "get", f"/channels/welfare/{w.pk}/") for w in (few, many)}
    assert counts["十张"] == counts["两百张"]


def test_the_welfare_figures_never_join_the_code_pool_with_the_grants(brand_a, login):
    welfare = a_coupon_with_grants(brand_a, 30)
    client = login(brand_a.admin)
    with CaptureQueriesContext(connection) as ctx:
        html = client.get("/channels/welfare/").content.decode()
    row = html.split("新人券")[1].split("</tr>")[0]
    assert [row.split(f'data-testid="{k}">')[1].split("<")[0] for k in ("stock", "issued", "redeemed")] == ["30", "30", "10"]
    listing = [q["sql"] for q in ctx.captured_queries if 'FROM "channels_welfare"' in q["sql"]]
    assert listing and not any("JOIN" in sql and "welfarecode" in sql and "welfaregrant" in sql for sql in listing)
    assert svc.welfare_row(brand_a.workspace, seat(brand_a.admin, brand_a.workspace), welfare.pk).redeemed == 10


def test_an_old_grant_beyond_the_first_page_is_found_by_its_coupon_code_and_redeemed(brand_a, login):
    welfare = a_coupon_with_grants(brand_a, 230)
    oldest = WelfareGrant.objects.for_workspace(brand_a.workspace).select_related("code").order_by("granted_at").first()
    assert oldest.redeemed_at is None  # the 230th grant (i = 229) is not among every third
    client = login(brand_a.admin)
    first = client.get(f"/channels/welfare/{welfare.pk}/").content.decode()
    assert oldest.code.code not in first and 'data-testid="next-page"' in first
    found = client.get(f"/channels/welfare/{welfare.pk}/", {"q": oldest.code.code}).content.decode()
    assert f'data-testid="redeem-{oldest.pk}"' in found and found.count("data-testid=\"redeem-") == 1
    response = client.post(f"/channels/welfare/{welfare.pk}/grants/{oldest.pk}/redeem/",
                           {"note": "门店核销", "back": f"q={oldest.code.code}&page=1"})
    assert response.status_code == 302
    assert response["Location"] == f"/channels/welfare/{welfare.pk}/?q={oldest.code.code}&page=1"
    oldest.refresh_from_db()
    assert oldest.redeemed_at is not None and oldest.redeemed_note == "门店核销"


def test_the_last_page_holds_the_oldest_grants_and_the_status_filter_narrows_the_list(brand_a, login):
    welfare = a_coupon_with_grants(brand_a, 120)
    client = login(brand_a.admin)
    last = client.get(f"/channels/welfare/{welfare.pk}/", {"page": "3"}).content.decode()
    assert "客户0119" in last and "客户0000" not in last and 'data-testid="next-page"' not in last
    redeemed = client.get(f"/channels/welfare/{welfare.pk}/", {"status": "redeemed"}).content.decode()
    assert 'data-testid="redeem-' not in redeemed and "客户0000" in redeemed
    unredeemed = client.get(f"/channels/welfare/{welfare.pk}/", {"status": "open", "q": "客户0003"}).content.decode()
    assert 'data-testid="no-match"' in unredeemed  # 客户0003 is redeemed (every third)
