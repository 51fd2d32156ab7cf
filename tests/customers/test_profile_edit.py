"""The profile page: remarks synced with WeCom (the twin shows them), profile edits, tags, the
phone masked by role on page and API, and another brand's customer never found."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from siyu.customers import services
from siyu.customers.models import Customer, FollowRelation, TimelineEntry
from siyu.customers.services import profile
from siyu.tags.models import CustomerTag, Tag, TagGroup
from siyu.wecom.models import ApiCall
from tests.conftest import seat
from tests.customers.conftest import at, connect


def friend(twin, ws, external="wmPROF1", staff="xiaowanzi01") -> FollowRelation:
    twin.admin.post("/twin/customers/add", json={"name": "林小姐", "staff_userid": staff,
                                                 "external_userid": external}).raise_for_status()
    return services.record_add(ws, staff_userid=staff, external_userid=external, state="chstore", at=at(60))


def twin_follow(twin, external: str, staff: str) -> dict:
    data = twin.api("externalcontact/get", external_userid=external)
    return next(f for f in data["follow_user"] if f["userid"] == staff)


def test_a_remark_is_written_to_wecom_then_kept_here_with_a_timeline_entry(brand_a, twin, login):
    connect(brand_a.workspace, twin)
    relation = friend(twin, brand_a.workspace)
    client = login(brand_a.members["customer_ops"])
    response = client.post(f"/customers/{relation.customer_id}/remark/{relation.pk}/",
                           {f"r{relation.pk}-remark": "林姐·VIP", f"r{relation.pk}-description": "喜欢玫瑰味"})
    assert response.status_code == 302
    assert (twin_follow(twin, "wmPROF1", "xiaowanzi01")["remark"],
            twin_follow(twin, "wmPROF1", "xiaowanzi01")["description"]) == ("林姐·VIP", "喜欢玫瑰味")
    relation.refresh_from_db()
    assert (relation.remark, relation.description) == ("林姐·VIP", "喜欢玫瑰味")
    entry = TimelineEntry.objects.for_workspace(brand_a.workspace).get(kind="customers.remarked")
    assert "林姐·VIP" in entry.detail and entry.account_id == relation.account_id
    page = client.get(f"/customers/{relation.customer_id}/").content.decode()
    assert "林姐·VIP" in page


def test_each_staff_accounts_remark_is_its_own(brand_a, twin):
    connect(brand_a.workspace, twin)
    ws = brand_a.workspace
    first = friend(twin, ws)
    second = friend(twin, ws, staff="xiaowanzi02")
    admin = seat(brand_a.admin, ws)
    profile.remark_follow(ws, admin, first.customer_id, second.pk, remark="二号的备注", description="")
    assert twin_follow(twin, "wmPROF1", "xiaowanzi02")["remark"] == "二号的备注"
    assert twin_follow(twin, "wmPROF1", "xiaowanzi01")["remark"] == ""


def test_a_remark_too_long_or_refused_by_wecom_changes_nothing(brand_a, twin, login):
    connect(brand_a.workspace, twin)
    ws = brand_a.workspace
    relation = friend(twin, ws)
    admin = seat(brand_a.admin, ws)
    with pytest.raises(ValidationError) as long:
        profile.remark_follow(ws, admin, relation.customer_id, relation.pk, remark="备" * 21, description="d" * 151)
    assert set(long.value.message_dict) == {"remark", "description"}
    assert not ApiCall.objects.for_workspace(ws).filter(endpoint="externalcontact/remark").exists()
    # A relation WeCom does not know (the customer never added this account there): refused.
    ghost = services.record_add(ws, staff_userid="xiaowanzi02", external_userid="wmPROF1", state="", at=at())
    with pytest.raises(ValidationError) as refused:
        profile.remark_follow(ws, admin, ghost.customer_id, ghost.pk, remark="x", description="")
    assert "WeCom" in refused.value.messages[0] or "企业微信" in refused.value.messages[0]
    ghost.refresh_from_db()
    assert ghost.remark == ""
    assert not TimelineEntry.objects.for_workspace(ws).filter(kind="customers.remarked").exists()
    # Through the page: the form shows the error, status 400.
    page = login(brand_a.admin).post(f"/customers/{ghost.customer_id}/remark/{ghost.pk}/",
                                     {f"r{ghost.pk}-remark": "x"})
    assert page.status_code == 400 and "invalid-feedback" in page.content.decode()


def test_the_profile_form_saves_fields_and_shows_errors(brand_a, login):
    ws = brand_a.workspace
    profile.save_field(ws, seat(brand_a.admin, ws), None, key="skin", label="肤质", kind="choice",
                       choices=["干皮", "油皮"])
    customer_id = services.record_add(ws, staff_userid="xiaowanzi01", external_userid="wmE1", state="",
                                      at=at()).customer_id
    client = login(brand_a.members["customer_ops"])
    bad = client.post(f"/customers/{customer_id}/edit/", {"phone": "abc", "birthday": "1990-13-01",
                                                          "field_skin": "油皮"})
    assert bad.status_code == 400
    html = bad.content.decode()
    assert 'data-error-for="phone"' in html and 'data-error-for="birthday"' in html
    assert Customer.objects.for_workspace(ws).get().fields == {}
    ok = client.post(f"/customers/{customer_id}/edit/", {"phone": "13800138000", "birthday": "1990-12-01",
                                                         "field_skin": "油皮"})
    assert ok.status_code == 302
    stored = Customer.objects.for_workspace(ws).get()
    assert (stored.phone, str(stored.birthday), stored.fields) == ("13800138000", "1990-12-01", {"skin": "油皮"})
    page = client.get(f"/customers/{customer_id}/").content.decode()
    assert "13800138000" in page and 'data-field-value="skin">油皮' in page


def test_phones_are_masked_for_roles_that_may_not_see_them_on_page_and_api(brand_a, login):
    ws = brand_a.workspace
    customer_id = services.record_add(ws, staff_userid="xiaowanzi01", external_userid="wmM1", state="",
                                      at=at()).customer_id
    Customer.objects.for_workspace(ws).filter(pk=customer_id).update(phone="13800138000", name="手机客户")
    for role, shown in (("customer_ops", "13800138000"), ("data_analyst", "138****8000"),
                        ("planner", "138****8000"), ("merchandiser", "138****8000")):
        client = login(brand_a.members[role])
        page = client.get(f"/customers/{customer_id}/").content.decode()
        assert f'data-testid="phone">{shown}<' in page, role
        listing = client.get("/customers/").content.decode()
        assert f'data-testid="phone">{shown}<' in listing, role
        if shown != "13800138000":
            assert "13800138000" not in page and "13800138000" not in listing
        assert client.get(f"/api/customers/{customer_id}").json()["phone"] == shown
        assert client.get("/api/customers/").json()["items"][0]["phone"] == shown
    # The masked view never hands the phone back through the edit form either.
    assert 'name="phone"' not in login(brand_a.members["data_analyst"]).get(f"/customers/{customer_id}/").content.decode()


def test_a_viewer_cannot_edit_and_another_brand_cannot_reach_the_profile(brand_a, brand_b, login):
    ws = brand_a.workspace
    relation = services.record_add(ws, staff_userid="xiaowanzi01", external_userid="wmV1", state="", at=at())
    cid = relation.customer_id
    viewer = login(brand_a.members["planner"])
    page = viewer.get(f"/customers/{cid}/").content.decode()
    assert 'data-testid="profile-form"' not in page and "remark-form" not in page
    assert viewer.post(f"/customers/{cid}/edit/", {"birthday": "1990-01-01"}).status_code == 403
    assert viewer.post(f"/customers/{cid}/remark/{relation.pk}/", {f"r{relation.pk}-remark": "x"}).status_code == 403
    assert viewer.post(f"/customers/tags/customer/{cid}/", {"tags": "1"}).status_code == 403
    assert viewer.patch(f"/api/customers/{cid}", {"birthday": "1990-01-01"},
                        content_type="application/json").status_code == 403
    other = login(brand_b.admin)
    assert other.post(f"/customers/{cid}/edit/", {"birthday": "1990-01-01"}).status_code == 404
    assert other.post(f"/customers/{cid}/remark/{relation.pk}/", {f"r{relation.pk}-remark": "x"}).status_code == 404
    assert other.post(f"/customers/tags/customer/{cid}/", {"tags": "1"}).status_code == 404
    assert other.patch(f"/api/customers/{cid}", {"birthday": "1990-01-01"},
                       content_type="application/json").status_code == 404
    assert other.post(f"/api/customers/{cid}/remark", {"relation_id": relation.pk, "remark": "x"},
                      content_type="application/json").status_code == 404
    assert Customer.objects.for_workspace(ws).get().birthday is None


def test_the_api_updates_fields_and_remarks(brand_a, twin, login):
    connect(brand_a.workspace, twin)
    ws = brand_a.workspace
    relation = friend(twin, ws)
    profile.save_field(ws, seat(brand_a.admin, ws), None, key="level", label="等级", kind="number")
    client = login(brand_a.members["customer_ops"])
    bad = client.patch(f"/api/customers/{relation.customer_id}", {"fields": {"level": "high"}},
                       content_type="application/json")
    assert bad.status_code == 422 and "field_level" in bad.json()["errors"]
    ok = client.patch(f"/api/customers/{relation.customer_id}", {"fields": {"level": "3"}, "phone": "13900001111"},
                      content_type="application/json").json()
    assert ok["fields"] == {"level": 3} and ok["phone"] == "13900001111"
    assert [e["kind"] for e in ok["timeline"]][0] == "customers.field_changed"
    remarked = client.post(f"/api/customers/{relation.customer_id}/remark",
                           {"relation_id": relation.pk, "remark": "API 备注"}, content_type="application/json")
    assert remarked.status_code == 200 and remarked.json()["remark"] == "API 备注"
    assert twin_follow(twin, "wmPROF1", "xiaowanzi01")["remark"] == "API 备注"


def test_tags_are_shown_and_edited_on_the_profile(brand_a, login):
    ws = brand_a.workspace
    group = TagGroup.objects.create(workspace=ws, name="肤质")
    oily = Tag.objects.create(workspace=ws, group=group, name="油皮")
    customer_id = services.record_add(ws, staff_userid="xiaowanzi01", external_userid="wmT1", state="",
                                      at=at()).customer_id
    client = login(brand_a.members["customer_ops"])
    assert client.post(f"/customers/tags/customer/{customer_id}/", {"tags": str(oily.pk)}).status_code == 302
    assert CustomerTag.objects.for_workspace(ws).filter(customer_id=customer_id, tag=oily).exists()
    tags_html = client.get(f"/customers/{customer_id}/").content.decode().split('data-testid="tags"')[1]
    assert "肤质 / 油皮" in tags_html
    assert client.post(f"/customers/tags/customer/{customer_id}/", {"tags": str(oily.pk), "remove": "1"}).status_code == 302
    assert not CustomerTag.objects.for_workspace(ws).filter(customer_id=customer_id).exists()
