"""Data scope (数据范围) on channel pages that list customers: a welfare's grant list shows a
customer ops member only the grants of the customers of the accounts they operate; a lead sees
all; another brand sees none."""

from __future__ import annotations

import pytest

from siyu.channels.services import welfare as svc
from siyu.core.permissions import Role
from tests.conftest import seat
from tests.customers.scope_book import BOTH, MINE, OTHERS, customer, lead_of, make_book, ops_of


@pytest.fixture
def book(brand_a):
    brand = make_book(brand_a)
    ws = brand.workspace
    planner = seat(brand.members[Role.PLANNER], ws)
    brand.coupon = svc.create_welfare(ws, planner, svc.WelfareInput(name="新客券", kind="coupon"))
    svc.upload_codes(ws, planner, brand.coupon.pk, text="\n".join(f"C{i}" for i in range(5)))
    for external in (*MINE, *OTHERS, BOTH):
        svc.issue_welfare(ws, brand.coupon, customer(ws, external), None, None)
    return brand


def granted(page) -> set[str]:
    return {g.customer.external_userid for g in page.object_list}


def test_the_grant_list_of_customer_ops_holds_only_their_accounts_customers(book, brand_b, login):
    ws, coupon = book.workspace, book.coupon
    assert granted(svc.grants_of(ws, ops_of(book), coupon.pk)) == {*MINE, BOTH}
    assert granted(svc.grants_of(ws, ops_of(book), coupon.pk, search=OTHERS[0])) == set()
    assert granted(svc.grants_of(ws, lead_of(book), coupon.pk)) == {*MINE, *OTHERS, BOTH}
    html = login(book.members[Role.CUSTOMER_OPS]).get(f"/channels/welfare/{coupon.pk}/").content.decode()
    assert MINE[0] in html and OTHERS[0] not in html and 'data-testid="data-scope-note"' in html
    lead = login(book.members[Role.OPS_LEAD]).get(f"/channels/welfare/{coupon.pk}/").content.decode()
    assert OTHERS[0] in lead and "data-scope-note" not in lead
    assert login(brand_b.admin).get(f"/channels/welfare/{coupon.pk}/").status_code == 404
