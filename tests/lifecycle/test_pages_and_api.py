"""The lifecycle console pages and API: what they show, who may change what, and never another
brand's customers."""

from __future__ import annotations

import pytest
from django.utils import translation

from siyu.core import services as core
from siyu.core.models import AuditAction, AuditEntry
from siyu.customers.models import Customer, LifecycleStage
from siyu.lifecycle.services import policy_for, recompute
from tests.conftest import seat, work_until
from tests.lifecycle.conftest import NOW, add, fresh


def an_angel(brand, external="wmALPHA", name="阿尔法天使") -> Customer:
    ws = brand.workspace
    policy = policy_for(ws)
    policy.angel_count, policy.angel_min_score = 5, 0
    policy.save()
    customer = add(ws, external)
    Customer.objects.for_workspace(ws).filter(pk=customer.pk).update(name=name)
    recompute(ws, now=NOW)
    return fresh(customer)


def test_the_home_page_shows_the_kpis_the_funnel_and_the_angels(brand_a, login):
    customer = an_angel(brand_a)
    html = login(brand_a.members["ops_lead"]).get("/customers/lifecycle/").content.decode()
    assert 'data-testid="customer-tabs"' in html and "生命周期与超级用户" in html
    assert 'data-testid="funnel-chart"' in html and 'id="funnel-data"' in html and "echarts.min.js" in html
    assert 'data-stage="new"' in html and "新客" in html
    assert "阿尔法天使" in html and f"/customers/{customer.pk}/" in html
    assert 'data-testid="recompute"' in html


def test_a_viewer_sees_the_page_without_edit_actions(brand_a, login):
    an_angel(brand_a)
    client = login(brand_a.members["merchandiser"])
    html = client.get("/customers/lifecycle/").content.decode()
    assert 'data-testid="recompute"' not in html
    form = client.get("/customers/lifecycle/policy/").content.decode()
    assert "保存规则" not in form and "disabled" in form
    assert client.post("/customers/lifecycle/policy/", {"dormant_days": 90}).status_code == 403
    assert client.post("/customers/lifecycle/recompute/").status_code == 403


def test_a_role_without_customers_access_is_refused_everywhere(brand_a, login):
    client = login(brand_a.members["copywriter"])
    for url in ("/customers/lifecycle/", "/customers/lifecycle/policy/", "/customers/lifecycle/angels/"):
        assert client.get(url).status_code == 403
    for url in ("/api/lifecycle/kpis", "/api/lifecycle/policy", "/api/lifecycle/angels"):
        assert client.get(url).status_code == 403


def form_data(policy, **changes) -> dict:
    from siyu.lifecycle.services.policy import policy_values

    return {**policy_values(policy), **changes}


def test_the_policy_form_saves_audits_and_recomputes(transactional_db, brand_a, login):
    ws = brand_a.workspace
    customer = add(ws)
    work_until(lambda: fresh(customer).score > 0)
    client = login(brand_a.members["customer_ops"])
    response = client.post("/customers/lifecycle/policy/", form_data(policy_for(ws), weight_recency=100,
                                                                     weight_frequency=0, weight_spend=0,
                                                                     weight_engagement=0, weight_referrals=0))
    assert response.status_code == 302 and response["Location"] == "/customers/lifecycle/"
    assert AuditEntry.objects.for_workspace(ws).filter(action=AuditAction.SETTINGS_CHANGED).count() == 1
    assert work_until(lambda: fresh(customer).score == 99)  # recency only: one day into 90 → 98.9 → 99


def test_the_policy_form_explains_what_is_wrong(brand_a, login):
    client = login(brand_a.admin)
    html = client.post("/customers/lifecycle/policy/", form_data(policy_for(brand_a.workspace), tier_s=50,
                                                                 tier_a=60)).content.decode()
    assert 'data-error-for="tier_a"' in html and "分层分数线须依次降低" in html
    assert policy_for(brand_a.workspace).tier_s == 80


def test_recompute_now_queues_a_full_recompute(transactional_db, brand_a, login):
    ws = brand_a.workspace
    customer = add(ws)
    Customer.objects.for_workspace(ws).filter(pk=customer.pk).update(stage=LifecycleStage.LOST, score=0)
    response = login(brand_a.admin).post("/customers/lifecycle/recompute/")
    assert response.status_code == 302
    assert work_until(lambda: fresh(customer).stage == LifecycleStage.NEW)


def test_the_api_reads_kpis_policy_and_angels(brand_a, login):
    customer = an_angel(brand_a)
    client = login(brand_a.members["data_analyst"])
    kpis = client.get("/api/lifecycle/kpis").json()
    assert kpis["total"] == 1 and kpis["following"] == 1 and kpis["angels"] == 1
    assert [s["stage"] for s in kpis["stages"]][:2] == ["new", "engaged"]
    assert client.get("/api/lifecycle/policy").json()["dormant_days"] == 60
    angels = client.get("/api/lifecycle/angels").json()
    assert [(a["customer_id"], a["name"]) for a in angels] == [(customer.pk, "阿尔法天使")]


def test_the_api_changes_the_policy_partially_and_validates(brand_a, login):
    client = login(brand_a.members["ops_lead"])
    changed = client.put("/api/lifecycle/policy", {"dormant_days": 45}, content_type="application/json")
    assert changed.status_code == 200 and changed.json()["dormant_days"] == 45 and changed.json()["engaged_days"] == 30
    with translation.override("en"):
        refused = client.put("/api/lifecycle/policy", {"engaged_days": 50}, content_type="application/json")
    assert refused.status_code == 422 and "dormant_days" in refused.json()["errors"]
    assert client.post("/api/lifecycle/recompute").status_code == 202
    planner = login(brand_a.members["planner"])
    assert planner.put("/api/lifecycle/policy", {"dormant_days": 40}, content_type="application/json").status_code == 403
    assert planner.post("/api/lifecycle/recompute").status_code == 403


@pytest.mark.parametrize("path", ["/customers/lifecycle/", "/customers/lifecycle/angels/"])
def test_another_brand_never_sees_brand_as_angels(brand_a, brand_b, login, path):
    an_angel(brand_a)
    an_angel(brand_b, "wmBETA", "贝塔天使")
    html = login(brand_b.admin).get(path).content.decode()
    assert "贝塔天使" in html and "阿尔法天使" not in html


def test_another_brands_api_sees_only_its_own_rows_and_policy(brand_a, brand_b, client, login):
    an_angel(brand_a)
    core_seat = seat(brand_a.admin, brand_a.workspace)
    from siyu.lifecycle.services import update_policy

    update_policy(brand_a.workspace, core_seat, {"dormant_days": 90})
    b = login(brand_b.admin)
    assert b.get("/api/lifecycle/angels").json() == []
    assert b.get("/api/lifecycle/kpis").json()["total"] == 0
    assert b.get("/api/lifecycle/policy").json()["dormant_days"] == 60
    _, key = core.create_api_token(brand_b.workspace, seat(brand_b.admin, brand_b.workspace), "bi")
    client.logout()
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/lifecycle/angels", headers=headers).json() == []
    client.put("/api/lifecycle/policy", {"dormant_days": 30, "engaged_days": 10}, content_type="application/json",
               headers=headers)
    assert policy_for(brand_a.workspace).dormant_days == 90
