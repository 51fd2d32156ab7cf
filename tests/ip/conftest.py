"""IP studio fixtures: uploads go to a temporary MEDIA_ROOT; helpers build valid personas."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from siyu.ip import services
from siyu.ip.models import Gender, Generation, MatrixLevel
from tests.conftest import seat


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def image_bytes(width: int = 96, height: int = 96, fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (240, 120, 160)).save(out, format=fmt)
    return out.getvalue()


def upload(content: bytes | None = None, name: str = "avatar.png", content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, image_bytes() if content is None else content, content_type=content_type)


def persona_input(**overrides: Any) -> services.PersonaInput:
    values: dict[str, Any] = {
        "name": "小完子", "gender": Gender.FEMALE, "company_role": "品牌体验官",
        "generation": Generation.BORN_95S, "value_offered": "分享真实好用的美妆心得和专属福利",
        "level": MatrixLevel.FRONTLINE,
    }
    values.update(overrides)
    return services.PersonaInput(**values)


def make_persona(brand: Any, avatar: Any = "default", **overrides: Any) -> Any:
    """A valid persona saved by the brand's planner."""
    planner = seat(brand.members["planner"], brand.workspace)
    return services.save_persona(brand.workspace, planner, persona_input(**overrides),
                                 upload() if avatar == "default" else avatar)
