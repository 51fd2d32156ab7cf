"""QR downloads: the code's own QR, fetched from the image URL WeCom (here the twin) gave for its
contact way, served as a PNG named after the code; when it cannot be had, a page that says why."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.utils import translation
from PIL import Image

from siyu.channels.models import ChannelCode
from siyu.channels.services import qr
from tests.conftest import free_port, seat
from tests.simulator.test_twin_qr import qr_matrix, read_qr_modules
from tests.simulator.twin import RunningTwin


def code_with_twin_qr(workspace: Any, twin: RunningTwin, name: str = "南京西路店") -> ChannelCode:
    """A channel code whose contact way was made at the twin, as `create_code` stores it."""
    made = twin.api("externalcontact/add_contact_way",
                    json={"type": 1, "scene": 2, "user": ["xiaowanzi01"], "state": f"st{name.__hash__() & 0xffff}"})
    assert made["errcode"] == 0, made
    return ChannelCode.objects.create(workspace=workspace, name=name, touchpoint="store",
                                      state=f"st{name.__hash__() & 0xffff}", config_id=made["config_id"],
                                      qr_code_url=made["qr_code"])


def code_with_url(workspace: Any, url: str, name: str = "包裹卡") -> ChannelCode:
    return ChannelCode.objects.create(workspace=workspace, name=name, touchpoint="parcel_card", state="parcel01",
                                      qr_code_url=url)


def test_the_qr_download_is_the_twins_png_named_after_the_code(brand_a, twin, login):
    code = code_with_twin_qr(brand_a.workspace, twin)
    response = login(brand_a.members["copywriter"]).get(f"/channels/codes/{code.pk}/qr.png")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert "attachment" in response["Content-Disposition"]
    assert "%E5%8D%97%E4%BA%AC%E8%A5%BF%E8%B7%AF%E5%BA%97" in response["Content-Disposition"]  # 南京西路店
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "PNG"
    assert read_qr_modules(image) == qr_matrix(f"{twin.url}/twin/scan/{code.config_id}")


def test_an_unreachable_qr_address_gives_a_page_that_says_so(brand_a, login):
    code = code_with_url(brand_a.workspace, f"http://127.0.0.1:{free_port()}/wwpic/0")
    response = login(brand_a.admin).get(f"/channels/codes/{code.pk}/qr.png")
    assert response.status_code == 502 and response["Content-Type"].startswith("text/html")
    assert "ConnectError" in response.content.decode()  # the reason, whatever the language


def test_an_error_answer_from_the_image_server_is_reported_with_its_status(brand_a, twin, login):
    code = code_with_url(brand_a.workspace, f"{twin.url}/twin/qr/ffffffffffffffffffffffffffffffff.png")
    response = login(brand_a.admin).get(f"/channels/codes/{code.pk}/qr.png")
    assert response.status_code == 502 and "404" in response.content.decode()


def test_something_that_is_not_an_image_is_refused(brand_a, twin):
    code = code_with_url(brand_a.workspace, f"{twin.url}/twin/state")
    with translation.override("en"), pytest.raises(qr.QrUnavailable) as refused:
        qr.code_qr(brand_a.workspace, seat(brand_a.admin, brand_a.workspace), code.pk)
    assert refused.value.status == 502 and "not an image" in refused.value.reason


def test_an_image_over_the_size_cap_is_refused(brand_a, twin, monkeypatch):
    code = code_with_twin_qr(brand_a.workspace, twin)
    monkeypatch.setattr(qr, "MAX_QR_BYTES", 200)
    with translation.override("en"), pytest.raises(qr.QrUnavailable) as refused:
        qr.code_qr(brand_a.workspace, seat(brand_a.admin, brand_a.workspace), code.pk)
    assert "larger than" in refused.value.reason


def test_a_code_without_a_contact_way_qr_says_so_and_draws_nothing(brand_a, login):
    code = code_with_url(brand_a.workspace, "")
    response = login(brand_a.admin).get(f"/channels/codes/{code.pk}/qr.png")
    assert response.status_code == 409 and response["Content-Type"].startswith("text/html")
    assert "包裹卡" in response.content.decode()


def test_the_merchandiser_may_not_download_a_qr(brand_a, twin, login):
    code = code_with_twin_qr(brand_a.workspace, twin)
    response = login(brand_a.members["merchandiser"]).get(f"/channels/codes/{code.pk}/qr.png")
    assert response.status_code == 403 and response["Content-Type"].startswith("text/html")


def test_another_brands_qr_is_not_found(brand_a, brand_b, twin, login):
    code = code_with_twin_qr(brand_a.workspace, twin)
    assert login(brand_b.admin).get(f"/channels/codes/{code.pk}/qr.png").status_code == 404


def test_the_qr_page_needs_a_sign_in(brand_a, client):
    code = code_with_url(brand_a.workspace, "")
    assert client.get(f"/channels/codes/{code.pk}/qr.png").status_code == 302
