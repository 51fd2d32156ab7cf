"""The 任务宝 console pages and the fans' campaign page, through the test client; role checks,
brand isolation, the persona's voice on the messages, recycling codes after the end."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import timezone

from siyu.core.models import AuditEntry
from siyu.core.services import OPERATOR
from siyu.customers import services as customers
from siyu.fission import services
from siyu.fission.models import Campaign, CampaignStatus, Fulfilment, Participant, RewardTier
from siyu.ip.models import Persona
from siyu.mobile import sessions
from tests.conftest import seat


def as_fan(client, workspace, customer_id, openid="oFAN"):
    response = HttpResponse()
    sessions.start_fan_session(RequestFactory().get("/"), response,
                               sessions.FanSession(workspace.pk, openid, "uFAN", customer_id))
    client.cookies[sessions.FAN_COOKIE] = response.cookies[sessions.FAN_COOKIE].value
    return client


def _form(fission, **over):
    now = timezone.localtime()
    data = {"name": "邀 5 得正装", "accounts": [fission.account.pk], "starts_at": now.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (now + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"), "new_customers_only": "on",
            "segment": "", "hold_hours": 48, "velocity_limit": 10, "velocity_minutes": 60, "zombie_percent": 50,
            "msg_joined": "", "msg_counted": "已邀 {invited} 位", "msg_tier": "", "template_id": "TPL",
            "tiers-TOTAL_FORMS": 2, "tiers-INITIAL_FORMS": 0, "tiers-MIN_NUM_FORMS": 0, "tiers-MAX_NUM_FORMS": 10,
            "tiers-0-threshold": 5, "tiers-0-name": "正装", "tiers-0-stock": 10, "tiers-0-fulfilment": "code",
            "tiers-0-welfare": fission.welfare.pk, "tiers-0-points": "",
            "tiers-1-threshold": "", "tiers-1-name": "", "tiers-1-stock": "", "tiers-1-fulfilment": "code",
            "tiers-1-welfare": "", "tiers-1-points": ""}
    data.update(over)
    return data


def test_a_planner_creates_a_campaign_from_the_page_and_it_is_audited(fission, login):
    client = login(fission.brand.members["planner"])
    assert client.get("/fission/new/").status_code == 200
    response = client.post("/fission/new/", _form(fission))
    assert response.status_code == 302, response.content.decode()[:2000]
    campaign = Campaign.objects.for_workspace(fission.workspace).get(name="邀 5 得正装")
    assert campaign.status == CampaignStatus.DRAFT and list(
        RewardTier.objects.for_workspace(fission.workspace).filter(campaign=campaign).values_list("threshold", flat=True)) == [5]
    assert AuditEntry.objects.for_workspace(fission.workspace).filter(module="fission", action="created").exists()
    for path in ("/fission/", f"/fission/{campaign.pk}/", f"/fission/{campaign.pk}/edit/", "/fission/review/"):
        assert client.get(path).status_code == 200, path
    assert client.post(f"/fission/{campaign.pk}/launch/").status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.LIVE


def test_the_form_explains_what_is_wrong(fission, login):
    client = login(fission.brand.members["admin"])
    no_pool = client.post("/fission/new/", _form(fission, **{"tiers-0-welfare": ""}))
    assert no_pool.status_code == 200 and 'data-error-for="tiers"' in no_pool.content.decode()
    no_account = client.post("/fission/new/", _form(fission, accounts=[]))
    assert no_account.status_code == 200 and 'data-error-for="accounts"' in no_account.content.decode()
    backwards = client.post("/fission/new/", _form(fission, ends_at="2020-01-01T00:00"))
    assert 'data-error-for="ends_at"' in backwards.content.decode()
    assert not Campaign.objects.for_workspace(fission.workspace).filter(name="邀 5 得正装").exists()


def test_roles_follow_the_fission_column(fission, login):
    data = services.CampaignInput(name="x", account_ids=[fission.account.pk], starts_at=timezone.now(),
                                  ends_at=timezone.now() + dt.timedelta(days=1),
                                  tiers=[services.TierInput(1, "a", 1, Fulfilment.POINTS, points=1)])
    for role in ("copywriter", "customer_ops", "data_analyst", "merchandiser"):
        with pytest.raises(PermissionDenied):
            services.save_campaign(fission.workspace, fission.seat(role), data)
        assert login(fission.brand.members[role]).get("/fission/new/").status_code == 403
        assert login(fission.brand.members[role]).get("/fission/").status_code == 200
    claim_id = 1
    with pytest.raises(PermissionDenied):
        services.decide(fission.workspace, fission.seat("planner"), claim_id, approve=True)


def test_another_brand_does_not_see_the_campaign(fission, brand_b, login):
    client = login(brand_b.admin)
    assert client.get(f"/fission/{fission.campaign.pk}/").status_code == 404
    assert fission.campaign.name not in client.get("/fission/").content.decode()


def test_a_message_with_a_word_the_persona_never_says_is_refused(fission):
    persona = Persona.objects.for_workspace(fission.workspace).create(
        workspace=fission.workspace, name="小完子", forbidden_words=["亲"])
    fission.account.persona = persona
    fission.account.save()
    data = services.CampaignInput(name="口吻", account_ids=[fission.account.pk], starts_at=timezone.now(),
                                  ends_at=timezone.now() + dt.timedelta(days=1), msg_counted="亲，又一位好友助力成功",
                                  tiers=[services.TierInput(1, "a", 1, Fulfilment.POINTS, points=1)])
    with pytest.raises(ValidationError) as refused:
        services.save_campaign(fission.workspace, OPERATOR, data)
    assert "msg_counted" in refused.value.message_dict


def test_a_fan_joins_gets_a_code_and_sees_progress(fission, client):
    fission.add("wmFAN", "小粉丝")
    relation = customers.record_add(fission.workspace, staff_userid="persona01", external_userid="wmFAN", state="",
                                    at=timezone.now() - dt.timedelta(days=2))
    as_fan(client, fission.workspace, relation.customer_id)
    path = f"/m/{fission.workspace.slug}/fan/fission/{fission.campaign.pk}/"
    first = client.get(path)
    assert first.status_code == 200 and 'data-testid="join"' in first.content.decode()
    joined = client.post(path)
    body = joined.content.decode()
    assert joined.status_code == 200 and 'data-testid="my-code"' in body and 'data-testid="counted"' in body
    participant = Participant.objects.for_workspace(fission.workspace).get(customer_id=relation.customer_id)
    assert participant.openid == "oFAN" and participant.config_id
    assert participant.qr_code in body
    client.post(path)  # joining twice changes nothing
    assert Participant.objects.for_workspace(fission.workspace).count() == 1


def test_a_fan_who_is_not_a_customer_is_told_to_add_first(fission, client):
    as_fan(client, fission.workspace, None)
    page = client.get(f"/m/{fission.workspace.slug}/fan/fission/{fission.campaign.pk}/")
    assert page.status_code == 200 and 'data-testid="join"' not in page.content.decode()


def test_codes_are_recycled_at_wecom_once_after_the_end(fission):
    fission.add("wmR", "回收")
    relation = customers.record_add(fission.workspace, staff_userid="persona01", external_userid="wmR", state="",
                                    at=timezone.now() - dt.timedelta(days=2))
    participant, _new = services.join(fission.workspace, fission.campaign, relation.customer)
    participant = services.ensure_code(fission.workspace, participant)
    ways = lambda: {w["config_id"] for w in fission.twin.state()["contact_ways"]}  # noqa: E731
    assert participant.config_id in ways()
    assert services.recycle_codes(fission.workspace) == 0  # still live
    services.end(fission.workspace, seat(fission.brand.admin, fission.workspace), fission.campaign.pk)
    assert services.recycle_codes(fission.workspace) == 1
    assert participant.config_id not in ways()
    assert services.recycle_codes(fission.workspace) == 0
    late = customers.record_add(fission.workspace, staff_userid="persona01", external_userid="wmLATE", state="",
                                at=timezone.now()).customer
    unmade = Participant.objects.for_workspace(fission.workspace).create(
        workspace=fission.workspace, campaign=fission.campaign, customer=late, joined_at=timezone.now())
    with pytest.raises(services.CodeUnavailable):  # an ended campaign makes no new codes
        services.ensure_code(fission.workspace, unmade)
