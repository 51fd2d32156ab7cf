"""The console's points pages: who may see and change what, audit entries, and brand scoping."""

from __future__ import annotations

import pytest

from siyu.core.models import AuditEntry
from siyu.points import services
from siyu.points.models import CheckinPlan, PointsPolicy, Reward, Source
from tests.points.conftest import code_reward, make_customer

pytestmark = pytest.mark.django_db
BASE = "/community/points/"
PLAN = {"name": "早起打卡", "mode": "streak", "daily_points": "5", "tiers": "3:20, 7:50", "make_up_cards": "2",
        "active": "on", "expiry": "days", "expire_days": "90"}


@pytest.mark.parametrize(("role", "may_view", "may_edit"), [
    ("ops_lead", True, True), ("copywriter", True, False), ("planner", True, True), ("customer_ops", True, True),
    ("data_analyst", True, False), ("merchandiser", True, True),
])
def test_roles_see_and_edit_as_the_column_says(login, brand_a, role, may_view, may_edit):
    client = login(brand_a.members[role])
    assert client.get(BASE).status_code == (200 if may_view else 403)
    assert client.get(BASE + "ledger/").status_code == (200 if may_view else 403)
    assert client.get(BASE + "plan/").status_code == (200 if may_edit else 403)
    assert client.post(BASE + "plan/", PLAN).status_code == (302 if may_edit else 403)


def test_saving_the_plan_validates_and_is_audited(login, brand_a):
    client = login(brand_a.admin)
    wrong = client.post(BASE + "plan/", {**PLAN, "tiers": "3-20"})
    assert wrong.status_code == 200 and not CheckinPlan.objects.for_workspace(brand_a.workspace).exists()
    assert client.post(BASE + "plan/", PLAN).status_code == 302
    plan = CheckinPlan.objects.for_workspace(brand_a.workspace).get()
    assert plan.tiers == [{"day": 3, "points": 20}, {"day": 7, "points": 50}] and plan.make_up_cards == 2
    assert PointsPolicy.objects.for_workspace(brand_a.workspace).get().expire_days == 90
    client.post(BASE + "plan/", {**PLAN, "daily_points": "8"})
    entries = AuditEntry.objects.for_workspace(brand_a.workspace).filter(module="points")
    assert entries.count() == 3  # created, the rule, then one change


def test_a_reward_is_created_for_a_welfare_of_this_brand_only(login, brand_a, brand_b):
    theirs = code_reward(brand_b.workspace)
    client = login(brand_a.admin)
    refused = client.post(BASE + "rewards/new/", {"name": "券", "kind": "welfare", "cost": "10", "welfare": theirs.welfare_id})
    assert refused.status_code == 200 and not Reward.objects.for_workspace(brand_a.workspace).exists()
    ok = client.post(BASE + "rewards/new/", {"name": "帆布袋", "kind": "goods", "cost": "100", "stock": "5", "active": "on"})
    assert ok.status_code == 302 and Reward.objects.for_workspace(brand_a.workspace).get().stock == 5
    assert login(brand_a.admin).get(BASE + f"rewards/{theirs.pk}/").status_code == 404


def test_the_ledger_filters_by_customer_and_only_leads_adjust(login, brand_a, brand_b):
    ws = brand_a.workspace
    mine, theirs = make_customer(ws, 1), make_customer(brand_b.workspace, 2)
    services.grant(ws, mine, 12, Source.CHECKIN, "c1")
    services.grant(brand_b.workspace, theirs, 99, Source.CHECKIN, "c1")
    page = login(brand_a.members["ops_lead"]).get(BASE + f"ledger/?customer={mine.pk}&source=checkin")
    assert page.status_code == 200 and page.context["balance"] == 12 and page.context["adjust"] is not None
    assert theirs.name not in page.content.decode()
    assert login(brand_a.admin).get(BASE + f"ledger/?customer={theirs.pk}").context["customer"] is None
    planner = login(brand_a.members["planner"])
    assert planner.get(BASE + f"ledger/?customer={mine.pk}").context["adjust"] is None
    assert planner.post(BASE + "adjust/", {"customer": mine.pk, "amount": 5, "reason": "x"}).status_code == 403
    lead = login(brand_a.members["ops_lead"])
    assert lead.post(BASE + "adjust/", {"customer": mine.pk, "amount": -2, "reason": "误发"}).status_code == 302
    assert services.balance_of(ws, mine.pk) == 10
    lead.post(BASE + "adjust/", {"customer": theirs.pk, "amount": 5, "reason": "x"})
    assert services.balance_of(brand_b.workspace, theirs.pk) == 99
