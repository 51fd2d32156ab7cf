"""获客链接 as a code type: creating one calls WeCom (the twin) for an acquisition link and stores
its URL with `customer_channel=<state>`; adds through the link are attributed to the code by that
state exactly as QR scans are; routing, editing, retiring and reconciling speak to the link."""

from __future__ import annotations

import io
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.exceptions import ValidationError
from PIL import Image

from siyu.channels.models import ChannelCode, CodeKind, WelcomeStatus
from siyu.channels.services import codes, routing
from siyu.customers.models import FollowRelation
from siyu.wecom.client import AcquisitionLinkMissing
from siyu.wecom.services import client_for
from tests.channels.conftest import code_input, drain, publish_add, welcome_of
from tests.simulator.test_twin_qr import qr_matrix, read_qr_modules


def link_of(twin, link_id: str) -> dict | None:
    return next((link for link in twin.state()["links"] if link["link_id"] == link_id), None)


def link_code(shop, **overrides) -> ChannelCode:
    return codes.create_code(shop.workspace, shop.planner, code_input(
        shop.accounts, name="公众号文章", touchpoint="online_ad", kind=CodeKind.ACQUISITION_LINK, **overrides))


def add_through_link(twin, code: ChannelCode, name: str = "王小雨") -> dict:
    """A customer taps the code's URL and adds the staff member WeCom picks."""
    channel = parse_qs(urlsplit(code.link_url).query)["customer_channel"][0]
    response = twin.admin.post("/twin/customers/add", json={
        "name": name, "link_id": code.link_id, "customer_channel": channel, "welcome": True})
    response.raise_for_status()
    return response.json()


def test_a_link_code_is_made_at_wecom_with_the_codes_state_as_its_channel(shop):
    code = link_code(shop)
    assert code.kind == CodeKind.ACQUISITION_LINK and code.config_id == "" and code.link_id
    link = link_of(shop.twin, code.link_id)
    assert link["link_name"] == "公众号文章" and link["user_list"] == code.routed_userids
    assert code.link_url.startswith(link["url"]) and code.link_url.endswith(f"customer_channel={code.state}")


def test_an_add_through_the_link_is_attributed_to_the_code_and_welcomed(live_shop):
    code = link_code(live_shop, welcome_text="{customer_nickname}你好，欢迎来到公众号渠道")
    added = add_through_link(live_shop.twin, code)
    assert added["state"] == code.state
    publish_add(live_shop.workspace, added)
    drain()
    relation = FollowRelation.objects.for_workspace(live_shop.workspace).get()
    assert relation.state == code.state
    assert welcome_of(relation).status == WelcomeStatus.SENT
    assert codes.code_detail(live_shop.workspace, live_shop.planner, code.pk).adds_total == 1


def test_routing_a_link_code_replaces_the_links_staff_at_wecom(shop):
    code = link_code(shop, strategy="round_robin")
    first = list(code.routed_userids)
    codes.update_code(shop.workspace, shop.planner, code.pk, code_input(
        shop.accounts, name="公众号文章", touchpoint="online_ad",
        seats=[codes.SeatInput(shop.accounts["xiaowanzi03"].pk)]))
    code.refresh_from_db()
    assert code.routed_userids == ["xiaowanzi03"] != first
    assert link_of(shop.twin, code.link_id)["user_list"] == ["xiaowanzi03"]
    run = routing.route_active_codes(shop.workspace)
    assert run.codes == 1 and run.failed == 0


def test_a_code_keeps_its_kind_when_edited(shop):
    code = link_code(shop)
    codes.update_code(shop.workspace, shop.planner, code.pk, code_input(
        shop.accounts, name="公众号文章", touchpoint="online_ad", kind=CodeKind.CONTACT_WAY))
    code.refresh_from_db()
    assert code.kind == CodeKind.ACQUISITION_LINK and code.config_id == ""


def test_an_unknown_kind_is_refused_on_its_field(shop):
    with pytest.raises(ValidationError) as caught:
        codes.create_code(shop.workspace, shop.planner, code_input(shop.accounts, kind="sticker"))
    assert "kind" in caught.value.message_dict


def test_deactivating_a_link_code_deletes_the_link_at_wecom(shop):
    code = link_code(shop)
    codes.deactivate_code(shop.workspace, shop.planner, code.pk)
    assert link_of(shop.twin, code.link_id) is None
    with client_for(shop.workspace) as client, pytest.raises(AcquisitionLinkMissing):
        client.get_acquisition_link(code.link_id)


def test_a_link_wecom_lost_is_made_again_with_the_same_channel(shop):
    code = link_code(shop)
    with client_for(shop.workspace) as client:
        client.delete_acquisition_link(code.link_id)
    report = codes.reconcile_contact_ways(shop.workspace)
    assert report.recreated == ["公众号文章"]
    code.refresh_from_db()
    assert link_of(shop.twin, code.link_id) is not None
    assert code.link_url.endswith(f"customer_channel={code.state}")


def test_the_detail_page_shows_the_link_and_a_qr_of_it(shop, login):
    code = link_code(shop)
    client = login(shop.members["copywriter"])
    page = client.get(f"/channels/codes/{code.pk}/").content.decode()
    assert code.link_url.replace("&", "&amp;") in page and 'data-testid="link-qr"' in page
    response = client.get(f"/channels/codes/{code.pk}/qr.png")
    assert response.status_code == 200
    assert read_qr_modules(Image.open(io.BytesIO(response.content))) == qr_matrix(code.link_url)


def test_a_link_code_is_created_from_the_console_form(shop, login):
    from tests.channels.test_pages import form_data

    response = login(shop.members["planner"]).post("/channels/codes/new/", form_data(shop, kind="acquisition_link"))
    code = ChannelCode.objects.for_workspace(shop.workspace).get(name="静安寺店")
    assert response.status_code == 302 and code.kind == CodeKind.ACQUISITION_LINK and code.link_url


def test_the_api_creates_a_link_code_and_returns_its_url(shop, login):
    a = shop.accounts
    response = login(shop.members["planner"]).post("/api/channels/codes", {
        "name": "直播间链接", "touchpoint": "online_ad", "kind": "acquisition_link",
        "seats": [{"account_id": a["xiaowanzi01"].pk}]}, content_type="application/json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "acquisition_link" and "customer_channel=" in body["link_url"]
