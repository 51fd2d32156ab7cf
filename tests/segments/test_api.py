"""The segments API: create, update, count, members by cursor, recompute; roles and brands."""

from __future__ import annotations

from siyu.segments.models import Segment
from tests.segments.conftest import make_customer

PHONE_RULE = {"match": "and", "rules": [{"field": "has_phone", "op": "is", "value": True}]}


def test_create_count_update_and_list_segments(shop, login):
    for i in range(3):
        make_customer(shop, f"wm{i}", phone="13800000001" if i else "")
    client = login(shop.brand.members["customer_ops"])
    assert client.post("/api/segments/count", {"rule": PHONE_RULE}, content_type="application/json").json() == {
        "count": 2}
    created = client.post("/api/segments/", {"name": "手机", "rule": PHONE_RULE}, content_type="application/json")
    assert created.status_code == 201 and created.json()["member_count"] == 2
    segment_id = created.json()["id"]
    updated = client.put(f"/api/segments/{segment_id}", {"name": "所有人", "rule": {"match": "and", "rules": []}},
                         content_type="application/json").json()
    assert updated["name"] == "所有人" and updated["member_count"] == 3
    assert [s["id"] for s in client.get("/api/segments/").json()] == [segment_id]
    assert any(f["key"] == "tags" for f in client.get("/api/segments/fields").json())


def test_an_invalid_rule_is_refused_with_the_reasons(shop, login):
    client = login(shop.brand.members["customer_ops"])
    bad = {"match": "and", "rules": [{"field": "score", "op": "between", "value": [80, 10]},
                                     {"field": "nope", "op": "in", "value": [1]}]}
    response = client.post("/api/segments/count", {"rule": bad}, content_type="application/json",
                           HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 422
    assert len(response.json()["errors"]["__all__"]) == 2
    response = client.post("/api/segments/", {"name": "", "rule": bad}, content_type="application/json")
    assert response.status_code == 422 and set(response.json()["errors"]) == {"name", "rule"}


def test_members_come_in_batches_with_a_cursor_and_recompute_refreshes(shop, login):
    ids = sorted(make_customer(shop, f"wm{i}", phone="13800000001").pk for i in range(5))
    client = login(shop.brand.members["ops_lead"])
    segment_id = client.post("/api/segments/", {"name": "手机", "rule": PHONE_RULE},
                             content_type="application/json").json()["id"]
    seen, cursor = [], 0
    while cursor is not None:
        page = client.get(f"/api/segments/{segment_id}/members?cursor={cursor}&limit=2").json()
        seen += page["customer_ids"]
        cursor = page["next_cursor"]
    assert seen == ids
    make_customer(shop, "wmLate", phone="13800000002")
    assert client.post(f"/api/segments/{segment_id}/recompute").json()["member_count"] == 6


def test_roles_are_checked(shop, login):
    planner = login(shop.brand.members["planner"])
    assert planner.post("/api/segments/", {"name": "x", "rule": PHONE_RULE},
                        content_type="application/json").status_code == 403
    assert planner.post("/api/segments/count", {"rule": PHONE_RULE}, content_type="application/json").status_code == 200
    copywriter = login(shop.brand.members["copywriter"])
    assert copywriter.get("/api/segments/").status_code == 403


def test_another_brand_cannot_reach_a_segment(shop, brand_b, login):
    make_customer(shop, "wmA", phone="13800000001")
    segment_id = login(shop.brand.members["admin"]).post(
        "/api/segments/", {"name": "手机", "rule": PHONE_RULE}, content_type="application/json").json()["id"]
    other = login(brand_b.admin)
    assert other.get("/api/segments/").json() == []
    assert other.get(f"/api/segments/{segment_id}").status_code == 404
    assert other.get(f"/api/segments/{segment_id}/members").status_code == 404
    assert other.post(f"/api/segments/{segment_id}/recompute").status_code == 404
    assert other.put(f"/api/segments/{segment_id}", {"name": "x", "rule": PHONE_RULE},
                     content_type="application/json").status_code == 404
    assert other.post("/api/segments/count", {"rule": PHONE_RULE}, content_type="application/json").json() == {
        "count": 0}
    tag_rule = {"match": "and", "rules": [{"field": "tags", "op": "any", "value": [shop.tags[0].pk]}]}
    assert other.post("/api/segments/count", {"rule": tag_rule}, content_type="application/json").status_code == 422
    assert Segment.objects.for_workspace(shop.workspace).get().name == "手机"
