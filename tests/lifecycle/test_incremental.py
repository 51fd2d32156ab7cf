"""Recompute through the real bus and worker: follows starting and ending, other modules'
changes, no loop on lifecycle's own changes, and idempotence."""

from __future__ import annotations

from siyu.core.models import EventRecord, SubscriberRun
from siyu.customers.models import Customer, LifecycleStage, TimelineEntry
from siyu.customers.services import customers_changed
from siyu.lifecycle.services import recompute
from siyu.lifecycle.timeline import LifecycleTimeline
from tests.conftest import work_until
from tests.customers.conftest import added, at, churned, publish
from tests.lifecycle.conftest import NOW, add, engage, fresh


def lifecycle_runs(ws) -> int:
    return SubscriberRun.objects.for_workspace(ws).filter(subscriber__startswith="siyu.lifecycle.").count()


def test_an_add_through_the_bus_scores_the_new_customer(transactional_db, brand_a):
    ws = brand_a.workspace
    publish(ws, added(at(5)))
    customer = work_until(lambda: Customer.objects.for_workspace(ws).filter(score__gt=0).first())
    assert (customer.stage, customer.tier) == (LifecycleStage.NEW, "C")


def test_a_churn_through_the_bus_makes_the_customer_lost(transactional_db, brand_a):
    ws = brand_a.workspace
    publish(ws, added(at(60)))
    customer = work_until(lambda: Customer.objects.for_workspace(ws).filter(score__gt=0).first())
    publish(ws, churned(at(5)))
    work_until(lambda: fresh(customer).stage == LifecycleStage.LOST)
    entry = TimelineEntry.objects.for_workspace(ws).get(kind=LifecycleTimeline.STAGE_CHANGED)
    assert entry.detail == "新客 → 已流失"


def test_another_modules_change_is_recomputed_and_lifecycles_own_is_ignored(transactional_db, brand_a):
    ws = brand_a.workspace
    customer = add(ws)
    work_until(lambda: fresh(customer).score > 0)
    engage(customer, at(0))
    customers_changed(ws, [customer.pk], "fields")  # as the profile service would
    work_until(lambda: fresh(customer).stage == LifecycleStage.ENGAGED)
    # Lifecycle announced its change with reason "lifecycle"; its own subscriber ran and did nothing.
    work_until(lambda: not SubscriberRun.objects.for_workspace(ws).exclude(status="done").exists())
    own = EventRecord.objects.for_workspace(ws).filter(name="customers.changed", payload__reason="lifecycle")
    assert own.exists()
    before = (lifecycle_runs(ws), own.count())
    work_until(lambda: True)
    assert (lifecycle_runs(ws), own.count()) == before  # no loop: nothing new was published


def test_recomputing_twice_changes_nothing_the_second_time(brand_a):
    ws = brand_a.workspace
    customer = add(ws)
    first = recompute(ws, now=NOW)
    events = EventRecord.objects.for_workspace(ws).filter(name="customers.changed").count()
    second = recompute(ws, now=NOW)
    assert first.changed == 1 and second.changed == 0
    assert EventRecord.objects.for_workspace(ws).filter(name="customers.changed").count() == events
    assert TimelineEntry.objects.for_workspace(ws).filter(customer=customer, kind=LifecycleTimeline.STAGE_CHANGED).count() == 0


def test_a_full_recompute_in_small_batches_equals_one_big_batch(brand_a, brand_b):
    for n in range(7):
        add(brand_a.workspace, f"wm{n}")
        add(brand_b.workspace, f"wm{n}")
    small = recompute(brand_a.workspace, now=NOW, batch_size=3)
    big = recompute(brand_b.workspace, now=NOW, batch_size=1000)
    assert small.customers == big.customers == 7
    scores = [list(Customer.objects.for_workspace(b.workspace).order_by("external_userid").values_list("stage", "score"))
              for b in (brand_a, brand_b)]
    assert scores[0] == scores[1]


def test_a_full_recompute_in_slices_resumes_where_the_last_slice_stopped(brand_a):
    from siyu.lifecycle.services.recompute import recompute_slice

    ws = brand_a.workspace
    people = [add(ws, f"wm{n}") for n in range(5)]
    first = recompute_slice(ws, 0, max_batches=2, batch_size=2, now=NOW)
    assert first.result.customers == 4 and first.next_after_id == people[3].pk
    last = recompute_slice(ws, first.next_after_id, max_batches=2, batch_size=2, now=NOW)
    assert last.result.customers == 1 and last.next_after_id is None
    assert all(fresh(p).score > 0 for p in people)


def test_the_nightly_job_recomputes_every_brand(transactional_db, brand_a, brand_b):
    from siyu.core.schedule import jobs
    from siyu.lifecycle.tasks import recompute_nightly

    assert "lifecycle.recompute_nightly" in {j.name for j in jobs()}
    a, b = add(brand_a.workspace), add(brand_b.workspace)
    work_until(lambda: fresh(a).score > 0 and fresh(b).score > 0)
    Customer.objects.for_workspace(brand_a.workspace).filter(pk=a.pk).update(stage=LifecycleStage.DORMANT)
    Customer.objects.for_workspace(brand_b.workspace).filter(pk=b.pk).update(score=3)
    recompute_nightly.enqueue()
    assert work_until(lambda: fresh(a).stage == LifecycleStage.NEW and fresh(b).score > 3)


def test_tag_changes_do_not_recompute(transactional_db, brand_a):
    ws = brand_a.workspace
    customer = add(ws)
    work_until(lambda: fresh(customer).score > 0)
    engage(customer, at(0))
    customers_changed(ws, [customer.pk], "tags")
    work_until(lambda: not SubscriberRun.objects.for_workspace(ws).exclude(status="done").exists())
    assert fresh(customer).stage == LifecycleStage.NEW  # no rule reads tags; the nightly run catches up
