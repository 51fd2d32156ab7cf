"""Moments fixtures: a brand with a persona, two staff accounts and tags, materials to attach,
and (for the WeCom tests) the twin over real HTTP with the same staff and their customers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.utils import timezone

from siyu.accounts.models import StaffAccount
from siyu.content.models import Material
from siyu.ip.models import Persona
from siyu.moments import services
from siyu.moments.models import MomentPost
from siyu.tags.models import Tag, TagGroup
from tests.conftest import seat
from tests.content.conftest import image_material
from tests.simulator.twin import (
    RunningTwin,
    connect_brand,
    running_twin,
    tokens_in_memory,
    twin_config,
)

STAFF = ("staff0", "staff1")


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@dataclass
class Studio:
    brand: Any
    workspace: Any
    persona: Persona
    accounts: list[StaffAccount]
    tags: dict[str, Tag]
    image: Material
    materials: dict[str, Material] = field(default_factory=dict)

    def seat(self, role: str) -> Any:
        return seat(self.brand.members[role], self.workspace)

    def plan(self, at: dt.datetime, text: str = "今天也要美美哒", role: str = "copywriter",
             now: dt.datetime | None = None, **kw: Any) -> MomentPost:
        """A post planned at `at` (as if planned then, so a time now past is accepted)."""
        data = services.PostInput(persona_id=self.persona.pk, planned_at=at, text=text, **kw)
        return services.save_post(self.workspace, self.seat(role), data, now=now or min(at, timezone.now()))


def make_studio(brand: Any) -> Studio:
    ws = brand.workspace
    persona = Persona.objects.create(workspace=ws, name="小完子")
    accounts = [StaffAccount.objects.create(workspace=ws, userid=u, name=f"小完子{n}", persona=persona)
                for n, u in enumerate(STAFF)]
    group = TagGroup.objects.create(workspace=ws, name="意向", wecom_group_id="g-intent")
    tags = {n: Tag.objects.create(workspace=ws, group=group, name=n, wecom_tag_id=f"t-{n}") for n in ("高", "低")}
    return Studio(brand, ws, persona, accounts, tags, image_material(brand))


@pytest.fixture
def studio(brand_a: Any) -> Studio:
    return make_studio(brand_a)


@pytest.fixture
def twin(settings: Any) -> Iterator[RunningTwin]:
    with tokens_in_memory(settings), running_twin(twin_config()) as running:
        for userid in STAFF:
            running.add_staff(userid)
        yield running


@pytest.fixture
def connected(studio: Studio, twin: RunningTwin) -> Studio:
    """Three customers per staff member at the twin; the brand connected to it."""
    connect_brand(studio.workspace, twin)
    for n in range(6):
        twin.admin.post("/twin/customers/add", json={
            "external_userid": f"wm{n:04}", "name": f"客户{n}", "staff_userid": STAFF[n % 2]}).raise_for_status()
    return studio
