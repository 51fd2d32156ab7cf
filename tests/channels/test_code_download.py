"""QR thumbnails in the code list (small, lazy, cached) and batch download: the checked codes'
QR PNGs or posters in one zip, each named after its code."""

from __future__ import annotations

import io
import zipfile

from PIL import Image

from siyu.channels.services import qr
from tests.channels.test_qr import code_with_twin_qr, code_with_url


def test_the_list_shows_a_lazy_thumbnail_for_each_code_with_a_qr(brand_a, twin, login):
    code = code_with_twin_qr(brand_a.workspace, twin)
    code_with_url(brand_a.workspace, "", name="没有二维码")
    page = login(brand_a.members["copywriter"]).get("/channels/").content.decode()
    assert page.count('data-testid="qr-thumbnail"') == 1
    assert f'src="/channels/codes/{code.pk}/qr-thumbnail.png"' in page and 'loading="lazy"' in page


def test_a_thumbnail_is_a_small_png_kept_in_the_cache(brand_a, twin, login):
    code = code_with_twin_qr(brand_a.workspace, twin)
    client = login(brand_a.members["copywriter"])
    response = client.get(f"/channels/codes/{code.pk}/qr-thumbnail.png")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert "max-age" in response["Cache-Control"]
    assert Image.open(io.BytesIO(response.content)).size == (qr.THUMBNAIL_SIDE, qr.THUMBNAIL_SIDE)
    twin.api("externalcontact/del_contact_way", json={"config_id": code.config_id})  # its image is gone now
    again = client.get(f"/channels/codes/{code.pk}/qr-thumbnail.png")
    assert again.status_code == 200 and again.content == response.content


def test_a_code_without_a_qr_has_no_thumbnail(brand_a, login):
    code = code_with_url(brand_a.workspace, "")
    assert login(brand_a.members["copywriter"]).get(f"/channels/codes/{code.pk}/qr-thumbnail.png").status_code == 409


def zip_of(response) -> zipfile.ZipFile:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/zip" and "attachment" in response["Content-Disposition"]
    return zipfile.ZipFile(io.BytesIO(response.content))


def test_checked_codes_download_as_one_zip_of_pngs_named_by_code(brand_a, twin, login):
    first = code_with_twin_qr(brand_a.workspace, twin, name="南京西路店")
    second = code_with_twin_qr(brand_a.workspace, twin, name="静安寺店")
    code_with_twin_qr(brand_a.workspace, twin, name="没勾选")
    response = login(brand_a.members["copywriter"]).post(
        "/channels/codes/download/", {"code": [first.pk, second.pk], "what": "qr"})
    archive = zip_of(response)
    assert sorted(archive.namelist()) == ["南京西路店-二维码.png", "静安寺店-二维码.png"]
    assert Image.open(io.BytesIO(archive.read("静安寺店-二维码.png"))).format == "PNG"


def test_a_code_without_a_qr_is_named_in_the_zip_with_the_reason(brand_a, twin, login):
    good = code_with_twin_qr(brand_a.workspace, twin)
    missing = code_with_url(brand_a.workspace, "", name="包裹卡")
    archive = zip_of(login(brand_a.members["copywriter"]).post(
        "/channels/codes/download/", {"code": [good.pk, missing.pk]}))
    assert "南京西路店-二维码.png" in archive.namelist()
    note = archive.read("未包含.txt").decode()
    assert note.startswith("包裹卡: ") and "二维码" in note


def test_checked_codes_download_as_posters(brand_a, twin, login):
    code = code_with_twin_qr(brand_a.workspace, twin)
    archive = zip_of(login(brand_a.members["copywriter"]).post(
        "/channels/codes/download/", {"code": [code.pk], "what": "poster"}))
    [name] = archive.namelist()
    assert name == "南京西路店-海报.png"
    assert Image.open(io.BytesIO(archive.read(name))).size == qr.POSTER_SIZE


def test_nothing_checked_returns_to_the_list_with_a_message(brand_a, login):
    client = login(brand_a.members["copywriter"])
    response = client.post("/channels/codes/download/", {"back_group": "none"})
    assert response.status_code == 302 and response["Location"] == "/channels/?group=none"
    assert "至少勾选一个" in client.get(response["Location"]).content.decode()


def test_another_brands_codes_are_not_downloaded(brand_a, brand_b, twin, login):
    theirs = code_with_twin_qr(brand_b.workspace, twin)
    response = login(brand_a.members["copywriter"]).post("/channels/codes/download/", {"code": [theirs.pk]})
    assert response.status_code == 302


def test_the_merchandiser_may_not_download_codes(brand_a, twin, login):
    code = code_with_twin_qr(brand_a.workspace, twin)
    response = login(brand_a.members["merchandiser"]).post("/channels/codes/download/", {"code": [code.pk]})
    assert response.status_code == 403
