"""Content fixtures: uploads go to a temporary MEDIA_ROOT; helpers make pictures, seats and a
persona with a voice."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from siyu.content import services
from siyu.content.models import MaterialKind
from siyu.ip.models import Persona
from tests.conftest import seat


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def png(size: tuple[int, int] = (32, 32)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (255, 120, 160)).save(out, format="PNG")
    return out.getvalue()


def png_file(name: str = "p.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png(), content_type="image/png")


MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64


def seat_of(brand: Any, role: str) -> Any:
    return seat(brand.members[role], brand.workspace)


def text_material(brand: Any, title: str = "见面礼", text: str = "宝子你好呀～", **kw: Any) -> Any:
    return services.save_material(brand.workspace, seat_of(brand, "copywriter"),
                                  services.MaterialInput(kind=MaterialKind.TEXT, title=title, text=text, **kw))


def image_material(brand: Any, title: str = "产品图") -> Any:
    return services.save_material(brand.workspace, seat_of(brand, "copywriter"),
                                  services.MaterialInput(kind=MaterialKind.IMAGE, title=title), file=png_file())


def link_material(brand: Any, title: str = "详情页", url: str = "https://shop.example.com/p/1") -> Any:
    return services.save_material(brand.workspace, seat_of(brand, "copywriter"),
                                  services.MaterialInput(kind=MaterialKind.LINK, title=title, url=url))


def voiced_persona(brand: Any, name: str = "小完子") -> Persona:
    return Persona.objects.create(workspace=brand.workspace, name=name, catchphrases=["宝子们看过来"],
                                  tone_markers=["呀", "哦", "啦", "~"], forbidden_words=["全网最低"])
