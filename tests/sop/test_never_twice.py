"""Never twice, never lost: random pauses, edits, friend deletions, overlapping sweeps and
workers killed between claim and hand-over, then a drain; every run ends once, with a reason
when it did not fire, and nothing reached a customer twice."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from siyu.customers.models import Customer, FollowRelation
from siyu.messaging import services as messaging
from siyu.messaging.models import MassMessage
from siyu.sop import services
from siyu.sop.models import Enrolment, RunState, Sop, SopStatus, SopStep, StaffTask, StepRun
from siyu.sop.services import LEASE, SopInput, enrol, sweep
from tests.sop.conftest import MONDAY, active_sop, admin_seat, make_friends, mass_step, task_step

OPS = st.one_of(
    st.tuples(st.just("advance"), st.integers(1, 60 * 30)),  # minutes
    st.tuples(st.just("sweep"), st.just(0)),
    st.tuples(st.just("overlap"), st.just(0)),  # two sweeps at the same instant
    st.tuples(st.just("kill"), st.just(0)),  # claim a group, then the worker dies
    st.tuples(st.just("kill_after_send"), st.just(0)),  # dies after handing a 群发 over, before recording
    st.tuples(st.just("pause"), st.just(0)),
    st.tuples(st.just("resume"), st.just(0)),
    st.tuples(st.just("edit"), st.booleans().map(int)),  # migrate or not
    st.tuples(st.just("unfriend"), st.integers(0, 5)),
    st.tuples(st.just("enrol"), st.integers(0, 5)),
)


def _kill(brand, now, *, after_send=False):
    ws = brand.workspace
    first = StepRun.unscoped.filter(workspace=ws, state=RunState.DUE, due_at__lte=now,
                                    sop__status=SopStatus.ACTIVE).order_by("due_at").first()
    if first is None:
        return
    claim = services.claim_group(ws, first.step_id, first.due_at.replace(second=0, microsecond=0), now)
    if after_send and claim.startswith("sop-step:"):
        messaging.send_to_customers(ws, source="sop", ref=claim, name="SOP", text="hi", now=now, customer_ids=list(
            StepRun.unscoped.filter(claim=claim).values_list("customer_id", flat=True)))


def _apply(brand, sop, customers, op, arg, now):
    ws, who = brand.workspace, admin_seat(brand)
    status = Sop.unscoped.get(pk=sop.pk).status
    if op == "advance":
        return now + dt.timedelta(minutes=arg)
    if op == "sweep":
        sweep(ws, now)
    elif op == "overlap":
        sweep(ws, now)
        sweep(ws, now)
    elif op in ("kill", "kill_after_send"):
        _kill(brand, now, after_send=op == "kill_after_send")
    elif op == "pause" and status == SopStatus.ACTIVE:
        services.set_status(ws, who, sop.pk, SopStatus.PAUSED, now=now)
    elif op == "resume" and status == SopStatus.PAUSED:
        services.set_status(ws, who, sop.pk, SopStatus.ACTIVE, now=now)
    elif op == "edit":
        services.edit_sop(ws, who, sop.pk, SopInput(name="v"), [mass_step(1), task_step(2, at=None, hours=5)],
                          migrate=bool(arg), now=now)
    elif op == "unfriend":
        FollowRelation.unscoped.filter(customer=customers[arg]).update(deleted_at=now)
    elif op == "enrol":
        enrol(ws, Sop.unscoped.get(pk=sop.pk), [customers[arg].pk], now, now)
    return now


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(ops=st.lists(OPS, max_size=25))
def test_no_step_fires_twice_and_none_is_lost_without_a_reason(db, brand_a, ops):
    for model in (StepRun, Enrolment, StaffTask, Sop, MassMessage):
        model.unscoped.all().delete()
    Customer.unscoped.all().delete()
    customers = make_friends(brand_a, 6)
    sop = active_sop(brand_a, [mass_step(1), task_step(2, at=dt.time(21, 30)), mass_step(3, at=None, hours=2)])
    enrol(brand_a.workspace, sop, [c.pk for c in customers[:3]], MONDAY, MONDAY)
    now = MONDAY
    friend_at: dict[int, dt.datetime] = {}
    for op, arg in ops:
        if op == "unfriend":
            friend_at.setdefault(customers[arg].pk, now)
        now = _apply(brand_a, sop, customers, op, arg, now)
    # Drain: resume the SOP if paused, then sweep past every window and lease.
    if Sop.unscoped.get(pk=sop.pk).status == SopStatus.PAUSED:
        services.set_status(brand_a.workspace, admin_seat(brand_a), sop.pk, SopStatus.ACTIVE, now=now)
    for _ in range(3):
        now += LEASE + dt.timedelta(days=3)
        sweep(brand_a.workspace, now)

    rows = list(StepRun.unscoped.values("pk", "state", "reason", "customer_id", "finished_at", "step_id"))
    assert {r["state"] for r in rows} <= {RunState.SENT, RunState.SKIPPED, RunState.EXPIRED}
    assert all(r["reason"] for r in rows if r["state"] != RunState.SENT)
    refs = Counter(StaffTask.unscoped.values_list("ref", flat=True))
    assert not [ref for ref, n in refs.items() if n > 1]
    mass_steps = set(SopStep.unscoped.filter(channel="mass").values_list("pk", flat=True))
    sent = {f"sop-run:{r['pk']}" for r in rows if r["state"] == RunState.SENT and r["step_id"] not in mass_steps}
    assert set(refs) == sent  # each fired task run has its one task, and no task lacks its run
    # Each 群发 recipient once per step, and each one a fired run of that step: none sent twice, none unrecorded.
    handed = Counter((int(ref.split(":")[1]), c) for ref, ids in MassMessage.unscoped.values_list("ref", "customer_ids")
                     for c in ids)
    assert max(handed.values(), default=1) == 1
    fired = {(r["step_id"], r["customer_id"]) for r in rows if r["state"] == RunState.SENT and r["step_id"] in mass_steps}
    assert set(handed) == fired
    for r in rows:  # guards held at fire time, resumed claims too: no task for someone who had left
        gone = friend_at.get(r["customer_id"])
        if r["state"] == RunState.SENT and gone is not None and r["step_id"] not in mass_steps:
            assert r["finished_at"] <= gone
