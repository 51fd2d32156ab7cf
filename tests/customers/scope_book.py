"""A brand whose customers are split between two operators, for the data-scope (数据范围) tests of
every page that lists customers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from siyu.accounts.models import StaffAccount
from siyu.core.permissions import Role
from siyu.customers import services
from siyu.customers.models import Customer
from tests.conftest import seat

MINE = ("wmMINE1", "wmMINE2")
OTHERS = ("wmOTHER1", "wmOTHER2")
BOTH = "wmBOTH"


def make_book(brand: Any) -> Any:
    """xiaowanzi01 is operated by the customer ops member, xiaowanzi02 by the ops lead; two
    customers each, and one customer who is friends with both."""
    ws = brand.workspace
    when = timezone.now() - dt.timedelta(days=1)
    for staff, externals in (("xiaowanzi01", [*MINE, BOTH]), ("xiaowanzi02", [*OTHERS, BOTH])):
        for external in externals:
            services.record_add(ws, staff_userid=staff, external_userid=external, state="chstore", at=when)
    StaffAccount.objects.for_workspace(ws).filter(userid="xiaowanzi01").update(
        operator=seat(brand.members[Role.CUSTOMER_OPS], ws))
    StaffAccount.objects.for_workspace(ws).filter(userid="xiaowanzi02").update(
        operator=seat(brand.members[Role.OPS_LEAD], ws))
    return brand


def customer(ws: Any, external: str) -> Customer:
    return Customer.objects.for_workspace(ws).get(external_userid=external)


def ops_of(brand: Any) -> Any:
    return seat(brand.members[Role.CUSTOMER_OPS], brand.workspace)


def lead_of(brand: Any) -> Any:
    return seat(brand.members[Role.OPS_LEAD], brand.workspace)
