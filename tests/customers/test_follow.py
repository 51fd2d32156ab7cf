"""Customers and follow relations kept from WeCom's contact events: idempotent, counted once,
robust to replays and to events arriving out of order."""

from __future__ import annotations

from siyu.accounts.models import AccountDay, StaffAccount
from siyu.core.events import retry_run
from siyu.core.models import EventRecord, SubscriberRun
from siyu.customers import services
from siyu.customers.models import Customer, DeletedBy, FollowRelation, TimelineEntry
from siyu.customers.timeline import TimelineKind
from tests.customers.conftest import added, at, churned, drain, publish, staff_deleted


def account(workspace, userid="xiaowanzi01") -> StaffAccount:
    return StaffAccount.objects.for_workspace(workspace).get(userid=userid)


def adds_today(workspace) -> tuple[int, int]:
    day = AccountDay.objects.for_workspace(workspace).get()
    return day.adds, day.losses


def follow_events(workspace, name="customers.follow_started") -> int:
    return EventRecord.objects.for_workspace(workspace).filter(name=name).count()


def test_an_add_delivered_and_processed_twice_keeps_one_customer_and_counts_once(transactional_db, brand_a):
    ws = brand_a.workspace
    event = added(at(1))
    publish(ws, event)
    drain()
    for run in SubscriberRun.objects.for_workspace(ws).filter(event__name="wecom.friend_added"):
        retry_run(run)  # every subscriber of the add runs a second time
    publish(ws, event)  # and the connector publishes it again (same dedupe key)
    drain()
    relation = FollowRelation.objects.for_workspace(ws).select_related("customer", "account").get()
    assert (relation.customer.external_userid, relation.account.userid, relation.state) == ("wmCUST01", "xiaowanzi01", "chstore")
    assert (relation.times_added, relation.added_at, relation.active) == (1, event.occurred_at, True)
    assert Customer.objects.for_workspace(ws).count() == 1
    assert account(ws).friend_count == 1 and adds_today(ws) == (1, 0)
    assert follow_events(ws) == 1
    assert TimelineEntry.objects.for_workspace(ws).filter(kind=TimelineKind.ADDED).count() == 1


def test_the_same_add_recorded_twice_changes_nothing_the_second_time(brand_a):
    ws, when = brand_a.workspace, at()
    first = services.record_add(ws, staff_userid="xiaowanzi01", external_userid="wmA", state="s1", at=when)
    second = services.record_add(ws, staff_userid="xiaowanzi01", external_userid="wmA", state="s1", at=when)
    assert first.pk == second.pk and second.times_added == 1
    assert account(ws).friend_count == 1 and follow_events(ws) == 1


def test_a_customer_who_deletes_and_adds_again_is_one_customer_added_twice(brand_a):
    ws = brand_a.workspace
    services.record_add(ws, staff_userid="xiaowanzi01", external_userid="wmA", state="s1", at=at(30))
    services.record_loss(ws, staff_userid="xiaowanzi01", external_userid="wmA", at=at(20), by=DeletedBy.CUSTOMER)
    relation = services.record_add(ws, staff_userid="xiaowanzi01", external_userid="wmA", state="s2", at=at(10))
    assert Customer.objects.for_workspace(ws).count() == 1 and FollowRelation.objects.for_workspace(ws).count() == 1
    assert (relation.times_added, relation.active, relation.state, relation.deleted_by) == (2, True, "s2", "")
    assert account(ws).friend_count == 1 and adds_today(ws) == (2, 1)
    started = EventRecord.objects.for_workspace(ws).filter(name="customers.follow_started").order_by("id")
    assert [e.payload["reactivated"] for e in started] == [False, True]


def test_churn_is_deleted_by_the_customer_and_counted_once_however_often_it_arrives(transactional_db, brand_a):
    ws = brand_a.workspace
    services.record_add(ws, staff_userid="xiaowanzi01", external_userid="wmCUST01", state="chstore", at=at(60))
    loss = churned(at(5))
    publish(ws, loss)
    drain()
    retry_run(SubscriberRun.objects.for_workspace(ws).get(event__name="wecom.customer_deleted_staff"))
    drain()
    relation = FollowRelation.objects.for_workspace(ws).get()
    assert (relation.deleted_by, relation.deleted_at, relation.active) == (DeletedBy.CUSTOMER, loss.occurred_at, False)
    assert account(ws).friend_count == 0 and adds_today(ws) == (1, 1)
    assert follow_events(ws, "customers.follow_ended") == 1
    assert TimelineEntry.objects.for_workspace(ws).filter(kind=TimelineKind.DELETED_STAFF).count() == 1


def test_staff_deleting_a_customer_is_recorded_as_staff_and_a_transfer_as_transfer(transactional_db, brand_a):
    ws = brand_a.workspace
    for external in ("wmSTAFF", "wmMOVED"):
        services.record_add(ws, staff_userid="xiaowanzi01", external_userid=external, state="", at=at(60))
    publish(ws, staff_deleted(at(5), external="wmSTAFF"))
    publish(ws, staff_deleted(at(5), external="wmMOVED", source="DELETE_BY_TRANSFER"))
    drain()
    by = dict(FollowRelation.objects.for_workspace(ws).values_list("customer__external_userid", "deleted_by"))
    assert by == {"wmSTAFF": DeletedBy.STAFF, "wmMOVED": DeletedBy.TRANSFER}
    assert account(ws).friend_count == 0


def test_an_old_add_replayed_after_the_deletion_does_not_revive_the_relation(brand_a):
    ws, added_at = brand_a.workspace, at(30)
    services.record_add(ws, staff_userid="xiaowanzi01", external_userid="wmA", state="s1", at=added_at)
    services.record_loss(ws, staff_userid="xiaowanzi01", external_userid="wmA", at=at(20), by=DeletedBy.CUSTOMER)
    relation = services.record_add(ws, staff_userid="xiaowanzi01", external_userid="wmA", state="s1", at=added_at)
    assert (relation.active, relation.times_added) == (False, 1)
    assert account(ws).friend_count == 0 and follow_events(ws) == 1


def test_a_loss_that_arrives_before_its_add_counts_nothing_either_way(brand_a):
    ws = brand_a.workspace
    services.record_loss(ws, staff_userid="xiaowanzi01", external_userid="wmA", at=at(10), by=DeletedBy.CUSTOMER)
    relation = services.record_add(ws, staff_userid="xiaowanzi01", external_userid="wmA", state="s1", at=at(20))
    assert (relation.active, relation.times_added, relation.state) == (False, 1, "s1")
    assert account(ws).friend_count == 0 and follow_events(ws) == 0
    assert follow_events(ws, "customers.follow_ended") == 0


def test_a_loss_replayed_after_a_re_add_leaves_the_new_friendship_alone(brand_a):
    ws = brand_a.workspace
    services.record_add(ws, staff_userid="xiaowanzi01", external_userid="wmA", state="s1", at=at(30))
    old_loss = at(20)
    services.record_loss(ws, staff_userid="xiaowanzi01", external_userid="wmA", at=old_loss, by=DeletedBy.CUSTOMER)
    services.record_add(ws, staff_userid="xiaowanzi01", external_userid="wmA", state="s1", at=at(10))
    relation = services.record_loss(ws, staff_userid="xiaowanzi01", external_userid="wmA", at=old_loss,
                                    by=DeletedBy.CUSTOMER)
    assert relation.active and account(ws).friend_count == 1


def test_the_same_customer_on_two_accounts_is_one_customer_with_two_relations(brand_a):
    ws, first = brand_a.workspace, at(30)
    services.record_add(ws, staff_userid="xiaowanzi02", external_userid="wmA", state="s2", at=at(10))
    services.record_add(ws, staff_userid="xiaowanzi01", external_userid="wmA", state="s1", at=first)
    customer = Customer.objects.for_workspace(ws).get()
    assert customer.first_added_at == first  # the earliest add, whatever order they arrive in
    assert sorted(FollowRelation.objects.for_workspace(ws).filter(customer=customer).values_list("account__userid", flat=True)) == ["xiaowanzi01", "xiaowanzi02"]
