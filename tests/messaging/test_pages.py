"""The 群发 console pages and API: plan with the preview and the refused list, confirm, the
detail page's progress, the export for data analysts, the settings, and each role's reach."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.utils import timezone

from siyu.core.models import AuditEntry
from siyu.messaging.models import BudgetRule, MassMessage, MassStatus, MessagingSettings
from siyu.messaging.services import budget
from siyu.messaging.services.budget import Recipients
from tests.messaging.conftest import make_customer


@pytest.fixture
def customers(shop):
    full = make_customer(shop, "wmFULL", tags=("高",))
    make_customer(shop, "wmFRESH", tags=("高",), follows=((1, "", True),))
    MessagingSettings.objects.create(workspace=shop.workspace, budget_rule=BudgetRule.DAILY_ONE)
    budget.reserve(shop.workspace, Recipients.customers([full.pk]), timezone.now(), "sop", "1")
    return shop


def plan_on_the_page(shop, client) -> MassMessage:
    answer = client.post("/content/messages/new/", {
        "name": "周末上新", "target_kind": "tags", "tags": [str(shop.tags["高"].pk)], "text": "周末上新啦",
        "links": "新品 | https://example.com/new"})
    assert answer.status_code == 302, answer.content.decode()[:2000]
    return MassMessage.objects.for_workspace(shop.workspace).get(name="周末上新")


def test_a_planner_plans_sees_the_refused_and_confirms(customers, login):
    shop = customers
    client = login(shop.brand.members["planner"])
    message = plan_on_the_page(shop, client)
    page = client.get(f"/content/messages/{message.pk}/").content.decode()
    assert 'data-testid="refused">1<' in page and 'data-customer="wmFULL"' in page
    assert "排除超限客户并确认" in page
    assert message.attachments == [{"msgtype": "link", "link": {"title": "新品", "url": "https://example.com/new"}}]
    answer = client.post(f"/content/messages/{message.pk}/confirm/", follow=True)
    assert "已确认" in answer.content.decode()
    message.refresh_from_db()
    assert message.status == MassStatus.SCHEDULED and message.planned_count == 1
    page = client.get(f"/content/messages/{message.pk}/").content.decode()
    assert 'data-testid="progress"' in page
    assert AuditEntry.objects.for_workspace(shop.workspace).filter(module="messaging").count() == 2


def test_the_form_shows_the_services_errors(customers, login):
    client = login(customers.brand.members["planner"])
    answer = client.post("/content/messages/new/", {"name": "", "target_kind": "tags", "text": ""})
    assert answer.status_code == 200
    assert 'data-error-for="name"' in answer.content.decode()


def test_a_copywriter_sees_but_may_not_plan(customers, login):
    client = login(customers.brand.members["copywriter"])
    assert client.get("/content/messages/").status_code == 200
    assert client.get("/content/messages/new/").status_code == 403


def test_a_data_analyst_exports_the_results_and_the_export_is_logged(customers, login):
    shop = customers
    message = plan_on_the_page(shop, login(shop.brand.members["planner"]))
    login(shop.brand.members["planner"]).post(f"/content/messages/{message.pk}/confirm/")
    client = login(shop.brand.members["data_analyst"])
    answer = client.get(f"/content/messages/{message.pk}/export/")
    assert answer.status_code == 200
    rows = list(openpyxl.load_workbook(io.BytesIO(answer.content)).active.values)
    assert {r[1] for r in rows[1:]} == {"wmFULL", "wmFRESH"}
    assert AuditEntry.objects.for_workspace(shop.workspace).filter(action="export", module="messaging").exists()
    assert login(shop.brand.members["copywriter"]).get(f"/content/messages/{message.pk}/export/").status_code == 403


def test_the_settings_change_the_rule_and_the_ladder_and_are_audited(shop, login):
    client = login(shop.brand.members["planner"])
    answer = client.post("/content/messages/settings/", {"budget_rule": "monthly_4", "reminder_minutes": "10, 60"})
    assert answer.status_code == 302
    found = MessagingSettings.objects.for_workspace(shop.workspace).get()
    assert (found.budget_rule, found.reminder_minutes) == ("monthly_4", [10, 60])
    assert AuditEntry.objects.for_workspace(shop.workspace).filter(action="settings_changed").exists()
    answer = client.post("/content/messages/settings/", {"budget_rule": "monthly_4", "reminder_minutes": "1,2,3,4"})
    assert 'data-error-for="reminder_minutes"' in answer.content.decode()


def test_another_brands_message_is_not_found(customers, brand_b, login):
    message = plan_on_the_page(customers, login(customers.brand.members["planner"]))
    client = login(brand_b.members["admin"])
    assert client.get(f"/content/messages/{message.pk}/").status_code == 404
    assert client.get(f"/api/messaging/{message.pk}").status_code == 404


def test_the_api_plans_previews_and_confirms(customers, login):
    shop = customers
    client = login(shop.brand.members["planner"])
    made = client.post("/api/messaging/", {"name": "接口", "target_kind": "tags", "tag_ids": [shop.tags["高"].pk],
                                           "text": "你好"}, content_type="application/json")
    assert made.status_code == 201, made.content
    message_id = made.json()["id"]
    preview = client.get(f"/api/messaging/{message_id}/preview").json()
    assert (preview["planned"], preview["refused"], preview["limit"]) == (1, 1, 1)
    assert [r["external_userid"] for r in client.get(f"/api/messaging/{message_id}/refused").json()["items"]] == [
        "wmFULL"]
    assert client.post(f"/api/messaging/{message_id}/confirm").json()["status"] == "scheduled"
    assert client.get(f"/api/messaging/{message_id}/progress").json()["total"] == 1
    bad = client.post("/api/messaging/", {"name": "x", "target_kind": "groups", "text": "x"},
                      content_type="application/json")
    assert bad.status_code == 422 and "target_kind" in bad.json()["errors"]
    assert client.put("/api/messaging/settings", {"budget_rule": "nope"},
                      content_type="application/json").status_code == 422


def test_the_customer_lists_action_makes_the_checked_customers_the_target(customers, login):
    shop = customers
    from siyu.customers.models import Customer

    client = login(shop.brand.members["admin"])
    ids = list(Customer.objects.for_workspace(shop.workspace).values_list("pk", flat=True))
    answer = client.post("/customers/bulk/", {"action": "mass_message", "customers": ids})
    assert answer.status_code == 302 and answer["Location"].endswith("/content/messages/new/")
    page = client.get("/content/messages/new/").content.decode()
    assert 'data-testid="chosen"' in page
    answer = client.post("/content/messages/new/", {"name": "勾选", "target_kind": "customers", "text": "你好"})
    assert answer.status_code == 302
    assert MassMessage.objects.for_workspace(shop.workspace).get(name="勾选").customer_ids == sorted(ids)
