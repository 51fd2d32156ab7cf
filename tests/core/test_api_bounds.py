"""Edge values are refused with a 4xx that says what is wrong, never a 500 (`siyu.core.bounds`):
ids past a 64-bit integer, days at the ends of the calendar, numbers past what a rule can compare,
text with NUL or an unpaired surrogate, a negative limit; through the API and the console pages
that take the same values."""

from __future__ import annotations

import json

import pytest

HUGE = 2**64  # past PostgreSQL's bigint and SQLite's INTEGER
RULE_SINCE = {"match": "and", "rules": [{"field": "added_at", "op": "since", "value": "9999-12-31"}]}


@pytest.fixture
def admin(brand_a, login):
    return login(brand_a.admin)


def _errors(response) -> str:
    """The 422's body as text: Siyu's `{"detail", "errors"}` or ninja's own list of problems."""
    assert response.status_code == 422, (response.status_code, response.content[:300])
    return json.dumps(response.json(), ensure_ascii=False)


@pytest.mark.parametrize("url", [
    f"/api/customers/?account={HUGE}",
    f"/api/customers/?tag={HUGE}",
    f"/api/churn/?page={HUGE}",
    f"/api/churn/?account_id={HUGE}",
    f"/api/churn/transfers?page={HUGE}",
    f"/api/churn/notifications?page={HUGE}",
    f"/api/segments/1/members?cursor={HUGE}",
    f"/api/customers/{HUGE}",
])
def test_an_id_past_a_database_integer_is_a_422(admin, url):
    _errors(admin.get(url, HTTP_ACCEPT_LANGUAGE="en"))


def test_the_422_says_which_parameter_and_why(admin):
    found = admin.get(f"/api/customers/?account={HUGE}").json()["errors"]
    [message] = found.pop("query.account")
    assert "-9223372036854775808" in message and "9223372036854775807" in message and not found


def test_a_page_past_the_last_numbered_page_is_a_422(admin):
    # the offset of page 2**62 still fits in Python, not in the database
    assert "page" in _errors(admin.get(f"/api/churn/transfers?page={2**62}"))
    assert "page" in _errors(admin.get(f"/api/churn/?page={2**62}"))


def test_ids_in_a_body_past_a_database_integer_are_a_422(admin):
    response = admin.post("/api/churn/notifications/read", {"ids": [1, HUGE]}, content_type="application/json")
    assert "data.ids.1" in _errors(response)


def test_a_negative_audit_log_limit_is_a_422(admin):
    assert admin.get("/api/audit-log?limit=-1").status_code == 422
    assert admin.get("/api/audit-log?limit=501").status_code == 422
    assert admin.get("/api/audit-log?limit=1").status_code == 200


@pytest.mark.parametrize("url", [
    "/api/customers/?added_to=9999-12-31",
    "/api/customers/?added_from=0001-01-01",
    "/api/churn/?end=9999-12-31",
    "/api/churn/?start=0001-01-01",
    "/api/churn/by-account?end=9999-12-31",
    "/api/channel-reports/channels?start=9999-12-31&end=9999-12-31",
])
def test_days_at_the_ends_of_the_calendar_are_a_422(admin, url):
    assert "1900-01-01" in _errors(admin.get(url, HTTP_ACCEPT_LANGUAGE="en"))


@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01"])
def test_a_segment_rule_with_a_day_at_the_end_of_the_calendar_is_a_422(admin, value):
    rule = {"match": "and", "rules": [{"field": "added_at", "op": "since", "value": value}]}
    response = admin.post("/api/segments/count", {"rule": rule}, content_type="application/json",
                          HTTP_ACCEPT_LANGUAGE="en")
    assert "2999-12-31" in _errors(response)


@pytest.fixture
def spend(brand_a):
    """A custom number field: unlike the score (0 to 100), it has no range of its own."""
    from siyu.customers.models import CustomField

    return CustomField.objects.create(workspace=brand_a.workspace, key="spend", label="消费", kind="number")


@pytest.mark.parametrize("value", [10**30, 1e30, -1e30, [0, 1e30], 2**63 - 1])
def test_a_segment_rule_with_a_huge_number_is_a_422(admin, spend, value):
    op = "between" if isinstance(value, list) else "gte"
    rule = {"match": "and", "rules": [{"field": "field.spend", "op": op, "value": value}]}
    response = admin.post("/api/segments/count", {"rule": rule}, content_type="application/json")
    assert response.status_code == 422
    rule["rules"][0]["value"] = [0, 10**12] if op == "between" else 10**12
    assert admin.post("/api/segments/count", {"rule": rule}, content_type="application/json").json() == {"count": 0}


def test_infinity_in_json_is_a_422(admin):
    body = '{"rule": {"match": "and", "rules": [{"field": "score", "op": "gte", "value": 1e400}]}}'
    assert admin.post("/api/segments/count", body, content_type="application/json").status_code == 422


@pytest.mark.parametrize("name", ['"\\ud800"', '"a\\u0000b"', '"\\udfff tail"'])
def test_unstorable_text_in_a_json_body_is_a_422(admin, name):
    response = admin.post("/api/segments/", f'{{"name": {name}}}', content_type="application/json",
                          HTTP_ACCEPT_LANGUAGE="en")
    assert "name" in _errors(response)
    assert admin.get("/api/segments/").json() == []


def test_unstorable_text_inside_a_rule_is_a_422(admin):
    rule = '{"match": "and", "rules": [{"field": "\\ud800", "op": "in", "value": ["a\\u0000"]}]}'
    response = admin.post("/api/segments/count", f'{{"rule": {rule}}}', content_type="application/json")
    assert response.status_code == 422


def test_nul_in_a_query_string_is_a_422(admin):
    assert "q" in _errors(admin.get("/api/customers/?q=a%00b"))


# --- the console pages that take the same values ----------------------------------------------

def test_the_customer_list_refuses_a_day_past_the_calendar_on_its_form(admin):
    response = admin.get("/customers/?added_to=9999-12-31", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "1900-01-01" in response.content.decode() and "2999-12-31" in response.content.decode()


def test_the_churn_page_takes_edge_days_and_pages(admin):
    response = admin.get("/customers/churn/?end=9999-12-31&start=0001-01-01", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "1900-01-01" in response.content.decode() and "2999-12-31" in response.content.decode()
    assert admin.get(f"/customers/churn/?page={10**30}").status_code == 200


def test_the_channel_analytics_page_refuses_days_past_the_calendar(admin):
    response = admin.get("/channels/analytics/?start=9999-12-31&end=9999-12-31")
    assert response.status_code in (200, 422)


@pytest.mark.parametrize(("sort", "value", "pk"), [
    ("newest", "0001-01-01T00:00:00+08:00", 1),
    ("added", "9999-12-31T23:59:59", 1),
    ("newest", "2026-01-01T00:00:00+08:00", HUGE),
    ("score", "inf", 1),
])
def test_the_customer_list_ignores_a_forged_cursor_with_edge_values(admin, sort, value, pk):
    import base64

    cursor = base64.urlsafe_b64encode(f"{value}|{pk}".encode()).decode()
    assert admin.get(f"/customers/?sort={sort}&after={cursor}").status_code == 200
    assert admin.get(f"/api/customers/?sort={sort}&after={cursor}").status_code == 200


@pytest.mark.parametrize("rule", [
    json.dumps(RULE_SINCE),
    '{"match": "and", "rules": [{"field": "field.spend", "op": "gte", "value": 1e30}]}',
    '{"match": "and", "rules": [{"field": "field.spend", "op": "gte", "value": 1e400}]}',
    '{"match": "and", "rules": [{"field": "\\ud800", "op": "in", "value": ["x"]}]}',
    '{"match": "and", "rules": [{"field": "tags", "op": "any", "value": ["²"]}]}',
])
def test_the_segment_builder_explains_an_edge_value(admin, spend, rule):
    response = admin.post("/customers/segments/count/", {"rule": rule})
    assert response.status_code == 200
    assert "\ud800" not in response.content.decode("utf-8")


def test_the_bulk_tagging_form_refuses_ids_it_cannot_read(admin):
    response = admin.post("/customers/tags/bulk/", {"customer_ids": f"² {HUGE}", "tag_ids": []})
    assert response.status_code == 200


def test_the_spend_form_refuses_a_day_past_the_calendar(brand_a, admin):
    from siyu.channels.models import ChannelCode, ChannelSpend

    code = ChannelCode.objects.create(workspace=brand_a.workspace, name="店", touchpoint="store", state="chx")
    response = admin.post("/channels/analytics/spend/", {"code": code.pk, "start": "9999-12-30", "end": "9999-12-31",
                                                         "amount_yuan": "100"})
    assert response.status_code == 200 and "2999-12-31" in response.content.decode()
    assert not ChannelSpend.objects.for_workspace(brand_a.workspace).exists()
    assert admin.get("/channels/analytics/").status_code == 200
