"""The double-entry ledger: grants once per ref, FIFO spends, expiry by rule, exact reconciliation."""

from __future__ import annotations

import datetime as dt

import pytest

from siyu.points import services
from siyu.points.models import (
    Account,
    ExpiryRule,
    PointsEntry,
    PointsLine,
    PointsPolicy,
    PointsWallet,
    Source,
)
from tests.points.conftest import SHANGHAI_NOON, make_customer

pytestmark = pytest.mark.django_db
NOW = SHANGHAI_NOON


def test_a_grant_is_a_balanced_pair_between_the_wallet_and_the_issued_account(brand_a, customer):
    ws = brand_a.workspace
    granted = services.grant(ws, customer, 40, Source.INVITATION, "invite:1", reason="邀请好友", now=NOW)
    assert granted.new and services.balance_of(ws, customer.pk) == 40
    lines = {line.account: line.amount for line in PointsLine.unscoped.filter(entry=granted.entry)}
    assert lines == {Account.WALLET: 40, Account.ISSUED: -40}
    assert services.reconcile(ws).ok


def test_granting_twice_for_the_same_ref_credits_once(brand_a, customer):
    ws = brand_a.workspace
    first = services.grant(ws, customer, 5, Source.CHECKIN, "c:1", now=NOW)
    second = services.grant(ws, customer, 5, Source.CHECKIN, "c:1", now=NOW)
    assert not second.new and second.entry.pk == first.entry.pk
    assert services.balance_of(ws, customer.pk) == 5 and PointsEntry.unscoped.count() == 1


def test_a_spend_takes_the_oldest_lots_first_and_never_overspends(brand_a, customer):
    ws = brand_a.workspace
    old = services.grant(ws, customer, 10, Source.ACTIVITY, "a:1", now=NOW).entry
    new = services.grant(ws, customer, 10, Source.ACTIVITY, "a:2", now=NOW + dt.timedelta(days=1)).entry
    services.spend(ws, customer, 15, Source.REDEMPTION, "r:1", now=NOW + dt.timedelta(days=2))
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.remaining, new.remaining) == (0, 5)
    with pytest.raises(services.NotEnoughPoints):
        services.spend(ws, customer, 6, Source.REDEMPTION, "r:2", now=NOW + dt.timedelta(days=2))
    assert services.balance_of(ws, customer.pk) == 5 and services.reconcile(ws).ok


def test_lots_expire_n_days_after_the_grant_once(brand_a, customer):
    ws = brand_a.workspace
    PointsPolicy.objects.create(workspace=ws, expiry=ExpiryRule.DAYS, expire_days=30)
    services.grant(ws, customer, 10, Source.CHECKIN, "c:1", now=NOW)
    services.grant(ws, customer, 7, Source.CHECKIN, "c:2", now=NOW + dt.timedelta(days=10))
    services.spend(ws, customer, 4, Source.REDEMPTION, "r:1", now=NOW + dt.timedelta(days=11))
    assert services.expire_due(ws, NOW + dt.timedelta(days=29)) == 0
    assert services.expire_due(ws, NOW + dt.timedelta(days=30)) == 6  # what is left of the first lot
    assert services.expire_due(ws, NOW + dt.timedelta(days=30)) == 0  # idempotent
    assert services.balance_of(ws, customer.pk) == 7
    expired = PointsEntry.unscoped.get(source=Source.EXPIRY)
    assert expired.amount == -6 and expired.lot.source_ref == "c:1"
    assert services.reconcile(ws).ok


def test_year_end_expiry_is_the_end_of_the_next_year_in_shanghai(brand_a):
    policy = PointsPolicy(workspace=brand_a.workspace, expiry=ExpiryRule.YEAR_END)
    late = dt.datetime(2026, 12, 31, 17, 0, tzinfo=dt.UTC)  # 2027-01-01 01:00 in Beijing
    assert services.expiry_for(policy, late).isoformat() == "2029-01-01T00:00:00+08:00"
    assert services.expiry_for(policy, NOW).isoformat() == "2028-01-01T00:00:00+08:00"


def test_reconcile_finds_a_cached_balance_that_drifted(brand_a, customer):
    ws = brand_a.workspace
    services.grant(ws, customer, 10, Source.CHECKIN, "c:1", now=NOW)
    PointsWallet.unscoped.filter(customer=customer).update(balance=11)
    result = services.reconcile(ws)
    assert not result.ok and "balance 11, entries 10, lots 10" in result.problems[0]


def test_ledgers_of_two_brands_are_apart(brand_a, brand_b):
    a, b = make_customer(brand_a.workspace), make_customer(brand_b.workspace)
    services.grant(brand_a.workspace, a, 10, Source.CHECKIN, "same-ref", now=NOW)
    services.grant(brand_b.workspace, b, 3, Source.CHECKIN, "same-ref", now=NOW)  # refs are per brand
    assert services.balance_of(brand_a.workspace, a.pk) == 10 and services.balance_of(brand_b.workspace, b.pk) == 3
    assert services.balance_of(brand_b.workspace, a.pk) == 0
    assert services.reconcile(brand_a.workspace).ok and services.reconcile(brand_b.workspace).ok
