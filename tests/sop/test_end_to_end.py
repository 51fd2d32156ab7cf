"""End to end with the WeCom twin over real HTTP (issue 14): customers enter a segment, a
segment-entered SOP enrols them, the sweep hands its first step (a 群发) to messaging, which sends
it to the twin; one staff member confirms in WeCom, the other not yet; the second step becomes
staff tasks whose cards reach WeCom and which show in the assignee's today view. The step ledger
and the 群发's results show each outcome, including a customer who deleted the staff."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from siyu.customers.models import Customer, FollowRelation
from siyu.messaging.models import MassMessage, MassRecipient, RecipientStatus
from siyu.messaging.services import send_due, send_due_notices, track
from siyu.segments import services as segments
from siyu.segments.services import SegmentInput
from siyu.segments.services.membership import recompute
from siyu.sop import services
from siyu.sop.models import Enrolment, RunState, StaffTask, StepRun, TaskKind, TriggerKind
from siyu.sop.services import SopInput, StepInput
from tests.conftest import seat
from tests.messaging.conftest import make_customer, make_shop
from tests.simulator.twin import connect_brand
from tests.sop.conftest import admin_seat
from tests.sop.test_triggers import drain

STAFF = ("staff0", "staff1")


def _sop_on_segment(brand: Any, segment_id: int) -> Any:
    # No quiet hours and every day a working day: the steps are due the moment customers enter.
    sop = services.create_sop(brand.workspace, admin_seat(brand), SopInput(
        name="门店新客", trigger=TriggerKind.SEGMENT_ENTERED, segment_id=segment_id, quiet_start=dt.time(0),
        quiet_end=dt.time(0), working_days_only=False), [
        StepInput(channel="mass", text="欢迎来到门店会员群"),
        StepInput(channel="task", task_kind=TaskKind.CALL, text="打个电话问问体验"),
    ])
    return services.set_status(brand.workspace, admin_seat(brand), sop.pk, "active")


def test_a_segment_entered_sop_runs_through_wecom_and_the_task_centre(transactional_db, brand_a, twin, login):
    shop = make_shop(brand_a)
    ws = shop.workspace
    staff0, staff1 = shop.accounts
    ops = seat(brand_a.members["customer_ops"], ws)
    staff0.operator, staff1.operator = ops, seat(brand_a.members["planner"], ws)
    staff0.save(update_fields=["operator"])
    staff1.save(update_fields=["operator"])
    connect_brand(ws, twin)
    segment = segments.create_segment(ws, admin_seat(brand_a), SegmentInput(
        name="门店新客", rule={"match": "and", "rules": [{"field": "channel", "op": "in", "value": ["store"]}]}))
    sop = _sop_on_segment(brand_a, segment.pk)

    # Five customers added through the store's code enter the segment; wm0004 deletes staff0 before
    # the sweep, so both its steps are skipped with the reason.
    for n in range(5):
        external = f"wm{n:04}"
        twin.admin.post("/twin/customers/add", json={
            "external_userid": external, "name": external, "staff_userid": STAFF[n % 2]}).raise_for_status()
        make_customer(shop, external, follows=((n % 2, "store", True),), added_at=timezone.now())
    assert recompute(ws, segment) == 5
    drain()
    assert Enrolment.unscoped.filter(sop=sop).count() == 5
    gone = Customer.unscoped.get(external_userid="wm0004")
    FollowRelation.unscoped.filter(customer=gone).update(deleted_at=timezone.now())
    twin.admin.post("/twin/customers/delete-staff",
                    json={"staff_userid": "staff0", "external_userid": "wm0004"}).raise_for_status()

    now = max(StepRun.unscoped.values_list("due_at", flat=True))
    swept = services.sweep(ws, now)
    assert (swept["sent"], swept["skipped:not_friend"]) == (8, 2)
    [message] = MassMessage.unscoped.filter(workspace=ws, source="sop")
    assert send_due(ws, now) == 1
    tasks = twin.state()["mass_tasks"]
    assert sorted((t["creator"], len(t["sends"])) for t in tasks) == [("staff0", 2), ("staff1", 2)]

    # staff0 confirms in WeCom; staff1 has not yet when the results are read.
    twin.advance(5)
    msgid = next(t["msgid"] for t in tasks if t["creator"] == "staff0")
    twin.admin.post("/twin/mass/confirm", json={"msgid": msgid, "userid": "staff0"}).raise_for_status()
    assert track(ws, now + dt.timedelta(minutes=31)) == 2
    results = {r.customer.external_userid: r.status
               for r in MassRecipient.unscoped.filter(message=message).select_related("customer")}
    assert results == {"wm0000": RecipientStatus.SENT, "wm0002": RecipientStatus.SENT,
                       "wm0001": RecipientStatus.PENDING, "wm0003": RecipientStatus.PENDING}

    # The ledger: per customer and step, what happened and why.
    ledger = {(r.customer_id, r.step.order): (r.state, r.reason, r.result_id)
              for r in StepRun.unscoped.filter(sop=sop).select_related("step")}
    task_of = dict(StaffTask.unscoped.values_list("customer_id", "pk"))
    for customer in Customer.unscoped.filter(workspace=ws):
        if customer.pk == gone.pk:
            assert ledger[(customer.pk, 1)][:2] == ledger[(customer.pk, 2)][:2] == (RunState.SKIPPED, "not_friend")
        else:
            assert ledger[(customer.pk, 1)] == (RunState.SENT, "", message.pk)
            assert ledger[(customer.pk, 2)][:2] == (RunState.SENT, "") and customer.pk in task_of
    page = login(brand_a.admin).get(f"/content/sop/{sop.pk}/").content.decode()
    for order in (1, 2):  # the detail page's ledger: four fired, one skipped as no longer a friend
        row = page.split(f'<tr data-step="{order}">')[1].split("</tr>")[0]
        assert '<td class="text-end" data-testid="fired">4</td>' in row and "已不是好友 1" in row

    # Each task's card reached its assignee in WeCom, linking to the today view.
    assert send_due_notices(ws, now) == 4
    for userid in STAFF:
        got = twin.admin.get("/twin/notices", params={"userid": userid}).json()["notices"]
        assert len(got) == 2 and {n["msgtype"] for n in got} == {"textcard"}
        assert all(n["content"]["url"].endswith("/content/sop/today/") for n in got)

    # The assignee (staff0's operator) sees their two calls in the today view, and does one.
    client = login(brand_a.members["customer_ops"])
    today = client.get("/content/sop/today/").content.decode()
    assert today.count("打个电话问问体验") == 2 and "wm0000" in today and "wm0001" not in today
    mine = StaffTask.unscoped.get(customer__external_userid="wm0000")
    services.complete_task(ws, ops, mine.pk, "已电话沟通")
    assert "wm0000" not in client.get("/content/sop/today/").content.decode()
