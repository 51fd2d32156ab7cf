"""The twin's contact-way QR: an image on the twin's own URL that encodes its scan page, and the
scan page adds a customer through the contact way as a scan in WeCom does."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
import segno
from PIL import Image

from tests.simulator.twin import RunningTwin, running_twin, twin_config


def read_qr_modules(image: Image.Image) -> list[list[bool]]:
    """The dark/light modules of the one QR symbol in `image`, read from its pixels.

    The symbol's box is the bounding box of the dark pixels; the top-left finder pattern's first
    row is 7 modules wide, which gives the module size; each module is read at its centre. Any
    scale, quiet zone or surrounding (a poster) works, as long as the QR is axis-aligned."""
    grey = image.convert("L")
    dark = grey.point(lambda v: 255 if v < 128 else 0)
    box = dark.getbbox()
    assert box is not None, "no dark pixels: no QR in the image"
    left, top, right, bottom = box
    run = 0
    while left + run < right and grey.getpixel((left + run, top)) < 128:
        run += 1
    module = run / 7
    count = round((right - left) / module)
    assert count >= 21 and (count - 21) % 4 == 0, f"{count} modules is not a QR size"
    return [
        [grey.getpixel((int(left + (x + 0.5) * module), int(top + (y + 0.5) * module))) < 128
         for x in range(count)]
        for y in range(count)
    ]


def qr_matrix(content: str) -> list[list[bool]]:
    """The modules of the QR the twin makes for `content` (error level M), without quiet zone."""
    return [[bool(v) for v in row] for row in segno.make(content, error="m", micro=False).matrix]


@pytest.fixture
def twin() -> Iterator[RunningTwin]:
    with running_twin(twin_config()) as running:
        running.add_staff("zhangsan")
        yield running


def made_way(twin: RunningTwin, **fields: object) -> dict[str, object]:
    body = {"type": 1, "scene": 2, "user": ["zhangsan"], "state": "store01", **fields}
    made = twin.api("externalcontact/add_contact_way", json=body)
    assert made["errcode"] == 0, made
    return made


def test_a_qr_contact_way_gets_an_image_url_on_the_twin(twin):
    made = made_way(twin)
    assert made["qr_code"] == f"{twin.url}/twin/qr/{made['config_id']}.png"


def test_the_qr_url_serves_a_png_that_encodes_the_scan_url(twin):
    made = made_way(twin)
    response = twin.admin.get(str(made["qr_code"]))
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "PNG"
    modules = read_qr_modules(image)
    assert modules == qr_matrix(f"{twin.url}/twin/scan/{made['config_id']}")
    assert modules != qr_matrix(f"{twin.url}/twin/scan/someotherconfig")


def test_a_mini_program_contact_way_has_no_qr_image(twin):
    made = made_way(twin, scene=1)
    assert "qr_code" not in made
    assert twin.admin.get(f"/twin/qr/{made['config_id']}.png").status_code == 404


def test_an_unknown_qr_is_not_found(twin):
    assert twin.admin.get("/twin/qr/0123456789abcdef.png").status_code == 404


def test_the_scan_page_adds_a_customer_through_the_contact_way(twin):
    made = made_way(twin)
    page = twin.admin.get(f"/twin/scan/{made['config_id']}")
    assert page.status_code == 200 and "<form" in page.text
    added = twin.admin.post(f"/twin/scan/{made['config_id']}", data={"name": "扫码客"})
    assert added.status_code == 201
    assert "zhangsan" in added.text
    friends = twin.state()["friendships"]
    assert [(f["userid"], f["state"]) for f in friends] == [("zhangsan", "store01")]


def test_the_scan_page_without_a_name_adds_nobody(twin):
    made = made_way(twin)
    refused = twin.admin.post(f"/twin/scan/{made['config_id']}", data={"name": "  "})
    assert refused.status_code == 400 and "name is required" in refused.text
    assert twin.state()["friendships"] == []
