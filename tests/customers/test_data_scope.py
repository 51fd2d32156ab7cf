"""Data scope (数据范围): customer ops see the customers of the staff accounts they operate; leads,
admins and the other roles see the whole brand and may narrow the list to their own accounts."""

from __future__ import annotations

import pytest
from django.utils import timezone

from siyu.accounts.models import StaffAccount
from siyu.core.permissions import Role
from siyu.customers import services
from siyu.customers.models import Customer, DeletedBy, FollowRelation
from siyu.customers.services import CustomerFilters
from tests.conftest import seat
from tests.customers.scope_book import make_book


@pytest.fixture
def book(brand_a):
    return make_book(brand_a)


def externals(page) -> set[str]:
    return {c.external_userid for c in page.customers}


def customer(ws, external: str) -> Customer:
    return Customer.objects.for_workspace(ws).get(external_userid=external)


def test_customer_ops_see_only_the_customers_of_the_accounts_they_operate(book):
    ws, ops = book.workspace, seat(book.members[Role.CUSTOMER_OPS], book.workspace)
    assert externals(services.search_customers(ws, ops)) == {"wmMINE1", "wmMINE2", "wmBOTH"}
    assert services.count_customers(ws, ops).total == 3


def test_customer_ops_cannot_widen_their_scope_with_filters(book):
    ws, ops = book.workspace, seat(book.members[Role.CUSTOMER_OPS], book.workspace)
    other = StaffAccount.objects.for_workspace(ws).get(userid="xiaowanzi02")
    page = services.search_customers(ws, ops, CustomerFilters(account_id=other.pk, mine=False))
    assert externals(page) == {"wmBOTH"}  # the other account's customers, within their own


def test_leads_and_admins_see_every_customer_and_may_narrow_to_their_accounts(book):
    ws = book.workspace
    lead, admin = seat(book.members[Role.OPS_LEAD], ws), seat(book.admin, ws)
    everyone = {"wmMINE1", "wmMINE2", "wmBOTH", "wmOTHER1", "wmOTHER2"}
    assert externals(services.search_customers(ws, admin)) == everyone
    assert externals(services.search_customers(ws, lead)) == everyone
    assert externals(services.search_customers(ws, lead, CustomerFilters(mine=True))) == {"wmOTHER1", "wmOTHER2", "wmBOTH"}
    assert services.count_customers(ws, lead, CustomerFilters(mine=True)).total == 3
    assert externals(services.search_customers(ws, admin, CustomerFilters(mine=True))) == set()  # operates none


def test_a_lost_customer_stays_in_scope_but_a_transferred_one_leaves_it(book):
    ws, ops = book.workspace, seat(book.members[Role.CUSTOMER_OPS], book.workspace)
    mine = FollowRelation.objects.for_workspace(ws).filter(account__userid="xiaowanzi01")
    mine.filter(customer__external_userid="wmMINE1").update(deleted_at=timezone.now(), deleted_by=DeletedBy.CUSTOMER)
    mine.filter(customer__external_userid="wmMINE2").update(deleted_at=timezone.now(), deleted_by=DeletedBy.TRANSFER)
    assert externals(services.search_customers(ws, ops)) == {"wmMINE1", "wmBOTH"}


def test_a_customer_outside_the_scope_has_no_profile_for_customer_ops(book):
    ws, ops = book.workspace, seat(book.members[Role.CUSTOMER_OPS], book.workspace)
    with pytest.raises(Customer.DoesNotExist):
        services.customer_profile(ws, ops, customer(ws, "wmOTHER1").pk)
    assert services.customer_profile(ws, ops, customer(ws, "wmMINE1").pk).customer.external_userid == "wmMINE1"


def test_customer_ops_cannot_edit_a_customer_outside_their_scope(book):
    from siyu.customers.services import profile

    ws, ops = book.workspace, seat(book.members[Role.CUSTOMER_OPS], book.workspace)
    with pytest.raises(Customer.DoesNotExist):
        profile.update_profile(ws, ops, customer(ws, "wmOTHER1").pk, birthday="2000-01-01")


def test_the_profile_page_of_a_customer_outside_the_scope_is_not_found(book, login):
    ws = book.workspace
    client = login(book.members[Role.CUSTOMER_OPS])
    assert client.get(f"/customers/{customer(ws, 'wmOTHER1').pk}/").status_code == 404
    assert client.get(f"/customers/{customer(ws, 'wmMINE1').pk}/").status_code == 200
    assert login(book.members[Role.OPS_LEAD]).get(f"/customers/{customer(ws, 'wmOTHER1').pk}/").status_code == 200


def test_the_list_says_customer_ops_see_their_accounts_and_the_switch_is_locked_on(book, login):
    html = login(book.members[Role.CUSTOMER_OPS]).get("/customers/").content.decode()
    scope = html[html.index('data-testid="data-scope"'):]
    assert "只看我运营的账号的客户" in scope
    toggle = scope[scope.index("<input"):scope.index(">", scope.index("<input"))]
    assert "checked" in toggle and "disabled" in toggle
    assert "wmOTHER1" not in html and "wmMINE1" in html


def test_a_lead_turns_the_switch_on_to_see_only_their_accounts(book, login):
    client = login(book.members[Role.OPS_LEAD])
    everyone = client.get("/customers/").content.decode()
    assert "wmMINE1" in everyone and "正在显示全品牌的客户" in everyone
    theirs = client.get("/customers/?mine=on").content.decode()
    assert "wmMINE1" not in theirs and "wmOTHER1" in theirs
    count = theirs[theirs.index('data-testid="customer-count">'):]
    assert count[count.index(">") + 1:].lstrip().startswith("3")


def test_the_api_lists_and_shows_only_the_scope_of_customer_ops(book, login):
    ws = book.workspace
    client = login(book.members[Role.CUSTOMER_OPS])
    listed = client.get("/api/customers/").json()
    assert {c["external_userid"] for c in listed["items"]} == {"wmMINE1", "wmMINE2", "wmBOTH"}
    assert client.get(f"/api/customers/{customer(ws, 'wmOTHER1').pk}").status_code == 404
    lead = login(book.members[Role.OPS_LEAD])
    assert {c["external_userid"] for c in lead.get("/api/customers/?mine=true").json()["items"]} == {
        "wmOTHER1", "wmOTHER2", "wmBOTH"}


def test_bulk_actions_of_customer_ops_skip_customers_outside_their_scope(book, login):
    ws = book.workspace
    ops = seat(book.members[Role.CUSTOMER_OPS], ws)
    ids = [customer(ws, e).pk for e in ("wmOTHER1", "wmMINE1", "wmOTHER2")]
    assert services.visible_ids(ws, ops, ids) == [customer(ws, "wmMINE1").pk]
    answer = login(book.members[Role.CUSTOMER_OPS]).post(
        "/customers/bulk/", {"action": "tag", "customers": [customer(ws, "wmOTHER1").pk]}, follow=True)
    assert "请从列表中勾选客户" in answer.content.decode()


def test_customer_ops_cannot_export(book, login):
    from django.core.exceptions import PermissionDenied

    from siyu.core.permissions import Action, Module, require

    with pytest.raises(PermissionDenied):
        require(Role.CUSTOMER_OPS, Module.CUSTOMERS, Action.EXPORT)


def test_customer_ops_operating_no_account_see_the_brand_and_are_told_why(book, login):
    ws = book.workspace
    StaffAccount.objects.for_workspace(ws).update(operator=None)
    ops = seat(book.members[Role.CUSTOMER_OPS], ws)
    assert services.scope_of(ws, ops) == services.Scope.UNASSIGNED
    assert services.count_customers(ws, ops).total == 5
    html = login(book.members[Role.CUSTOMER_OPS]).get("/customers/").content.decode()
    assert "你还没有运营任何员工账号" in html
