"""A worker that dies between claiming a welcome send and recording WeCom's answer leaves the
welcome "sending"; the sweep records it as missed, with why, once the send can no longer be live."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone, translation

from siyu.accounts.models import StaffAccount
from siyu.channels.models import WelcomeStatus
from siyu.channels.services.welcome import (
    STUCK_AFTER,
    claim_welcome,
    open_welcome,
    sweep_stuck_welcomes,
)
from siyu.channels.timeline import ChannelTimeline
from siyu.customers import services as customers
from siyu.customers.models import FollowRelation, TimelineEntry
from tests.channels.conftest import welcome_of


def claimed_add(workspace, external: str, at: dt.datetime) -> FollowRelation:
    StaffAccount.objects.for_workspace(workspace).get_or_create(workspace=workspace, userid="xiaowanzi01")
    relation = customers.record_add(workspace, staff_userid="xiaowanzi01", external_userid=external,
                                    state="chstore", at=at)
    assert claim_welcome(open_welcome(workspace, relation))  # ...and the worker stops here
    return relation


def test_a_send_left_sending_by_a_dead_worker_is_recorded_as_missed_once(brand_a):
    workspace, now = brand_a.workspace, timezone.now()
    stuck = claimed_add(workspace, "wmSTUCK", now - STUCK_AFTER - dt.timedelta(seconds=1))
    in_flight = claimed_add(workspace, "wmLIVE", now - dt.timedelta(seconds=5))

    with translation.override("en"):
        assert sweep_stuck_welcomes(workspace, now) == 1
        assert sweep_stuck_welcomes(workspace, now) == 0

    assert welcome_of(stuck).status == WelcomeStatus.MISSED and "worker stopped" in welcome_of(stuck).note
    assert TimelineEntry.objects.for_workspace(workspace).filter(
        customer=stuck.customer, kind=ChannelTimeline.WELCOME_MISSED).count() == 1
    assert welcome_of(in_flight).status == WelcomeStatus.SENDING


def test_the_sweep_keeps_to_its_brand(brand_a, brand_b):
    claimed_add(brand_a.workspace, "wmSTUCK", timezone.now() - STUCK_AFTER - dt.timedelta(minutes=1))
    assert sweep_stuck_welcomes(brand_b.workspace) == 0
    assert sweep_stuck_welcomes(brand_a.workspace) == 1
