"""Rewards racing on PostgreSQL: 200 claims at once never take more than the stock, and one
participant's tier is claimed exactly once however many claims race for it. The server allows
100 connections (shared), so 50 threads start together on a barrier and each makes 4 claims."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

import pytest
from django.db import connection, connections
from django.utils import timezone

from siyu.customers.models import Customer
from siyu.fission import services
from siyu.fission.models import (
    Campaign,
    CampaignStatus,
    ClaimStatus,
    Fulfilment,
    Participant,
    RewardClaim,
    RewardTier,
)
from siyu.points.models import PointsEntry
from siyu.points.services import reconcile

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL only")

CLAIMS = 200
THREADS = 50


def _race(work: Callable[[int], object]) -> tuple[list[object], list[BaseException]]:
    start = threading.Barrier(THREADS)
    results: list[object] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(thread: int) -> None:
        try:
            start.wait()
            for n in range(thread, CLAIMS, THREADS):
                outcome = work(n)
                with lock:
                    results.append(outcome)
        except BaseException as exc:  # noqa: BLE001 - counted by the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors


def _campaign(ws, stock: int) -> tuple[Campaign, RewardTier]:
    now = timezone.now()
    campaign = Campaign.objects.create(workspace=ws, name="并发", starts_at=now - dt.timedelta(hours=1),
                                       ends_at=now + dt.timedelta(days=1), status=CampaignStatus.LIVE)
    tier = RewardTier.objects.create(workspace=ws, campaign=campaign, threshold=1, name="小样", stock=stock,
                                     initial_stock=stock, fulfilment=Fulfilment.POINTS, points=10)
    return campaign, tier


def _participants(ws, campaign: Campaign, n: int) -> list[Participant]:
    now = timezone.now()
    customers = Customer.unscoped.bulk_create([Customer(workspace=ws, external_userid=f"wmC{i:04}", name=f"客{i}",
                                                        avatar_url="https://img.example/a.png") for i in range(n)])
    return Participant.unscoped.bulk_create([Participant(workspace=ws, campaign=campaign, customer=c, joined_at=now,
                                                         counted=1) for c in customers])


def test_two_hundred_claims_never_take_more_than_the_stock(transactional_db, brand_a):
    ws = brand_a.workspace
    campaign, tier = _campaign(ws, stock=50)
    people = _participants(ws, campaign, CLAIMS)
    results, errors = _race(lambda n: services.claim(ws, people[n], tier))
    assert not errors, errors
    claims = RewardClaim.unscoped.filter(tier=tier)
    assert claims.count() == CLAIMS
    assert claims.filter(status=ClaimStatus.ISSUED).count() == 50
    assert claims.filter(status=ClaimStatus.OUT_OF_STOCK).count() == 150
    assert RewardTier.unscoped.get(pk=tier.pk).stock == 0
    assert PointsEntry.unscoped.filter(source_ref__startswith="fission:").count() == 50
    assert reconcile(ws).ok


def test_one_participants_tier_is_claimed_once_under_two_hundred_claims(transactional_db, brand_a):
    ws = brand_a.workspace
    campaign, tier = _campaign(ws, stock=50)
    [person] = _participants(ws, campaign, 1)
    results, errors = _race(lambda n: services.claim(ws, person, tier))
    assert not errors, errors
    assert sum(1 for _claim, new in results if new) == 1  # type: ignore[misc]
    assert RewardClaim.unscoped.filter(tier=tier).count() == 1
    assert RewardTier.unscoped.get(pk=tier.pk).stock == 49
    assert PointsEntry.unscoped.filter(source_ref__startswith="fission:").count() == 1
