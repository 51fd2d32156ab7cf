"""Staff-account fixtures: uploads go to a temporary MEDIA_ROOT; helpers build accounts,
personas, pictures drawn with Pillow, and a brand connected to a running WeCom twin."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw

from siyu.accounts.models import StaffAccount
from siyu.ip.demo import draw_avatar
from siyu.wecom.models import WeComConnection
from tests.ip.conftest import make_persona  # noqa: F401  (re-exported for the tests here)
from tests.simulator.twin import (
    AES_KEY,
    CORP_ID,
    SECRET,
    TOKEN,
    RunningTwin,
    running_twin,
    twin_config,
)


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def make_account(brand: Any, userid: str, **fields: Any) -> StaffAccount:
    values: dict[str, Any] = {"name": userid}
    values.update(fields)
    return StaffAccount.objects.create(workspace=brand.workspace, userid=userid, **values)


def draw_other_picture(size: int = 256) -> bytes:
    """A picture unlike the demo persona's face: diagonal stripes and a square."""
    image = Image.new("RGB", (size, size), (30, 60, 160))
    d = ImageDraw.Draw(image)
    for x in range(-size, size, 32):
        d.line([(x, 0), (x + size, size)], fill=(250, 250, 250), width=10)
    d.rectangle([size * 0.55, size * 0.1, size * 0.9, size * 0.45], fill=(240, 200, 40))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def as_jpeg(png: bytes, size: int = 180, quality: int = 70) -> bytes:
    """The same picture as WeCom would show it: resized and recompressed."""
    with Image.open(io.BytesIO(png)) as image:
        out = io.BytesIO()
        image.convert("RGB").resize((size, size)).save(out, format="JPEG", quality=quality)
    return out.getvalue()


def picture(content: bytes, name: str = "avatar.png", content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture
def twin() -> Iterator[RunningTwin]:
    with running_twin(twin_config()) as running:
        yield running


def connect_to_twin(brand: Any, twin: RunningTwin) -> WeComConnection:
    connection = WeComConnection(workspace=brand.workspace, corp_id=CORP_ID, agent_id="1000002",
                                 api_base=twin.api_base)
    connection.set_secrets(secret=SECRET, token=TOKEN, aes_key=AES_KEY)
    connection.save()
    return connection


@pytest.fixture
def connected(brand_a: Any, twin: RunningTwin) -> RunningTwin:
    """Brand alpha connected to a running twin."""
    connect_to_twin(brand_a, twin)
    return twin


def avatar_upload() -> SimpleUploadedFile:
    return picture(draw_avatar())
