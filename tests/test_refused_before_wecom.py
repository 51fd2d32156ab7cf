"""Permission before WeCom: every console page and API route that may call WeCom refuses a role
that may not use it (403) before any call goes out. Each endpoint is posted by each such role,
with a brand connected to a real twin and input that would reach WeCom for an allowed role; the
brand's `ApiCall` rows (one per outbound call) must not grow."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from siyu.accounts.models import StaffAccount
from siyu.channels.services import codes
from siyu.core.permissions import Action, Module, Role, allows
from siyu.customers import services as customers
from siyu.tags.models import RuleKind, Tag
from siyu.tags.services import catalogue, rules
from siyu.wecom.models import ApiCall
from tests.conftest import seat
from tests.simulator.twin import connect_brand, running_twin, tokens_in_memory, twin_config

A, B = "xiaowanzi01", "xiaowanzi02"


@pytest.fixture(autouse=True)
def _local_cache(settings: Any) -> Iterator[None]:
    with tokens_in_memory(settings):
        yield


@dataclass
class Shop:
    brand: Any
    ids: dict[str, int]


@pytest.fixture
def shop(brand_a: Any) -> Iterator[Shop]:
    """Brand alpha on a twin: two staff accounts, a customer of the first, a channel code, a tag
    group with a tag and a tag rule; every row an endpoint below may name."""
    with running_twin(twin_config()) as twin:
        ws = brand_a.workspace
        for userid in (A, B):
            twin.add_staff(userid)
        connect_brand(ws, twin)
        admin = seat(brand_a.admin, ws)
        a = StaffAccount.objects.create(workspace=ws, userid=A, name="小完子01")
        b = StaffAccount.objects.create(workspace=ws, userid=B, name="小完子02")
        twin.admin.post("/twin/customers/add", json={"external_userid": "wmX", "name": "王小雨", "staff_userid": A,
                                                     "welcome": False}).raise_for_status()
        relation = customers.record_add(ws, staff_userid=A, external_userid="wmX", state="",
                                        at=timezone.now().replace(microsecond=0))
        code = codes.create_code(ws, admin, codes.CodeInput(name="南京西路店", touchpoint="store",
                                                            seats=[codes.SeatInput(a.pk), codes.SeatInput(b.pk)]))
        group = catalogue.create_group(ws, admin, "会员等级", ["金卡"])
        tag = Tag.objects.for_workspace(ws).get(group=group)
        rule = rules.create_rule(ws, admin, rules.RuleInput("新客", tag.pk, RuleKind.STAGE, {"stages": ["new"]}))
        yield Shop(brand_a, {"A": a.pk, "B": b.pk, "customer": relation.customer_id, "relation": relation.pk,
                             "code": code.pk, "group": group.pk, "tag": tag.pk, "rule": rule.pk})


@dataclass(frozen=True)
class Endpoint:
    method: str
    url: str  # with {placeholders} from Shop.ids
    module: str  # the permission module whose edit right the endpoint needs
    data: dict[str, Any] | None = None  # form fields (console) or the JSON body (API), placeholders too

    @property
    def is_api(self) -> bool:
        return self.url.startswith("/api/")

    def __str__(self) -> str:
        return f"{self.method} {self.url}"


def _code_body() -> dict[str, Any]:
    return {"name": "新店", "touchpoint": "store", "seats": [{"account_id": "{A}"}, {"account_id": "{B}"}]}


ENDPOINTS = [
    # console pages
    Endpoint("POST", "/channels/codes/new/", Module.CHANNELS, {"name": "新店", "touchpoint": "store"}),
    Endpoint("POST", "/channels/codes/{code}/edit/", Module.CHANNELS, {"name": "新名字", "touchpoint": "store"}),
    Endpoint("POST", "/channels/codes/{code}/deactivate/", Module.CHANNELS),
    Endpoint("POST", "/channels/codes/{code}/reroute/", Module.CHANNELS),
    Endpoint("POST", "/channels/welcome/test-send/", Module.CHANNELS, {
        "test_recipient": "{B}", "welcome_text": "你好", "attachments-TOTAL_FORMS": "0", "attachments-INITIAL_FORMS": "0"}),
    Endpoint("POST", "/channels/welcome/pictures/upload/", Module.CHANNELS),
    Endpoint("POST", "/accounts/sync/", Module.CHANNELS),
    Endpoint("POST", "/customers/{customer}/remark/{relation}/", Module.CUSTOMERS, {"r{relation}-remark": "VIP"}),
    Endpoint("POST", "/customers/sync/start/", Module.CUSTOMERS),
    Endpoint("POST", "/customers/transfers/request/", Module.CUSTOMERS,
             {"handover": "{A}", "takeover": "{B}", "customer": "{customer}"}),
    Endpoint("POST", "/customers/transfers/unassigned/", Module.CUSTOMERS, {"handover": "{A}", "takeover": "{B}"}),
    Endpoint("POST", "/customers/transfers/check/", Module.CUSTOMERS),
    Endpoint("POST", "/customers/tags/sync/", Module.CUSTOMERS),
    Endpoint("POST", "/customers/tags/bulk/", Module.CUSTOMERS, {"customer_ids": "{customer}", "tag_ids": "{tag}"}),
    Endpoint("POST", "/customers/tags/customer/{customer}/", Module.CUSTOMERS, {"tags": "{tag}"}),
    Endpoint("POST", "/customers/tags/groups/new/", Module.CUSTOMERS, {"name": "兴趣", "tag_names": "咖啡"}),
    Endpoint("POST", "/customers/tags/groups/{group}/edit/", Module.CUSTOMERS, {"name": "等级"}),
    Endpoint("POST", "/customers/tags/groups/{group}/delete/", Module.CUSTOMERS),
    Endpoint("POST", "/customers/tags/groups/{group}/tags/new/", Module.CUSTOMERS, {"name": "银卡"}),
    Endpoint("POST", "/customers/tags/{tag}/edit/", Module.CUSTOMERS, {"name": "白金卡"}),
    Endpoint("POST", "/customers/tags/{tag}/delete/", Module.CUSTOMERS),
    Endpoint("POST", "/customers/tags/rules/{rule}/run/", Module.CUSTOMERS),
    # the API
    Endpoint("POST", "/api/channels/codes", Module.CHANNELS, _code_body()),
    Endpoint("PUT", "/api/channels/codes/{code}", Module.CHANNELS, _code_body()),
    Endpoint("POST", "/api/channels/codes/{code}/deactivate", Module.CHANNELS),
    Endpoint("POST", "/api/customers/{customer}/remark", Module.CUSTOMERS, {"relation_id": "{relation}", "remark": "VIP"}),
    Endpoint("POST", "/api/customers/sync", Module.CUSTOMERS),
    Endpoint("POST", "/api/churn/transfers", Module.CUSTOMERS,
             {"handover_account_id": "{A}", "takeover_account_id": "{B}", "customer_ids": ["{customer}"]}),
    Endpoint("POST", "/api/churn/transfers/check", Module.CUSTOMERS),
    Endpoint("POST", "/api/tags/groups", Module.CUSTOMERS, {"name": "兴趣", "tags": ["咖啡"]}),
    Endpoint("POST", "/api/tags/groups/{group}/tags", Module.CUSTOMERS, {"name": "银卡"}),
    Endpoint("POST", "/api/tags/sync", Module.CUSTOMERS),
    Endpoint("POST", "/api/tags/tag", Module.CUSTOMERS, {"customer_ids": ["{customer}"], "tag_ids": ["{tag}"]}),
    Endpoint("POST", "/api/tags/untag", Module.CUSTOMERS, {"customer_ids": ["{customer}"], "tag_ids": ["{tag}"]}),
    Endpoint("POST", "/api/tags/rules/{rule}/run", Module.CUSTOMERS),
]


def _fill(value: Any, ids: dict[str, int], as_int: bool) -> Any:
    """Placeholders replaced by the shop's ids: whole values become numbers in JSON bodies."""
    if isinstance(value, dict):
        return {_fill(k, ids, False): _fill(v, ids, as_int) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids, as_int) for v in value]
    if isinstance(value, str):
        text = value.format(**ids)
        return int(text) if as_int and value.startswith("{") and value.endswith("}") else text
    return value


def _send(client: Any, endpoint: Endpoint, ids: dict[str, int]) -> Any:
    url = endpoint.url.format(**ids)
    data = _fill(endpoint.data or {}, ids, endpoint.is_api)
    if endpoint.is_api:
        return client.generic(endpoint.method, url, json.dumps(data), content_type="application/json")
    return client.post(url, data)


def _calls(shop: Shop) -> int:
    return ApiCall.objects.for_workspace(shop.brand.workspace).count()


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_a_refused_role_is_refused_before_any_wecom_call(shop: Shop, endpoint: Endpoint, login: Any) -> None:
    refused = [role for role in Role.values if not allows(role, endpoint.module, Action.EDIT)]
    assert refused
    for role in refused:
        before = _calls(shop)
        response = _send(login(shop.brand.members[role]), endpoint, shop.ids)
        assert response.status_code == 403, f"{role}: {response.status_code}"
        assert _calls(shop) == before, f"{role} made {_calls(shop) - before} WeCom calls before being refused"


def test_an_allowed_role_does_reach_wecom(shop: Shop, login: Any) -> None:
    """The check above could not pass by accident: the same request from an ops lead calls WeCom."""
    [unassigned] = [e for e in ENDPOINTS if e.url == "/customers/transfers/unassigned/"]
    before = _calls(shop)
    _send(login(shop.brand.members[Role.OPS_LEAD]), unassigned, shop.ids)
    assert ApiCall.objects.for_workspace(shop.brand.workspace).filter(
        endpoint="externalcontact/get_unassigned_list").count() == 1
    assert _calls(shop) > before
