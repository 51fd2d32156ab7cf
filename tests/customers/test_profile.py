"""The customer's profile (nickname, avatar, gender, unionid) fetched from WeCom after the add."""

from __future__ import annotations

from siyu.customers import services
from siyu.customers.models import Customer
from siyu.wecom.models import ApiCall
from tests.customers.conftest import added, at, connect, drain, publish


def test_the_profile_is_fetched_from_wecom_once_after_the_add(transactional_db, brand_a, twin):
    connect(brand_a.workspace, twin)
    twin.admin.post("/twin/customers/add", json={"name": "王小雨", "gender": "female", "staff_userid": "xiaowanzi01",
                                                 "external_userid": "wmPROFILE"}).raise_for_status()
    publish(brand_a.workspace, added(at(), external="wmPROFILE"))
    drain()
    customer = Customer.objects.for_workspace(brand_a.workspace).get()
    assert (customer.name, customer.gender) == ("王小雨", Customer.Gender.FEMALE)
    assert customer.profile_synced_at is not None
    services.ensure_profile(brand_a.workspace, customer)
    assert ApiCall.objects.for_workspace(brand_a.workspace).filter(endpoint="externalcontact/get").count() == 1


def test_a_profile_wecom_does_not_know_leaves_the_record_as_it_was(brand_a, twin):
    connect(brand_a.workspace, twin)
    services.record_add(brand_a.workspace, staff_userid="xiaowanzi01", external_userid="wmNOBODY", state="", at=at())
    customer = services.ensure_profile(brand_a.workspace, Customer.objects.for_workspace(brand_a.workspace).get())
    assert (customer.name, customer.profile_synced_at) == ("", None)
    assert ApiCall.objects.for_workspace(brand_a.workspace).get(endpoint="externalcontact/get").errcode != 0
