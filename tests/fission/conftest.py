"""Fission fixtures: a brand connected to the WeCom twin, a persona account at both ends, the
service account on the twin's WeChat side, and a live 任务宝 campaign with a points tier and an
exchange-code tier. `Fission.scan` has a twin customer add the persona through a participant's
contact way; with `calling_back`, the twin delivers the callback to the live server and a real
worker takes it through the inbox, the customers app and the fission subscriber."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from siyu.accounts.models import StaffAccount
from siyu.channels.models import Welfare, WelfareCode, WelfareKind
from siyu.core.models import SubscriberRun
from siyu.core.services import OPERATOR
from siyu.customers.models import Customer
from siyu.fission import services
from siyu.fission.models import Campaign, Fulfilment, Invite, Participant
from siyu.simulator.wechat import openid_of
from siyu.wecom import wechat
from tests.conftest import seat, work_until
from tests.simulator.twin import (
    RunningTwin,
    connect_brand,
    running_twin,
    tokens_in_memory,
    twin_calling_back,
    twin_config,
)

PERSONA = "persona01"
OTHER = "staff02"


@dataclass
class Fission:
    brand: Any
    workspace: Any
    twin: RunningTwin
    account: StaffAccount
    campaign: Campaign
    welfare: Welfare
    calling_back: bool

    def seat(self, role: str = "admin") -> Any:
        return seat(self.brand.members[role], self.workspace)

    def add(self, external_userid: str, name: str, *, staff: str = PERSONA, **body: Any) -> dict[str, Any]:
        response = self.twin.admin.post("/twin/customers/add", json={"external_userid": external_userid, "name": name,
                                                                     "staff_userid": staff, **body})
        response.raise_for_status()
        return response.json()

    def customer(self, external_userid: str) -> Customer:
        """The brand's customer, once the twin's add reached the platform."""
        return work_until(lambda: Customer.objects.for_workspace(self.workspace).filter(
            external_userid=external_userid).first(), timeout=60)

    def participant(self, external_userid: str, name: str, **body: Any) -> Participant:
        """A customer who befriended the persona and joined the campaign, with their code made."""
        self.add(external_userid, name, **body)
        customer = self.customer(external_userid)
        unionid = self.twin.state()["customers"]
        union = next(c["unionid"] for c in unionid if c["external_userid"] == external_userid)
        participant, _new = services.join(self.workspace, self.campaign, customer,
                                          openid=openid_of(twin_config().mp_app_id, union))
        return services.ensure_code(self.workspace, participant)

    def scan(self, participant: Participant, external_userid: str, name: str, **body: Any) -> dict[str, Any]:
        """A twin customer adds the persona through the participant's contact way."""
        return self.add(external_userid, name, staff="", config_id=participant.config_id, **body)

    def invite_of(self, external_userid: str) -> Invite:
        try:
            return work_until(lambda: Invite.objects.for_workspace(self.workspace).filter(
                invitee__external_userid=external_userid).first(), timeout=60)
        except AssertionError as exc:
            failed = SubscriberRun.unscoped.filter(subscriber__startswith="siyu.fission").exclude(last_error="")
            raise AssertionError([run.last_error for run in failed]) from exc

    def delete(self, external_userid: str, staff: str = PERSONA) -> None:
        self.twin.admin.post("/twin/customers/delete-staff", json={"staff_userid": staff,
                                                                   "external_userid": external_userid}).raise_for_status()

    def templates(self, participant: Participant) -> list[dict[str, Any]]:
        return self.twin.admin.get("/twin/wechat/templates", params={"openid": participant.openid}).json()["templates"]


def make_fission(brand: Any, twin: RunningTwin, *, calling_back: bool, **campaign: Any) -> Fission:
    ws = brand.workspace
    for userid in (PERSONA, OTHER):
        twin.add_staff(userid, name=userid)
    account = StaffAccount.objects.create(workspace=ws, userid=PERSONA, name="小完子")
    StaffAccount.objects.create(workspace=ws, userid=OTHER, name="小美")
    config = twin_config()
    wechat.configure_service_account(ws, OPERATOR, app_id=config.mp_app_id, secret=config.mp_app_secret,
                                     api_base=twin.url + "/", oauth_base=twin.url + "/")
    welfare = Welfare.objects.create(workspace=ws, name="正装兑换码", kind=WelfareKind.COUPON)
    WelfareCode.unscoped.bulk_create([WelfareCode(workspace=ws, welfare=welfare, code=f"FULL-{n:03}") for n in range(20)])
    now = timezone.now()
    values: dict[str, Any] = {
        "name": "邀 3 得小样", "account_ids": [account.pk], "starts_at": now - dt.timedelta(hours=1),
        "ends_at": now + dt.timedelta(days=7), "hold_hours": 48, "velocity_limit": 10, "velocity_minutes": 60,
        "msg_counted": "{nickname}，又一位好友助力成功！已邀 {invited} 位，再邀 {to_go} 位得{next_reward}",
        "msg_tier": "{nickname}，恭喜获得{reward}！", "template_id": "TPL_FISSION",
        "tiers": [services.TierInput(1, "小样", 5, Fulfilment.POINTS, points=30),
                  services.TierInput(3, "正装", 5, Fulfilment.CODE, welfare_id=welfare.pk)],
    }
    values.update(campaign)
    saved = services.save_campaign(ws, OPERATOR, services.CampaignInput(**values))
    live = services.launch(ws, OPERATOR, saved.pk)
    return Fission(brand, ws, twin, account, live, welfare, calling_back)


@pytest.fixture
def twin(settings: Any) -> Iterator[RunningTwin]:
    with tokens_in_memory(settings), running_twin(twin_config()) as running:
        yield running


@pytest.fixture
def fission(brand_a: Any, twin: RunningTwin) -> Fission:
    """The campaign on a twin that does not call back: events are fed by the test."""
    connect_brand(brand_a.workspace, twin)
    return make_fission(brand_a, twin, calling_back=False)


@pytest.fixture
def live_fission(transactional_db: None, live_server: Any, brand_a: Any, settings: Any) -> Iterator[Fission]:
    """The campaign on a twin that delivers its callbacks to the live server."""
    with tokens_in_memory(settings), twin_calling_back(brand_a.workspace, live_server.url) as running:
        yield make_fission(brand_a, running, calling_back=True)
