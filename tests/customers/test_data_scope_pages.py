"""Data scope (数据范围) beyond the customer list: the churn list, its figures and notices, and
transfers (list, picker, starting one) show a customer ops member only the customers of the
accounts they operate; a lead sees all; another brand sees none of them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from siyu.accounts.models import StaffAccount
from siyu.core.models import Notification
from siyu.core.permissions import Role
from siyu.customers import services
from siyu.customers.churn.subscribers import CHURN_KIND
from siyu.customers.models import CustomerTransfer, DeletedBy, TransferStatus
from siyu.customers.services import churn, transfers
from tests.conftest import seat
from tests.customers.conftest import churned, drain, publish
from tests.customers.scope_book import customer, lead_of, make_book, ops_of

LOST_AT = timezone.now() - dt.timedelta(hours=2)


@pytest.fixture
def book(brand_a):
    brand = make_book(brand_a)
    ws = brand.workspace
    for staff, external in (("xiaowanzi01", "wmMINE1"), ("xiaowanzi02", "wmOTHER1")):
        services.record_loss(ws, staff_userid=staff, external_userid=external, at=LOST_AT, by=DeletedBy.CUSTOMER)
    accounts = {a.userid: a for a in StaffAccount.objects.for_workspace(ws)}
    for external, handover, takeover in (("wmMINE2", "xiaowanzi01", "xiaowanzi02"),
                                         ("wmOTHER2", "xiaowanzi02", "xiaowanzi01")):
        CustomerTransfer.objects.create(workspace=ws, customer=customer(ws, external), handover=accounts[handover],
                                        takeover=accounts[takeover], status=TransferStatus.WAITING,
                                        requested_at=timezone.now())
    return brand


def lost(page) -> set[str]:
    return {row.customer.external_userid for row in page.rows}


def test_churn_list_and_figures_of_customer_ops_hold_only_their_accounts_customers(book, brand_b):
    ws = book.workspace
    flt = churn.ChurnFilter()
    assert lost(churn.churn_list(ws, ops_of(book), flt)) == {"wmMINE1"}
    assert lost(churn.churn_list(ws, lead_of(book), flt)) == {"wmMINE1", "wmOTHER1"}
    assert [(f.account.userid, f.lost) for f in churn.churn_by_account(ws, ops_of(book), flt)] == [("xiaowanzi01", 1)]
    assert len(churn.churn_by_account(ws, lead_of(book), flt)) == 2
    assert lost(churn.churn_list(brand_b.workspace, seat(brand_b.admin, brand_b.workspace), flt)) == set()


def test_the_churn_page_and_api_of_customer_ops_show_their_losses_and_say_so(book, brand_b, login):
    client = login(book.members[Role.CUSTOMER_OPS])
    html = client.get("/customers/churn/").content.decode()
    assert "wmMINE1" in html and "wmOTHER1" not in html
    assert 'data-testid="data-scope-note"' in html and "仅列出你运营的员工账号的客户" in html
    assert {r["external_userid"] for r in client.get("/api/churn/").json()["items"]} == {"wmMINE1"}
    lead = login(book.members[Role.OPS_LEAD]).get("/customers/churn/").content.decode()
    assert "wmMINE1" in lead and "wmOTHER1" in lead and "data-scope-note" not in lead
    assert "wmMINE1" not in login(brand_b.admin).get("/customers/churn/").content.decode()


def test_churn_notices_reach_customer_ops_only_for_the_accounts_they_operate(transactional_db, brand_a):
    ws = make_book(brand_a).workspace
    for staff, external in (("xiaowanzi01", "wmMINE2"), ("xiaowanzi02", "wmOTHER2")):
        publish(ws, churned(timezone.now().replace(microsecond=0), external=external, staff=staff))
    drain()
    heard = {n.url for n in Notification.objects.for_workspace(ws).filter(kind=CHURN_KIND, membership=ops_of(brand_a))}
    assert heard == {f"/customers/{customer(ws, 'wmMINE2').pk}/"}
    lead_heard = Notification.objects.for_workspace(ws).filter(kind=CHURN_KIND, membership=lead_of(brand_a))
    assert lead_heard.count() == 2


def test_transfer_history_of_customer_ops_lists_their_customers_only(book, brand_b, login):
    ws = book.workspace
    assert {t.customer.external_userid for t in transfers.transfers_query(ws, ops_of(book))} == {"wmMINE2"}
    assert {t.customer.external_userid for t in transfers.transfers_query(ws, lead_of(book))} == {"wmMINE2", "wmOTHER2"}
    client = login(book.members[Role.CUSTOMER_OPS])
    assert [t["customer_id"] for t in client.get("/api/churn/transfers").json()["items"]] == [
        customer(ws, "wmMINE2").pk]
    html = client.get("/customers/transfers/").content.decode()
    assert "wmMINE2" in html and "wmOTHER2" not in html
    assert "wmMINE2" not in login(brand_b.admin).get("/customers/transfers/").content.decode()


def test_the_transfer_picker_of_customer_ops_offers_only_their_customers(book, login):
    ws = book.workspace
    other = StaffAccount.objects.for_workspace(ws).get(userid="xiaowanzi02")
    picked = transfers.handover_customers(ws, ops_of(book), other.pk)
    assert {r.customer.external_userid for r in picked.object_list} == {"wmBOTH"}  # theirs too, by xiaowanzi01
    everyone = transfers.handover_customers(ws, lead_of(book), other.pk)
    assert {r.customer.external_userid for r in everyone.object_list} == {"wmOTHER2", "wmBOTH"}
    html = login(book.members[Role.CUSTOMER_OPS]).get(f"/customers/transfers/?handover={other.pk}").content.decode()
    assert "wmBOTH" in html and "wmOTHER2" not in html


def test_customer_ops_cannot_start_a_transfer_of_a_customer_outside_their_scope(book, login):
    ws = book.workspace
    accounts = {a.userid: a.pk for a in StaffAccount.objects.for_workspace(ws)}
    with pytest.raises(ValidationError) as refused:
        transfers.request_transfer(ws, ops_of(book), accounts["xiaowanzi02"], accounts["xiaowanzi01"],
                                   [customer(ws, "wmOTHER2").pk])
    assert "customer_ids" in refused.value.message_dict
    answer = login(book.members[Role.CUSTOMER_OPS]).post("/customers/transfers/request/", {
        "handover": accounts["xiaowanzi02"], "takeover": accounts["xiaowanzi01"],
        "customer": [customer(ws, "wmOTHER2").pk]})
    assert answer.status_code == 422 and "部分所选客户不属于你运营的员工账号" in answer.content.decode()
    assert not CustomerTransfer.objects.for_workspace(ws).filter(customer=customer(ws, "wmOTHER2"),
                                                                 handover_id=accounts["xiaowanzi02"],
                                                                 status=TransferStatus.REJECTED).exists()
