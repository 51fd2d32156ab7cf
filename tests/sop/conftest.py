"""SOP fixtures: a brand with staff accounts (each with an operator seat), customers who are
friends, and SOPs built through the services."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from siyu.accounts.models import StaffAccount
from siyu.customers.models import Customer, FollowRelation
from siyu.sop import services
from siyu.sop.models import Sop, SopStatus, StepChannel, TaskKind
from siyu.sop.services import SopInput, StepInput
from tests.conftest import seat
from tests.messaging.conftest import twin  # noqa: F401 - the WeCom twin with staff0 and staff1

SH = dt.timezone(dt.timedelta(hours=8))
# A Monday with no holiday near it: 2026-11-02 10:00 in Shanghai.
MONDAY = dt.datetime(2026, 11, 2, 10, 0, tzinfo=SH)


def admin_seat(brand: Any) -> Any:
    return seat(brand.admin, brand.workspace)


def make_friends(brand: Any, count: int, *, prefix: str = "c", added_at: dt.datetime = MONDAY,
                 state: str = "") -> list[Customer]:
    ws = brand.workspace
    account = StaffAccount.objects.for_workspace(ws).filter(userid="sop-staff").first()
    if account is None:
        account = StaffAccount.unscoped.create(workspace=ws, userid="sop-staff", name="小完子",
                                              operator=seat(brand.members["customer_ops"], ws))
    customers = Customer.unscoped.bulk_create([Customer(workspace=ws, external_userid=f"{prefix}{n:06}",
                                                       name=f"{prefix}{n}", first_added_at=added_at)
                                              for n in range(count)])
    FollowRelation.unscoped.bulk_create([FollowRelation(workspace=ws, customer=c, account=account, added_at=added_at,
                                                       state=state) for c in customers])
    return customers


def task_step(days: int, *, kind: str = TaskKind.SEND, at: dt.time | None = dt.time(10, 0), **extra: Any) -> StepInput:
    return StepInput(days=days, at_time=at, channel=StepChannel.TASK, task_kind=kind, text=f"day {days}", **extra)


def mass_step(days: int, *, at: dt.time | None = dt.time(10, 0), **extra: Any) -> StepInput:
    return StepInput(days=days, at_time=at, channel=StepChannel.MASS, text=f"day {days} 你好", **extra)


def active_sop(brand: Any, steps: list[StepInput], **data: Any) -> Sop:
    who = admin_seat(brand)
    sop = services.create_sop(brand.workspace, who, SopInput(name=data.pop("name", "新客 7 天"), **data), steps)
    return services.set_status(brand.workspace, who, sop.pk, SopStatus.ACTIVE)


@pytest.fixture
def ws(brand_a: Any) -> Any:
    return brand_a.workspace
