"""WeCom media ids against the twin over real HTTP: uploaded once, reused while valid, uploaded
again when less than the margin is left or after the 3 days, and moments use their own upload."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from siyu.content import services
from siyu.content.models import MaterialMedia
from siyu.wecom.client import Attachment, MassMessageSpec, WeComError
from siyu.wecom.models import ApiCall
from siyu.wecom.services import NotConnected, client_for
from tests.content.conftest import image_material, text_material
from tests.simulator.twin import (
    RunningTwin,
    connect_brand,
    running_twin,
    tokens_in_memory,
    twin_config,
)

DAY = dt.timedelta(days=1)


@pytest.fixture(autouse=True)
def _local_cache(settings: Any) -> Iterator[None]:
    with tokens_in_memory(settings):
        yield


@pytest.fixture
def twin(brand_a) -> Iterator[RunningTwin]:
    with running_twin(twin_config()) as running:
        running.add_staff("xiaowanzi01")
        running.admin.post("/twin/customers/add", json={"external_userid": "wmMedia", "name": "王小雨",
                                                        "staff_userid": "xiaowanzi01"}).raise_for_status()
        connect_brand(brand_a.workspace, running)
        yield running


def uploads(brand, endpoint="media/upload") -> int:
    return ApiCall.objects.for_workspace(brand.workspace).filter(endpoint=endpoint).count()


def mass_message_with(brand, media_id: str) -> str:
    spec = MassMessageSpec(external_userid=["wmMedia"], sender="xiaowanzi01",
                           attachments=[Attachment.of_image(media_id)])
    with client_for(brand.workspace) as client:
        return client.add_mass_message(spec).msgid


def test_a_media_id_is_uploaded_once_and_reused_while_valid(brand_a, twin):
    material = image_material(brand_a)
    first = services.media_id_for(brand_a.workspace, material, "message")
    assert services.media_id_for(brand_a.workspace, material, "message") == first
    assert uploads(brand_a) == 1
    assert mass_message_with(brand_a, first)  # the twin takes it
    row = MaterialMedia.objects.for_workspace(brand_a.workspace).get()
    assert row.expires_at - row.uploaded_at == 3 * DAY


def test_an_expired_media_id_is_uploaded_again_and_the_new_one_works(brand_a, twin):
    material = image_material(brand_a)
    old = services.media_id_for(brand_a.workspace, material, "message")
    twin.advance(3 * 24 * 3600 + 60)
    with pytest.raises(WeComError) as expired:
        mass_message_with(brand_a, old)
    assert expired.value.errcode == 40007
    later = timezone.now() + 3 * DAY + dt.timedelta(minutes=1)
    new = services.media_id_for(brand_a.workspace, material, "message", now=later)
    assert new != old and uploads(brand_a) == 2
    assert mass_message_with(brand_a, new)


def test_a_media_id_with_less_than_the_margin_left_is_refreshed(brand_a, twin):
    material = image_material(brand_a)
    first = services.media_id_for(brand_a.workspace, material, "message")
    row = MaterialMedia.objects.for_workspace(brand_a.workspace).get()
    still_fine = row.expires_at - services.REFRESH_MARGIN - dt.timedelta(minutes=1)
    assert services.media_id_for(brand_a.workspace, material, "message", now=still_fine) == first
    too_close = row.expires_at - services.REFRESH_MARGIN + dt.timedelta(minutes=1)
    assert services.media_id_for(brand_a.workspace, material, "message", now=too_close) != first
    assert MaterialMedia.objects.for_workspace(brand_a.workspace).count() == 1


def test_moments_use_upload_attachment_in_a_row_of_their_own(brand_a, twin):
    material = image_material(brand_a)
    message = services.media_id_for(brand_a.workspace, material, "message")
    moment = services.media_id_for(brand_a.workspace, material, "moment")
    assert message != moment and uploads(brand_a, "media/upload_attachment") == 1
    assert set(MaterialMedia.objects.for_workspace(brand_a.workspace).values_list("purpose", flat=True)) == {
        "message", "moment"}


def test_a_text_material_has_no_media_and_an_unconnected_brand_cannot_upload(brand_a, brand_b):
    with pytest.raises(ValidationError):
        services.media_id_for(brand_a.workspace, text_material(brand_a), "message")
    with pytest.raises(NotConnected):
        services.media_id_for(brand_b.workspace, image_material(brand_b), "message")
