"""The printable poster: 1080×1920, the persona's avatar and name, the code's real QR (read back
from the poster's pixels), Chinese text in a CJK font — or a clear refusal."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw

from siyu.accounts.models import StaffAccount
from siyu.channels.models import Welfare
from siyu.channels.services import qr
from siyu.ip import services as ip
from siyu.ip.models import MatrixLevel
from tests.channels.test_qr import code_with_twin_qr, code_with_url
from tests.conftest import free_port, seat
from tests.ip.conftest import persona_input
from tests.simulator.test_twin_qr import qr_matrix, read_qr_modules

MAIN_COLOUR = (240, 120, 160)
FRONTLINE_COLOUR = (40, 150, 90)


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def persona(brand: Any, name: str, colour: tuple[int, int, int], level: str) -> Any:
    out = io.BytesIO()
    Image.new("RGB", (200, 200), colour).save(out, format="PNG")
    avatar = SimpleUploadedFile("avatar.png", out.getvalue(), content_type="image/png")
    return ip.save_persona(brand.workspace, seat(brand.members["planner"], brand.workspace),
                           persona_input(name=name, level=level), avatar)


def poster_of(response: Any) -> Image.Image:
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "image/png"
    return Image.open(io.BytesIO(response.content))


def avatar_centre(image: Image.Image) -> tuple[int, int, int]:
    left, top, side = qr.POSTER_AVATAR_BOX
    return image.convert("RGB").getpixel((left + side // 2, top + side // 2))


def qr_area(image: Image.Image) -> Image.Image:
    left, top, side = qr.POSTER_QR_BOX
    return image.crop((left - 20, top - 20, left + side + 20, top + side + 20))


def test_the_poster_is_1080_by_1920_with_the_codes_qr_and_the_main_ips_avatar(brand_a, twin, login):
    persona(brand_a, "小完子", MAIN_COLOUR, MatrixLevel.MAIN)
    code = code_with_twin_qr(brand_a.workspace, twin)
    image = poster_of(login(brand_a.members["copywriter"]).get(f"/channels/codes/{code.pk}/poster.png"))
    assert image.size == (1080, 1920) and image.format == "PNG"
    assert read_qr_modules(qr_area(image)) == qr_matrix(f"{twin.url}/twin/scan/{code.config_id}")
    assert avatar_centre(image) == MAIN_COLOUR


def test_the_poster_shows_the_persona_of_the_codes_first_routed_account(brand_a, twin, login):
    main = persona(brand_a, "小完子", MAIN_COLOUR, MatrixLevel.MAIN)
    frontline = persona(brand_a, "小完子导购", FRONTLINE_COLOUR, MatrixLevel.FRONTLINE)
    StaffAccount.objects.create(workspace=brand_a.workspace, userid="xiaowanzi02", persona=frontline)
    StaffAccount.objects.create(workspace=brand_a.workspace, userid="xiaowanzi01", persona=main)
    code = code_with_twin_qr(brand_a.workspace, twin)
    code.routed_userids = ["xiaowanzi02", "xiaowanzi01"]
    code.save()
    image = poster_of(login(brand_a.admin).get(f"/channels/codes/{code.pk}/poster.png"))
    assert avatar_centre(image) == FRONTLINE_COLOUR


def test_a_poster_without_any_persona_still_carries_the_qr(brand_a, twin, login):
    code = code_with_twin_qr(brand_a.workspace, twin)
    code.welfare = Welfare.objects.create(workspace=brand_a.workspace, name="新人礼", kind="gift",
                                          description="添加即送旅行装小样一份，数量有限先到先得")
    code.save()
    image = poster_of(login(brand_a.admin).get(f"/channels/codes/{code.pk}/poster.png"))
    assert read_qr_modules(qr_area(image)) == qr_matrix(f"{twin.url}/twin/scan/{code.config_id}")
    left, top, side = qr.POSTER_AVATAR_BOX
    assert image.convert("RGB").getpixel((left + side // 2, top + 12)) == qr.POSTER_ACCENT  # an initial, no photo


def test_without_a_cjk_font_the_poster_is_refused_naming_the_package(brand_a, twin, login, monkeypatch):
    monkeypatch.setattr(qr, "CJK_FONT_CANDIDATES", [])
    monkeypatch.setattr(qr, "FC_LIST", "no-such-fc-list")
    code = code_with_twin_qr(brand_a.workspace, twin)
    response = login(brand_a.admin).get(f"/channels/codes/{code.pk}/poster.png")
    assert response.status_code == 503 and response["Content-Type"].startswith("text/html")
    assert "fonts-noto-cjk" in response.content.decode()


def test_a_poster_whose_qr_cannot_be_fetched_is_an_error_page_not_a_poster(brand_a, login):
    code = code_with_url(brand_a.workspace, f"http://127.0.0.1:{free_port()}/wwpic/0")
    response = login(brand_a.admin).get(f"/channels/codes/{code.pk}/poster.png")
    assert response.status_code == 502 and response["Content-Type"].startswith("text/html")


def test_the_font_found_draws_distinct_chinese_glyphs_not_boxes():
    found = qr.find_cjk_font()
    if found is None:
        pytest.skip("no CJK font on this machine: install fonts-noto-cjk")
    font = qr._font(found, 64)
    masks = []
    for text in ("南京", "福利"):
        canvas = Image.new("L", (160, 80), 0)
        ImageDraw.Draw(canvas).text((0, 0), text, font=font, fill=255)
        masks.append(canvas.tobytes())
    assert masks[0] != masks[1] and any(masks[0])


def test_the_merchandiser_may_not_download_a_poster(brand_a, twin, login):
    code = code_with_twin_qr(brand_a.workspace, twin)
    assert login(brand_a.members["merchandiser"]).get(f"/channels/codes/{code.pk}/poster.png").status_code == 403


def test_another_brands_poster_is_not_found(brand_a, brand_b, twin, login):
    code = code_with_twin_qr(brand_a.workspace, twin)
    assert login(brand_b.admin).get(f"/channels/codes/{code.pk}/poster.png").status_code == 404



# --- the headline: written by the ops team, else the persona's slogan, never the code's name ---

def test_the_headline_is_the_one_written_for_the_code(brand_a, twin):
    code = code_with_twin_qr(brand_a.workspace, twin)
    code.poster_headline = "到店扫码领新人礼"
    spec = qr.code_poster_spec(brand_a.workspace, code)
    assert spec.headline == "到店扫码领新人礼"


def test_without_a_headline_the_poster_uses_the_personas_slogan_not_the_codes_name(brand_a, twin):
    main = persona(brand_a, "小完子", MAIN_COLOUR, MatrixLevel.MAIN)
    main.slogan = "陪你把皮肤养好"
    main.save(update_fields=["slogan"])
    code = code_with_twin_qr(brand_a.workspace, twin, name="门店A-二楼收银台")
    spec = qr.code_poster_spec(brand_a.workspace, code)
    assert spec.headline == "陪你把皮肤养好" and spec.display_name == "小完子" and spec.persona == main
    assert "门店A" not in spec.headline + spec.detail + spec.call_to_action + spec.band


def test_without_a_slogan_the_headline_is_a_plain_invitation(brand_a, twin):
    code = code_with_twin_qr(brand_a.workspace, twin, name="门店A-二楼收银台")
    assert qr.code_poster_spec(brand_a.workspace, code).headline == qr.poster_headline(code, None)
    assert "门店A" not in qr.poster_headline(code, None)


def test_the_headline_is_saved_with_the_code_and_shown_on_its_page(shop, login):
    from siyu.channels.services import codes
    from tests.channels.conftest import code_input

    code = codes.create_code(shop.workspace, shop.planner, code_input(shop.accounts, poster_headline="  扫码 领券 "))
    assert code.poster_headline == "扫码 领券"
    page = login(shop.members["copywriter"]).get(f"/channels/codes/{code.pk}/").content.decode()
    assert "扫码 领券" in page
