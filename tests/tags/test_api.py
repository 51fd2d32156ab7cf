"""The tags API (/api/tags/): groups and tags, bulk tag/untag, completeness, rules; roles and
tenant isolation."""

from __future__ import annotations

import pytest

from siyu.tags import services
from siyu.tags.models import CustomerTag, Tag, TagGroup
from tests.tags.conftest import befriend, channel_codes, seed_twin_tags, twin_marks, twin_tags


@pytest.fixture
def synced(shop):
    seed_twin_tags(shop.twin, "肤质", ["油皮", "干皮"])
    services.sync_tags(shop.workspace, shop.ops)
    return {t.name: t for t in Tag.objects.for_workspace(shop.workspace)}


def test_groups_are_listed_with_their_tags(shop, synced, login):
    data = login(shop.members["data_analyst"]).get("/api/tags/groups").json()
    assert [g["name"] for g in data] == ["肤质"]
    assert {t["name"] for t in data[0]["tags"]} == {"油皮", "干皮"}


def test_create_group_and_tag_reach_wecom(shop, login):
    client = login(shop.members["customer_ops"])
    answer = client.post("/api/tags/groups", {"name": "意向", "tags": ["高"], "required": True},
                         content_type="application/json")
    assert answer.status_code == 201 and answer.json()["required"]
    group_id = answer.json()["id"]
    answer = client.post(f"/api/tags/groups/{group_id}/tags", {"name": "低"}, content_type="application/json")
    assert answer.status_code == 201
    assert twin_tags(shop.twin)["意向"].keys() == {"高", "低"}
    refused = client.post(f"/api/tags/groups/{group_id}/tags", {"name": "低"}, content_type="application/json")
    assert refused.status_code == 422


def test_bulk_tag_and_untag(shop, synced, login):
    a, b = befriend(shop, "wmA"), befriend(shop, "wmB")
    client = login(shop.members["customer_ops"])
    body = {"customer_ids": [a.pk, b.pk], "tag_ids": [synced["油皮"].pk]}
    answer = client.post("/api/tags/tag", body, content_type="application/json").json()
    assert answer["changed"] == 2 and answer["failed"] == [] and answer["local_only"] == []
    assert twin_marks(shop.twin, "xiaowanzi01", "wmB") == [synced["油皮"].wecom_tag_id]
    assert CustomerTag.objects.for_workspace(shop.workspace).get(customer=a).source == "bulk"
    tags = client.get(f"/api/tags/customers/{a.pk}").json()
    assert [t["name"] for t in tags] == ["油皮"]
    answer = client.post("/api/tags/untag", body, content_type="application/json").json()
    assert answer["changed"] == 2
    assert twin_marks(shop.twin, "xiaowanzi01", "wmB") == []


def test_completeness_kpi(shop, synced, login):
    group = TagGroup.objects.for_workspace(shop.workspace).get()
    a, _b = befriend(shop, "wmA"), befriend(shop, "wmB", "xiaowanzi02")
    client = login(shop.members["customer_ops"])
    client.post(f"/api/tags/groups/{group.pk}/required", {"required": True}, content_type="application/json")
    client.post("/api/tags/tag", {"customer_ids": [a.pk], "tag_ids": [synced["油皮"].pk]},
                content_type="application/json")
    data = login(shop.members["merchandiser"]).get("/api/tags/completeness").json()
    assert data["required_group_ids"] == [group.pk] and data["customers"] == 2 and data["brand_average"] == 0.5
    assert {s["userid"]: s["average"] for s in data["staff"]} == {"xiaowanzi01": 1.0, "xiaowanzi02": 0.0}


def test_sync_and_rules_over_the_api(shop, login):
    seed_twin_tags(shop.twin, "渠道", ["门店"])
    client = login(shop.members["customer_ops"])
    run = client.post("/api/tags/sync").json()
    assert run["error"] == "" and run["created"] == 2
    tag = Tag.objects.for_workspace(shop.workspace).get()
    befriend(shop, "wmStore", state="chstore01")
    channel_codes(shop, "chstore01")
    from siyu.tags.services import rules

    rule = rules.create_rule(shop.workspace, shop.ops, rules.RuleInput("门店", tag.pk, "channel",
                                                                       {"states": ["chstore01"]}))
    assert client.get("/api/tags/rules").json()[0]["params"] == {"states": ["chstore01"]}
    assert client.post(f"/api/tags/rules/{rule.pk}/run").json() == {"tagged": 1}


def test_roles(shop, synced, login):
    a = befriend(shop, "wmA")
    viewer = login(shop.members["planner"])
    assert viewer.get("/api/tags/groups").status_code == 200
    body = {"customer_ids": [a.pk], "tag_ids": [synced["油皮"].pk]}
    assert viewer.post("/api/tags/tag", body, content_type="application/json").status_code == 403
    assert viewer.post("/api/tags/sync").status_code == 403
    assert login(shop.members["copywriter"]).get("/api/tags/completeness").status_code == 403
    assert not CustomerTag.unscoped.exists()


def test_another_brand_sees_and_touches_nothing(shop, synced, brand_b, login):
    a = befriend(shop, "wmA")
    services.tag_customers(shop.workspace, shop.ops, [a.pk], [synced["油皮"].pk])
    client = login(brand_b.members["admin"])
    assert client.get("/api/tags/groups").json() == []
    assert client.get(f"/api/tags/customers/{a.pk}").status_code == 404
    answer = client.post("/api/tags/untag", {"customer_ids": [a.pk], "tag_ids": [synced["油皮"].pk]},
                         content_type="application/json")
    assert answer.status_code == 422
    group = TagGroup.objects.for_workspace(shop.workspace).get()
    assert client.post(f"/api/tags/groups/{group.pk}/tags", {"name": "x"},
                       content_type="application/json").status_code == 404
    assert client.get("/api/tags/completeness").json()["staff"] == []
    assert CustomerTag.objects.for_workspace(shop.workspace).count() == 1


def test_a_large_request_is_queued_and_the_member_notified(transactional_db, shop, synced, login):
    from siyu.core.models import Notification
    from siyu.customers.models import Customer
    from tests.tags.conftest import drain

    Customer.unscoped.bulk_create([Customer(workspace=shop.workspace, external_userid=f"wmQ{i:04d}")
                                   for i in range(services.BACKGROUND_OVER + 50)])
    ids = list(Customer.objects.for_workspace(shop.workspace).values_list("pk", flat=True))
    client = login(shop.members["customer_ops"])
    answer = client.post("/api/tags/tag", {"customer_ids": ids, "tag_ids": [synced["干皮"].pk]},
                         content_type="application/json")
    assert answer.status_code == 202 and answer.json()["queued"] == len(ids)
    drain()
    assert CustomerTag.objects.for_workspace(shop.workspace).count() == len(ids)
    notice = Notification.objects.for_workspace(shop.workspace).get(membership=shop.ops)
    assert notice.kind == "tags.bulk" and str(len(ids)) in notice.body
