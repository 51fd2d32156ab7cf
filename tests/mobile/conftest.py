"""Phone fixtures: a brand on the twin with a staff member, a customer who is their friend (and a
fan of the service account), a tag at WeCom, a welfare granted, and the OAuth round trips."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
from django.utils import timezone

from siyu.accounts.models import StaffAccount
from siyu.channels.models import Welfare, WelfareCode, WelfareGrant, WelfareKind
from siyu.core.services import OPERATOR
from siyu.customers.models import Customer, CustomField, FieldKind, FollowRelation
from siyu.tags.models import Tag, TagGroup
from siyu.wecom import wechat
from tests.simulator.twin import (
    RunningTwin,
    connect_brand,
    running_twin,
    tokens_in_memory,
    twin_config,
)


@dataclass
class Phones:
    twin: RunningTwin
    workspace: Any
    account: StaffAccount
    customer: Customer
    tag: Tag
    other_tag: Tag


def with_param(url: str, **params: str) -> str:
    """`url` with these query parameters added (and WeCom's `#wechat_redirect` dropped)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query), fragment=""))


def local_path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def make_phones(workspace: Any, twin: RunningTwin) -> Phones:
    connect_brand(workspace, twin)
    config = twin_config()
    wechat.configure_service_account(workspace, OPERATOR, app_id=config.mp_app_id, secret=config.mp_app_secret,
                                     api_base=twin.url + "/", oauth_base=twin.url + "/")
    twin.add_staff("staff0", name="小完子")
    account = StaffAccount.objects.create(workspace=workspace, userid="staff0", name="小完子")
    unionid = "uPHONE01"
    twin.admin.post("/twin/customers/add", json={"external_userid": "wmPHONE01", "name": "林小姐", "unionid": unionid,
                                                 "staff_userid": "staff0"}).raise_for_status()
    now = timezone.now()
    CustomField.objects.create(workspace=workspace, key="skin", label="肤质", kind=FieldKind.TEXT)
    customer = Customer.objects.create(workspace=workspace, external_userid="wmPHONE01", name="林小姐",
                                       unionid=unionid, phone="13812345678", first_added_at=now,
                                       fields={"skin": "干皮偏敏感"})
    FollowRelation.objects.create(workspace=workspace, customer=customer, account=account, added_at=now)
    group = twin.api("externalcontact/add_corp_tag", {"group_name": "肤质", "tag": [{"name": "干皮"}, {"name": "油皮"}]})
    ids = [t["id"] for t in group["tag_group"]["tag"]]
    local = TagGroup.objects.create(workspace=workspace, name="肤质", wecom_group_id=group["tag_group"]["group_id"])
    tag = Tag.objects.create(workspace=workspace, group=local, name="干皮", wecom_tag_id=ids[0])
    other = Tag.objects.create(workspace=workspace, group=local, name="油皮", wecom_tag_id=ids[1])
    welfare = Welfare.objects.create(workspace=workspace, name="新客小样", kind=WelfareKind.COUPON,
                                     description="精华小样一份", ends_at=now + dt.timedelta(days=30))
    code = WelfareCode.objects.create(workspace=workspace, welfare=welfare, code="SY-8848", issued_at=now)
    WelfareGrant.objects.create(workspace=workspace, welfare=welfare, customer=customer, code=code, granted_at=now)
    return Phones(twin, workspace, account, customer, tag, other)


@pytest.fixture
def phones(brand_a: Any, settings: Any) -> Iterator[Phones]:
    with tokens_in_memory(settings), running_twin(twin_config()) as twin:
        yield make_phones(brand_a.workspace, twin)


def staff_sign_in(client: Any, phones: Phones, path: str, userid: str = "staff0") -> Any:
    """Open a staff page with no session: WeCom OAuth at the twin as `userid`, and back."""
    first = client.get(path)
    assert first.status_code == 302, first.content[:300]
    assert first["Location"].startswith(phones.twin.url + "/connect/oauth2/authorize")
    at_twin = phones.twin.admin.get(with_param(first["Location"], twin_userid=userid))
    assert at_twin.status_code == 302, at_twin.text[:300]
    back = client.get(local_path(at_twin.headers["location"]))
    return back


def fan_sign_in(client: Any, phones: Phones, path: str, fan: str) -> Any:
    """Open a fan page with no session: the service account's OAuth at the twin as `fan`, and back."""
    first = client.get(path)
    assert first.status_code == 302, first.content[:300]
    at_twin = phones.twin.admin.get(with_param(first["Location"], twin_fan=fan))
    assert at_twin.status_code == 302, at_twin.text[:300]
    return client.get(local_path(at_twin.headers["location"]))
