"""Data scope (数据范围) on segments: a customer ops member's member list (page and API) holds only
the customers of the accounts they operate; a lead sees every member and exports them all; a
customer ops member may not export; another brand sees nothing."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import PermissionDenied
from openpyxl import load_workbook

from siyu.core.permissions import Role
from siyu.segments import services
from siyu.segments.services.rules import EVERYONE
from tests.conftest import seat
from tests.customers.scope_book import BOTH, MINE, OTHERS, lead_of, make_book, ops_of

EVERYONE_IN_BOOK = {*MINE, *OTHERS, BOTH}


@pytest.fixture
def book(brand_a):
    brand = make_book(brand_a)
    brand.segment = services.create_segment(brand.workspace, lead_of(brand), services.SegmentInput("全部", rule=EVERYONE))
    return brand


def members(page) -> set[str]:
    return {c.external_userid for c in page.customers}


def test_the_member_list_of_customer_ops_holds_only_their_accounts_customers(book):
    ws, segment = book.workspace, book.segment
    assert segment.member_count == 5
    assert members(services.member_page(ws, ops_of(book), segment)) == {*MINE, BOTH}
    assert members(services.member_page(ws, lead_of(book), segment)) == EVERYONE_IN_BOOK
    first = services.member_page(ws, ops_of(book), segment, limit=2)
    rest = services.member_page(ws, ops_of(book), segment, after=first.next_after or 0, limit=2)
    assert members(first) | members(rest) == {*MINE, BOTH} and rest.next_after is None


def test_the_segment_page_and_api_of_customer_ops_list_their_customers(book, brand_b, login):
    client = login(book.members[Role.CUSTOMER_OPS])
    html = client.get(f"/customers/segments/{book.segment.pk}/").content.decode()
    assert "wmMINE1" in html and "wmOTHER1" not in html and 'data-testid="data-scope-note"' in html
    ids = client.get(f"/api/segments/{book.segment.pk}/members").json()["customer_ids"]
    assert len(ids) == 3
    assert len(login(book.members[Role.OPS_LEAD]).get(f"/api/segments/{book.segment.pk}/members").json()[
        "customer_ids"]) == 5
    assert login(brand_b.admin).get(f"/customers/segments/{book.segment.pk}/").status_code == 404


def test_a_lead_exports_every_member_and_customer_ops_may_not_export(book, brand_b):
    ws = book.workspace
    content, rows = services.export_segment(ws, lead_of(book), book.segment, ["external_userid"])
    exported = {r[0] for r in list(load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))[1:]}
    assert rows == 5 and exported == EVERYONE_IN_BOOK
    with pytest.raises(PermissionDenied):
        services.export_segment(ws, ops_of(book), book.segment, ["external_userid"])
    _content, none = services.export_customers(brand_b.workspace, seat(brand_b.admin, brand_b.workspace),
                                               [c.pk for c in services.member_page(ws, lead_of(book), book.segment).customers])
    assert none == 0
