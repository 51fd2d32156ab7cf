"""Custom fields (自定义字段): definitions, values checked by kind, the page and the API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from hypothesis import given
from hypothesis import strategies as st

from siyu.core.models import EventRecord
from siyu.customers import services
from siyu.customers.models import Customer, CustomField, FieldKind, TimelineEntry
from siyu.customers.services import profile
from tests.conftest import seat
from tests.customers.conftest import at


def field(kind: str, choices: list[str] | None = None) -> CustomField:
    return CustomField(key="k", label="K", kind=kind, choices=choices or [])


# --- values by kind --------------------------------------------------------------------------

def test_text_values_are_stripped_and_limited():
    assert profile.clean_value(field(FieldKind.TEXT), "  油皮 ") == "油皮"
    assert profile.clean_value(field(FieldKind.TEXT), "   ") is None
    with pytest.raises(ValidationError):
        profile.clean_value(field(FieldKind.TEXT), "x" * 201)


@pytest.mark.parametrize("raw, value", [("12", 12), ("3.5", 3.5), ("-0.25", -0.25), (7, 7), ("1e3", 1000)])
def test_numbers_parse(raw, value):
    assert profile.clean_value(field(FieldKind.NUMBER), raw) == value


@pytest.mark.parametrize("raw", ["twelve", "1,5", "NaN", "inf", "1e20"])
def test_what_is_not_a_number_is_refused(raw):
    with pytest.raises(ValidationError):
        profile.clean_value(field(FieldKind.NUMBER), raw)


@given(st.one_of(st.integers(min_value=-10**12, max_value=10**12),
                 st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False)))
def test_every_finite_number_round_trips(number):
    value = profile.clean_value(field(FieldKind.NUMBER), str(number))
    assert float(value) == pytest.approx(float(number))


def test_dates_are_iso():
    assert profile.clean_value(field(FieldKind.DATE), "2024-02-29") == "2024-02-29"
    assert profile.clean_value(field(FieldKind.DATE), dt.date(2020, 1, 2)) == "2020-01-02"
    for raw in ("2023-02-29", "29/02/2024", "tomorrow"):
        with pytest.raises(ValidationError):
            profile.clean_value(field(FieldKind.DATE), raw)


def test_a_choice_must_be_one_of_the_choices():
    custom = field(FieldKind.CHOICE, ["干皮", "油皮"])
    assert profile.clean_value(custom, "油皮") == "油皮"
    with pytest.raises(ValidationError) as refused:
        profile.clean_value(custom, "混合皮")
    assert "干皮" in refused.value.messages[0]


# --- definitions -----------------------------------------------------------------------------

def test_definitions_are_checked(brand_a):
    admin = seat(brand_a.admin, brand_a.workspace)
    ws = brand_a.workspace
    with pytest.raises(ValidationError) as bad:
        profile.save_field(ws, admin, None, key="Skin Type", label="", kind="choice", choices="")
    assert set(bad.value.message_dict) == {"key", "label", "choices"}
    skin = profile.save_field(ws, admin, None, key="skin", label="肤质", kind="choice", choices="干皮\n油皮\n油皮\n")
    assert skin.choices == ["干皮", "油皮"]
    with pytest.raises(ValidationError) as taken:
        profile.save_field(ws, admin, None, key="skin", label="again", kind="text")
    assert "key" in taken.value.message_dict
    # The key is fixed once created; a non-choice kind keeps no choices.
    changed = profile.save_field(ws, admin, skin.pk, key="other", label="肤质2", kind="text", choices="a")
    assert (changed.key, changed.label, changed.choices) == ("skin", "肤质2", [])
    with pytest.raises(PermissionDenied):
        profile.save_field(ws, seat(brand_a.members["planner"], ws), None, key="x", label="X", kind="text")


def test_deleting_a_field_removes_its_values_and_tells_segments(brand_a):
    ws, admin = brand_a.workspace, seat(brand_a.admin, brand_a.workspace)
    level = profile.save_field(ws, admin, None, key="level", label="会员等级", kind="number")
    relation = services.record_add(ws, staff_userid="xiaowanzi01", external_userid="wmF1", state="", at=at())
    profile.update_profile(ws, admin, relation.customer_id, fields={"level": "3"})
    profile.delete_field(ws, admin, level.pk)
    assert Customer.objects.for_workspace(ws).get().fields == {}
    assert EventRecord.objects.for_workspace(ws).filter(name="customers.changed").count() == 2


def test_profile_values_are_checked_by_kind_and_kept_with_a_timeline_entry(brand_a):
    ws, ops = brand_a.workspace, seat(brand_a.members["customer_ops"], brand_a.workspace)
    profile.save_field(ws, ops, None, key="level", label="会员等级", kind="number")
    profile.save_field(ws, ops, None, key="since", label="入会日期", kind="date")
    profile.save_field(ws, ops, None, key="skin", label="肤质", kind="choice", choices=["干皮", "油皮"])
    customer_id = services.record_add(ws, staff_userid="xiaowanzi01", external_userid="wmF2", state="",
                                      at=at()).customer_id
    with pytest.raises(ValidationError) as bad:
        profile.update_profile(ws, ops, customer_id, phone="12ab", birthday="2999-01-01",
                               fields={"level": "many", "since": "soon", "skin": "混合皮", "nope": "1"})
    assert set(bad.value.message_dict) == {"phone", "birthday", "field_level", "field_since", "field_skin",
                                           "field_nope"}
    assert Customer.objects.for_workspace(ws).get().fields == {}  # nothing half-saved

    customer = profile.update_profile(ws, ops, customer_id, phone="+86 138-0013-8000", birthday="1990-05-04",
                                      fields={"level": "2", "since": "2024-01-31", "skin": "油皮"})
    stored = Customer.objects.for_workspace(ws).get(pk=customer.pk)
    assert stored.phone == "8613800138000" and stored.birthday == dt.date(1990, 5, 4)
    assert stored.fields == {"level": 2, "since": "2024-01-31", "skin": "油皮"}
    entry = TimelineEntry.objects.for_workspace(ws).get(kind="customers.field_changed")
    assert "油皮" in entry.detail and "13800138000" not in entry.detail  # the phone is never written out
    assert EventRecord.objects.for_workspace(ws).filter(name="customers.changed").count() == 1
    # Saving the same values again changes nothing and adds nothing.
    profile.update_profile(ws, ops, customer_id, fields={"level": "2"})
    assert TimelineEntry.objects.for_workspace(ws).filter(kind="customers.field_changed").count() == 1
    with pytest.raises(PermissionDenied):
        profile.update_profile(ws, seat(brand_a.members["data_analyst"], ws), customer_id, fields={"level": "1"})


# --- the page and the API --------------------------------------------------------------------

def test_the_fields_page_adds_edits_and_deletes(brand_a, login):
    client = login(brand_a.members["ops_lead"])
    assert client.get("/customers/fields/").status_code == 200
    bad = client.post("/customers/fields/", {"key": "1bad", "label": "", "kind": "choice", "choices": ""})
    assert bad.status_code == 400 and bad.content.decode().count("invalid-feedback") >= 3
    assert client.post("/customers/fields/", {"key": "skin", "label": "肤质", "kind": "choice",
                                              "choices": "干皮\n油皮", "position": "1"}).status_code == 302
    custom = CustomField.objects.for_workspace(brand_a.workspace).get()
    assert "肤质" in client.get("/customers/fields/").content.decode()
    assert client.post(f"/customers/fields/{custom.pk}/", {"label": "皮肤", "kind": "choice", "choices": "干皮",
                                                           "position": "2"}).status_code == 302
    custom.refresh_from_db()
    assert (custom.label, custom.choices, custom.key) == ("皮肤", ["干皮"], "skin")
    assert client.post(f"/customers/fields/{custom.pk}/delete/").status_code == 302
    assert not CustomField.objects.for_workspace(brand_a.workspace).exists()


def test_fields_roles_and_tenants(brand_a, brand_b, login):
    custom = profile.save_field(brand_a.workspace, seat(brand_a.admin, brand_a.workspace), None, key="skin",
                                label="肤质A", kind="text")
    viewer = login(brand_a.members["merchandiser"])  # customers: view only
    page = viewer.get("/customers/fields/").content.decode()
    assert "肤质A" in page and 'data-testid="field-form"' not in page
    assert viewer.post("/customers/fields/", {"key": "x", "label": "X", "kind": "text"}).status_code == 403
    assert viewer.get(f"/customers/fields/{custom.pk}/").status_code == 403
    assert viewer.post(f"/customers/fields/{custom.pk}/delete/").status_code == 403
    assert login(brand_a.members["copywriter"]).get("/customers/fields/").status_code == 403
    other = login(brand_b.admin)
    assert "肤质A" not in other.get("/customers/fields/").content.decode()
    assert other.get(f"/customers/fields/{custom.pk}/").status_code == 404
    assert other.post(f"/customers/fields/{custom.pk}/delete/").status_code == 404
    assert other.get("/api/customers/fields").json() == []
    assert other.delete(f"/api/customers/fields/{custom.pk}").status_code == 404


def test_fields_api(brand_a, login):
    client = login(brand_a.admin)
    made = client.post("/api/customers/fields", {"key": "level", "label": "等级", "kind": "number"},
                       content_type="application/json")
    assert made.status_code == 200 and made.json()["key"] == "level"
    refused = client.post("/api/customers/fields", {"key": "level", "label": "x", "kind": "number"},
                          content_type="application/json")
    assert refused.status_code == 422 and "key" in refused.json()["errors"]
    assert [f["key"] for f in client.get("/api/customers/fields").json()] == ["level"]
    edited = client.put(f"/api/customers/fields/{made.json()['id']}", {"label": "会员等级", "kind": "number"},
                        content_type="application/json")
    assert edited.json()["label"] == "会员等级"
    assert login(brand_a.members["data_analyst"]).post(
        "/api/customers/fields", {"key": "x", "label": "x", "kind": "text"},
        content_type="application/json").status_code == 403
