"""Query budgets of the pages the data scope (数据范围) touches: each page a customer ops member or
a lead opens makes the same number of queries with a few customers as with many (flat as data
grows), within a budget. Timings at demo scale: `bench/console_pages.py`."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from siyu.accounts.models import StaffAccount
from siyu.channels.services import welfare as svc
from siyu.core.permissions import Role
from siyu.customers import services
from siyu.customers.models import (
    Customer,
    CustomerTransfer,
    DeletedBy,
    LifecycleStage,
    TransferStatus,
)
from siyu.segments import services as segments
from siyu.segments.services.rules import EVERYONE
from tests.conftest import seat
from tests.customers.scope_book import lead_of, make_book

PAGES = {  # page: the most queries it may make, for either role (customer ops: +1, the scope note)
    "/customers/churn/": 12,
    "/customers/transfers/": 10,
    "/customers/transfers/?handover={account}": 14,
    "/customers/segments/{segment}/": 11,
    "/customers/lifecycle/": 13,
    "/customers/lifecycle/angels/": 10,
    "/channels/welfare/{welfare}/": 9,
    "/channels/analytics/?group=none&compare=groups": 14,
    "/channels/codes/new/": 13,  # + the group codes a welcome can carry
}
NOT_FOR_CUSTOMER_OPS = {"/channels/codes/new/"}  # they may not edit channel codes


def grow(brand, per_account: int) -> dict[str, int]:
    """`per_account` more customers on each account, a third lost, some transferred, all in a
    segment, with a coupon each; the ids the pages need."""
    ws = brand.workspace
    when = timezone.now() - dt.timedelta(days=2)
    accounts = {a.userid: a for a in StaffAccount.objects.for_workspace(ws)}
    for staff in accounts:
        for i in range(per_account):
            external = f"wm{staff}{i:04d}"
            services.record_add(ws, staff_userid=staff, external_userid=external, state="chstore", at=when)
            if i % 3 == 0:
                services.record_loss(ws, staff_userid=staff, external_userid=external,
                                     at=when + dt.timedelta(hours=1), by=DeletedBy.CUSTOMER)
    customers = list(Customer.objects.for_workspace(ws).order_by("pk"))
    Customer.objects.for_workspace(ws).update(stage=LifecycleStage.ENGAGED, is_angel=True, score=80)
    CustomerTransfer.unscoped.bulk_create([
        CustomerTransfer(workspace=ws, customer=c, handover=accounts["xiaowanzi01"], takeover=accounts["xiaowanzi02"],
                         status=TransferStatus.WAITING, requested_at=timezone.now()) for c in customers[::4]])
    segment = segments.create_segment(ws, lead_of(brand), segments.SegmentInput("全部", rule=EVERYONE))
    planner = seat(brand.members[Role.PLANNER], ws)
    coupon = svc.create_welfare(ws, planner, svc.WelfareInput(name="新客券", kind="coupon"))
    svc.upload_codes(ws, planner, coupon.pk, text="\n".join(f"C{i:05d}" for i in range(len(customers))))
    for c in customers:
        svc.issue_welfare(ws, coupon, c, None, None)
    return {"account": accounts["xiaowanzi02"].pk, "segment": segment.pk, "welfare": coupon.pk}


def queries(client, path: str) -> int:
    client.get(path)  # the session and the language settle on the first request
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("role", [Role.CUSTOMER_OPS, Role.OPS_LEAD])
def test_scoped_pages_make_as_few_queries_with_many_customers_as_with_few(brand_a, brand_b, login, role):
    few, many = make_book(brand_a), make_book(brand_b)
    few_ids, many_ids = grow(few, 2), grow(many, 40)
    for template, budget in PAGES.items():
        if role == Role.CUSTOMER_OPS and template in NOT_FOR_CUSTOMER_OPS:
            continue
        small = queries(login(few.members[role]), template.format(**few_ids))
        large = queries(login(many.members[role]), template.format(**many_ids))
        assert large == small, f"{template}: {small} queries with few customers, {large} with many"
        assert large <= budget, f"{template}: {large} queries, budget {budget}"
