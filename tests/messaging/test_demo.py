"""The demo's 群发: sent once to a demo segment with members, and never twice."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone

from siyu.messaging import demo, tasks
from siyu.messaging.models import MassMessage, MassStatus
from siyu.segments.models import Segment, SegmentKind, SegmentMember
from tests.messaging.conftest import make_customer
from tests.simulator.twin import (
    RunningTwin,
    connect_brand,
    running_twin,
    tokens_in_memory,
    twin_config,
)


@pytest.fixture
def twin(settings: Any) -> Iterator[RunningTwin]:
    with tokens_in_memory(settings), running_twin(twin_config()) as running:
        running.add_staff("staff0")
        yield running


def test_the_demo_sends_one_mass_message_to_a_demo_segment_once(shop, twin, django_capture_on_commit_callbacks):
    ws = shop.workspace
    with django_capture_on_commit_callbacks() as later:
        demo.seed(ws)  # no demo segment with members yet: the worker looks again in two minutes
    assert len(later) == 1
    assert not MassMessage.objects.for_workspace(ws).exists()
    connect_brand(ws, twin)
    segment = Segment.objects.create(workspace=ws, name="门店新客", kind=SegmentKind.STATIC, member_count=2)
    for n in range(2):
        twin.admin.post("/twin/customers/add", json={"external_userid": f"wm{n}", "name": f"wm{n}",
                                                     "staff_userid": "staff0"}).raise_for_status()
        customer = make_customer(shop, f"wm{n}")
        SegmentMember.objects.create(workspace=ws, segment=segment, customer=customer, added_at=timezone.now())
    demo.seed(ws)
    demo.seed(ws)
    [message] = MassMessage.objects.for_workspace(ws)
    assert message.status == MassStatus.SCHEDULED and message.planned_count == 2
    tasks.tick_brand.call(ws.pk)
    [task] = twin.state()["mass_tasks"]
    assert len(task["sends"]) == 2 and task["text"] == demo.DEMO_TEXT
