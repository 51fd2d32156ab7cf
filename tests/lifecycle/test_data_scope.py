"""Data scope (数据范围) on the lifecycle pages: a customer ops member's stage funnel, figures and
angel users count only the customers of the accounts they operate; a lead's count everyone's;
another brand's count none of them."""

from __future__ import annotations

import pytest

from siyu.core.permissions import Role
from siyu.customers.models import Customer, LifecycleStage
from siyu.lifecycle import services
from tests.conftest import seat
from tests.customers.scope_book import BOTH, MINE, OTHERS, lead_of, make_book, ops_of


@pytest.fixture
def book(brand_a):
    brand = make_book(brand_a)
    customers = Customer.objects.for_workspace(brand.workspace)
    customers.update(stage=LifecycleStage.ENGAGED)
    customers.filter(external_userid__in=[MINE[0], OTHERS[0], BOTH]).update(is_angel=True, score=90)
    return brand


def stage(kpis, name: str) -> int:
    return next(s.count for s in kpis.stages if s.stage == name)


def test_the_funnel_and_angels_of_customer_ops_count_their_accounts_customers(book, brand_b):
    ws = book.workspace
    mine = services.lifecycle_kpis(ws, ops_of(book))
    assert (mine.total, stage(mine, LifecycleStage.ENGAGED), mine.angels) == (3, 3, 2)
    assert {a.external_userid for a in services.angel_users(ws, ops_of(book))} == {MINE[0], BOTH}
    everyone = services.lifecycle_kpis(ws, lead_of(book))
    assert (everyone.total, everyone.angels) == (5, 3)
    assert {a.external_userid for a in services.angel_users(ws, lead_of(book))} == {MINE[0], OTHERS[0], BOTH}
    other = services.lifecycle_kpis(brand_b.workspace, seat(brand_b.admin, brand_b.workspace))
    assert (other.total, other.angels) == (0, 0)


def test_the_lifecycle_pages_and_api_of_customer_ops_say_and_show_their_scope(book, login):
    client = login(book.members[Role.CUSTOMER_OPS])
    home = client.get("/customers/lifecycle/").content.decode()
    assert 'data-testid="data-scope-note"' in home and OTHERS[0] not in home and MINE[0] in home
    angels = client.get("/customers/lifecycle/angels/").content.decode()
    assert OTHERS[0] not in angels and MINE[0] in angels
    assert client.get("/api/lifecycle/kpis").json()["angels"] == 2
    lead = login(book.members[Role.OPS_LEAD]).get("/customers/lifecycle/angels/").content.decode()
    assert OTHERS[0] in lead and "data-scope-note" not in lead
