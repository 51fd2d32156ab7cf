"""Issue 12 item 10: the customer list's total, the transfer picker's search, a transfer started
from the profile (roles checked by the service)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext

from siyu.core.permissions import Role
from siyu.customers import services
from siyu.customers.models import Customer, CustomerTransfer, FollowRelation, TransferStatus
from siyu.customers.services import CustomerFilters, listing, transfers
from tests.conftest import seat
from tests.customers.conftest import at, connect
from tests.customers.test_transfers import A, B, account, customers


@pytest.fixture
def brand(brand_a, twin):
    from siyu.accounts.services import account_for_userid

    connect(brand_a.workspace, twin)
    for userid in (A, B):
        account_for_userid(brand_a.workspace, userid)
    return brand_a


def some(ws, n: int, **over) -> None:
    for i in range(n):
        relation = services.record_add(ws, staff_userid=A if i % 2 else B, external_userid=f"wmN{i:03}",
                                       state="chstore", at=at(3600 + i))
        Customer.objects.for_workspace(ws).filter(pk=relation.customer_id).update(name=f"客户{i:03}", **over)


# --- the total ----------------------------------------------------------------------------------

def test_the_list_shows_the_total_with_the_same_filters(brand_a, login):
    ws = brand_a.workspace
    some(ws, 7)
    client = login(brand_a.members["customer_ops"])
    assert "7 位客户" in client.get("/customers/").content.decode().split('data-testid="customer-count"')[1][:80]
    searched = client.get("/customers/?q=客户00").content.decode().split('data-testid="customer-count"')[1][:80]
    assert "7 位客户" in searched  # 客户000..客户006
    only = client.get("/customers/?q=客户003").content.decode().split('data-testid="customer-count"')[1][:80]
    assert "1 位客户" in only


def test_the_total_is_one_bounded_count_and_says_more_past_the_bound(brand_a, monkeypatch):
    ws = brand_a.workspace
    some(ws, 5)
    ops = seat(brand_a.members["customer_ops"], ws)
    with CaptureQueriesContext(connection) as queries:
        count = services.count_customers(ws, ops, CustomerFilters())
    assert (count.total, count.more) == (5, False)
    [query] = [q["sql"] for q in queries.captured_queries if "COUNT" in q["sql"].upper()]
    assert "LIMIT" in query.upper()
    monkeypatch.setattr(listing, "COUNT_UP_TO", 3)
    assert services.count_customers(ws, ops, CustomerFilters()) == services.CustomerCount(3, more=True)


def test_the_list_page_does_not_grow_its_queries_with_the_rows(brand_a, login):
    ws = brand_a.workspace
    client = login(brand_a.members["customer_ops"])
    some(ws, 2)
    with CaptureQueriesContext(connection) as few:
        client.get("/customers/")
    some(ws, 12)
    Customer.objects.for_workspace(ws).update(name="x")
    for i, relation in enumerate(FollowRelation.objects.for_workspace(ws)):
        FollowRelation.objects.for_workspace(ws).filter(pk=relation.pk).update(state=f"chs{i}")
    with CaptureQueriesContext(connection) as many:
        client.get("/customers/")
    assert len(many) == len(few)


# --- the transfer picker's search ---------------------------------------------------------------

def test_the_transfer_picker_finds_customers_by_name_remark_and_phone_suffix(brand, twin, login):
    wm1, wm2, wm3 = customers(brand, twin, "wmT1", "wmT2", "wmT3")
    Customer.objects.for_workspace(brand.workspace).filter(pk=wm1.pk).update(name="王小姐", phone="13800001234")
    Customer.objects.for_workspace(brand.workspace).filter(pk=wm2.pk).update(name="李先生", phone="13900005678")
    FollowRelation.objects.for_workspace(brand.workspace).filter(customer=wm3).update(remark="VIP 老客")
    handover = account(brand, A).pk
    client = login(brand.members["customer_ops"])

    def found(q: str) -> str:
        html = client.get(f"/customers/transfers/?handover={handover}&q={q}").content.decode()
        return html.split('data-testid="handover-customers"')[1].split("</table>")[0]

    assert "王小姐" in found("王") and "李先生" not in found("王")
    assert "wmT3" in found("VIP") and "王小姐" not in found("VIP")
    assert "李先生" in found("5678") and "王小姐" not in found("5678")
    assert 'name="q" value="VIP"' in client.get(f"/customers/transfers/?handover={handover}&q=VIP").content.decode()


def test_a_role_that_sees_masked_phones_cannot_find_by_phone_digits(brand, twin):
    [wm1] = customers(brand, twin, "wmT1")
    Customer.objects.for_workspace(brand.workspace).filter(pk=wm1.pk).update(phone="13800001234")
    analyst = seat(brand.members[Role.DATA_ANALYST], brand.workspace)
    assert not services.may_see_phone(Role.DATA_ANALYST)
    assert list(transfers.handover_customers(brand.workspace, analyst, account(brand, A).pk, 1, "1234")) == []
    ops = seat(brand.members[Role.CUSTOMER_OPS], brand.workspace)
    assert len(list(transfers.handover_customers(brand.workspace, ops, account(brand, A).pk, 1, "1234"))) == 1


def test_the_picker_pages_keep_the_search(brand, twin, login):
    customers(brand, twin, *[f"wmP{i:03}" for i in range(transfers.PAGE_SIZE + 3)])
    Customer.objects.for_workspace(brand.workspace).update(name="门店客")
    html = login(brand.members["customer_ops"]).get(
        f"/customers/transfers/?handover={account(brand, A).pk}&q=门店").content.decode()
    assert "&q=%E9%97%A8%E5%BA%97&page=2" in html


# --- a transfer from the profile ----------------------------------------------------------------

def test_a_transfer_starts_from_the_profile(brand, twin, login):
    [customer] = customers(brand, twin, "wmPROF")
    client = login(brand.members["customer_ops"])
    html = client.get(f"/customers/{customer.pk}/").content.decode()
    panel = html.split('data-testid="profile-transfer"')[1]
    assert f'data-testid="transfer-from-{account(brand, A).pk}"' in panel
    response = client.post("/customers/transfers/request/", {
        "handover": account(brand, A).pk, "takeover": account(brand, B).pk, "customer": customer.pk,
        "from_profile": customer.pk})
    assert response.status_code == 200
    transfer = CustomerTransfer.objects.for_workspace(brand.workspace).get(customer=customer)
    assert transfer.status == TransferStatus.WAITING and transfer.takeover.userid == B


def test_a_refused_transfer_from_the_profile_goes_back_to_it_with_the_reason(brand, twin, login):
    [customer] = customers(brand, twin, "wmPROF")
    client = login(brand.members["customer_ops"])
    response = client.post("/customers/transfers/request/", {
        "handover": account(brand, A).pk, "takeover": account(brand, A).pk, "customer": customer.pk,
        "from_profile": customer.pk}, follow=True)
    assert response.redirect_chain[-1][0] == f"/customers/{customer.pk}/"
    assert not CustomerTransfer.objects.for_workspace(brand.workspace).exists()


def test_roles_that_may_not_transfer_see_no_transfer_on_the_profile_and_are_refused(brand, twin, login):
    [customer] = customers(brand, twin, "wmPROF")
    planner = brand.members[Role.PLANNER]
    assert 'data-testid="profile-transfer"' not in login(planner).get(f"/customers/{customer.pk}/").content.decode()
    response = login(planner).post("/customers/transfers/request/", {
        "handover": account(brand, A).pk, "takeover": account(brand, B).pk, "customer": customer.pk,
        "from_profile": customer.pk})
    assert response.status_code == 403
    with pytest.raises(PermissionDenied):
        transfers.request_transfer(brand.workspace, seat(planner, brand.workspace), account(brand, A).pk,
                                   account(brand, B).pk, [customer.pk])
    assert not CustomerTransfer.objects.for_workspace(brand.workspace).exists()
