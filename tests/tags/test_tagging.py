"""Manual and bulk tagging: marked at WeCom (the twin) through each active follow relation, then
recorded with a timeline entry; staff tagging in the client comes back through edit_external_contact."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from siyu.core import events
from siyu.customers import services as customers
from siyu.customers.models import Customer, DeletedBy, TimelineEntry
from siyu.customers.timeline import TimelineKind
from siyu.tags import services
from siyu.tags.models import CustomerTag, Tag, TagSource
from siyu.tags.timeline import TagTimeline
from siyu.wecom.events import ContactEdited
from tests.conftest import seat
from tests.tags.conftest import befriend, drain, seed_twin_tags, twin_marks


@pytest.fixture
def skin(shop):
    """A synced group 肤质 with 油皮 and 干皮; returns {name: Tag}."""
    seed_twin_tags(shop.twin, "肤质", ["油皮", "干皮"])
    services.sync_tags(shop.workspace, shop.ops)
    return {t.name: t for t in Tag.objects.for_workspace(shop.workspace)}


def links(workspace):
    return set(CustomerTag.objects.for_workspace(workspace).values_list("customer__external_userid", "tag__name"))


def test_tagging_marks_at_wecom_through_every_active_follow_and_records(shop, skin):
    customer = befriend(shop, "wmC1", "xiaowanzi01")
    befriend(shop, "wmC1", "xiaowanzi02")
    changed = services.tag_customers(shop.workspace, shop.ops, [customer.pk], [skin["油皮"].pk])
    assert changed == 1
    assert twin_marks(shop.twin, "xiaowanzi01", "wmC1") == [skin["油皮"].wecom_tag_id]
    assert twin_marks(shop.twin, "xiaowanzi02", "wmC1") == [skin["油皮"].wecom_tag_id]
    link = CustomerTag.objects.for_workspace(shop.workspace).get()
    assert link.source == TagSource.MANUAL and link.account_id == shop.accounts["xiaowanzi01"].pk
    entry = TimelineEntry.objects.for_workspace(shop.workspace).get(kind=TagTimeline.TAGGED)
    assert entry.detail == "油皮"


def test_tagging_again_changes_nothing(shop, skin):
    customer = befriend(shop, "wmC1")
    services.tag_customers(shop.workspace, shop.ops, [customer.pk], [skin["油皮"].pk])
    assert services.tag_customers(shop.workspace, shop.ops, [customer.pk], [skin["油皮"].pk]) == 0
    assert TimelineEntry.objects.for_workspace(shop.workspace).filter(kind=TagTimeline.TAGGED).count() == 1


def test_untagging_unmarks_at_wecom(shop, skin):
    customer = befriend(shop, "wmC1")
    services.tag_customers(shop.workspace, shop.ops, [customer.pk], [skin["油皮"].pk, skin["干皮"].pk])
    assert services.untag_customers(shop.workspace, shop.ops, [customer.pk], [skin["油皮"].pk]) == 1
    assert twin_marks(shop.twin, "xiaowanzi01", "wmC1") == [skin["干皮"].wecom_tag_id]
    assert links(shop.workspace) == {("wmC1", "干皮")}
    assert TimelineEntry.objects.for_workspace(shop.workspace).filter(kind=TagTimeline.UNTAGGED).exists()


def test_a_customer_without_active_follow_is_tagged_here_only_and_told(shop, skin):
    customer = befriend(shop, "wmC1")
    customers.record_loss(shop.workspace, staff_userid="xiaowanzi01", external_userid="wmC1",
                          at=timezone.now(), by=DeletedBy.CUSTOMER)
    outcome = services.tag_customers_outcome(shop.workspace, shop.ops, [customer.pk], [skin["油皮"].pk])
    assert outcome.changed == 1 and outcome.local_only == [customer.pk]
    assert "here only" in outcome.summary() or "仅" in outcome.summary()
    assert links(shop.workspace) == {("wmC1", "油皮")}


def test_a_wecom_refusal_leaves_the_customer_untagged(shop, skin):
    customer = befriend(shop, "wmC1")
    # The friendship ended at WeCom but we have not heard yet: mark_tag is refused (84061).
    shop.twin.admin.post("/twin/customers/delete-staff", json={"staff_userid": "xiaowanzi01",
                                                               "external_userid": "wmC1"}).raise_for_status()
    outcome = services.tag_customers_outcome(shop.workspace, shop.ops, [customer.pk], [skin["油皮"].pk])
    assert outcome.changed == 0 and outcome.failed == [customer.pk] and outcome.errors
    assert not links(shop.workspace)


def test_bulk_tagging_thousands_is_chunked(shop, skin, django_assert_max_num_queries):
    ws = shop.workspace
    Customer.unscoped.bulk_create([Customer(workspace=ws, external_userid=f"wmBulk{i:05d}") for i in range(1200)])
    ids = list(Customer.objects.for_workspace(ws).values_list("pk", flat=True))
    # No follow relation: local only, so this counts our own queries: three chunks of 500, a few
    # batched statements each (SQLite splits big inserts), never one per customer.
    with django_assert_max_num_queries(90):
        assert services.tag_customers(ws, shop.ops, ids, [skin["油皮"].pk, skin["干皮"].pk],
                                      source=TagSource.BULK) == 2400
    assert CustomerTag.objects.for_workspace(ws).count() == 2400
    assert services.untag_customers(ws, shop.ops, ids, [skin["干皮"].pk]) == 1200
    assert CustomerTag.objects.for_workspace(ws).count() == 1200


def test_tags_of_another_brand_are_refused(shop, skin, brand_b):
    other = Customer.objects.create(workspace=brand_b.workspace, external_userid="wmB1")
    b_ops = seat(brand_b.members["customer_ops"], brand_b.workspace)
    with pytest.raises(ValidationError):
        services.tag_customers(brand_b.workspace, b_ops, [other.pk], [skin["油皮"].pk])
    # Brand alpha's tag on brand beta's customer id: the customer is not found, nothing is written.
    assert services.tag_customers(shop.workspace, shop.ops, [other.pk], [skin["油皮"].pk]) == 0
    assert not CustomerTag.unscoped.exists()


def test_roles_without_edit_may_not_tag(shop, skin):
    customer = befriend(shop, "wmC1")
    with pytest.raises(PermissionDenied):
        services.tag_customers(shop.workspace, seat(shop.members["planner"], shop.workspace), [customer.pk],
                               [skin["油皮"].pk])


def test_tagging_tells_segments_the_customers_changed(shop, skin, django_capture_on_commit_callbacks):
    from siyu.core.models import EventRecord

    customer = befriend(shop, "wmC1")
    services.tag_customers(shop.workspace, shop.ops, [customer.pk], [skin["油皮"].pk])
    record = EventRecord.objects.for_workspace(shop.workspace).filter(name="customers.changed").get()
    assert record.payload == {"customer_ids": [customer.pk], "reason": "tags"}


def test_customer_tags_for_the_profile(shop, skin):
    customer = befriend(shop, "wmC1")
    services.tag_customers(shop.workspace, shop.ops, [customer.pk], [skin["干皮"].pk])
    [view] = services.customer_tags(shop.workspace, customer.pk)
    assert (view.name, view.group_name, view.source) == ("干皮", "肤质", "manual")


def test_staff_tagging_in_the_client_comes_back(transactional_db, shop, skin):
    customer = befriend(shop, "wmC1")
    services.tag_customers(shop.workspace, shop.ops, [customer.pk], [skin["油皮"].pk])
    # In the client, the staff member swaps 油皮 for 干皮 and adds a tag made at WeCom meanwhile.
    new = seed_twin_tags(shop.twin, "意向", ["高"])
    shop.twin.admin.post("/twin/tags/client-mark", json={
        "userid": "xiaowanzi01", "external_userid": "wmC1", "add_tag": [skin["干皮"].wecom_tag_id, new["高"]],
        "remove_tag": [skin["油皮"].wecom_tag_id]}).raise_for_status()
    assert any(c["kind"].endswith("edit_external_contact") for c in shop.twin.state()["callbacks"])
    event = ContactEdited(occurred_at=timezone.now(), staff_userid="xiaowanzi01", external_userid="wmC1")
    events.publish(shop.workspace, event, dedupe_key="test:edit:1")
    drain()
    assert links(shop.workspace) == {("wmC1", "干皮"), ("wmC1", "高")}
    assert set(CustomerTag.objects.for_workspace(shop.workspace).values_list("source", flat=True)) == {"wecom"}


def test_a_remark_set_in_the_client_comes_back_with_the_edit(transactional_db, shop):
    from siyu.customers.models import FollowRelation, TimelineEntry

    customer = befriend(shop, "wmC1")
    # WeCom's side as staff left it in the client (the API stands in for the client here).
    shop.twin.api("externalcontact/remark", {"userid": "xiaowanzi01", "external_userid": "wmC1",
                                             "remark": "王姐-静安店", "description": "干皮，想要保湿套装"})
    event = ContactEdited(occurred_at=timezone.now(), staff_userid="xiaowanzi01", external_userid="wmC1")
    events.publish(shop.workspace, event, dedupe_key="test:edit:remark")
    drain()
    relation = FollowRelation.objects.for_workspace(shop.workspace).get(customer=customer)
    assert (relation.remark, relation.description) == ("王姐-静安店", "干皮，想要保湿套装")
    assert TimelineEntry.objects.for_workspace(shop.workspace).filter(
        customer=customer, kind=TimelineKind.REMARKED).count() == 1


@pytest.mark.slow
def test_client_tagging_arrives_by_callback(callback_twin, brand_a):
    """Over real HTTP: a customer adds a staff member, the staff member tags them in the client;
    both callbacks reach the live server and the worker keeps the customer's tags."""
    import httpx

    from tests.conftest import callbacks_received, wait_for, work_until

    with httpx.Client(base_url=callback_twin) as http:
        http.post("/twin/staff", json={"userid": "xiaowanzi01", "name": "小完子01"}).raise_for_status()
        made = http.post("/twin/tags/client-add", json={"group_name": "肤质", "tag": [{"name": "油皮"}]}).json()
        tag_id = made["tag_group"]["tag"][0]["id"]
        http.post("/twin/customers/add", json={"external_userid": "wmE2E", "name": "王小雨",
                                               "staff_userid": "xiaowanzi01", "welcome": False}).raise_for_status()
        wait_for(lambda: callbacks_received(brand_a.workspace) >= 3, timeout=20)
        work_until(lambda: Customer.objects.for_workspace(brand_a.workspace).filter(external_userid="wmE2E").exists())
        http.post("/twin/tags/client-mark", json={"userid": "xiaowanzi01", "external_userid": "wmE2E",
                                                  "add_tag": [tag_id]}).raise_for_status()
        work_until(lambda: links(brand_a.workspace) == {("wmE2E", "油皮")})
