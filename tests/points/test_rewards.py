"""Rewards: a welfare code issued once from its pool, goods waiting to ship, stock and points
taken together or not at all; manual adjustments by the ops lead."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from siyu.channels.models import WelfareGrant
from siyu.core.models import AuditEntry
from siyu.points import services
from siyu.points.models import Redemption, RedemptionState, Source
from tests.conftest import seat
from tests.points.conftest import SHANGHAI_NOON, code_reward, goods_reward

pytestmark = pytest.mark.django_db


def _rich(ws, customer, points=100):
    services.grant(ws, customer, points, Source.ACTIVITY, f"rich:{customer.pk}", now=SHANGHAI_NOON)


def test_a_code_reward_spends_the_points_and_issues_one_code_from_the_pool(brand_a, customer):
    ws = brand_a.workspace
    _rich(ws, customer)
    reward = code_reward(ws, cost=30)
    redemption = services.redeem(ws, customer.pk, reward.pk, "k1", SHANGHAI_NOON)
    assert redemption.state == RedemptionState.ISSUED and redemption.grant.code.code.startswith("HM-")
    assert services.balance_of(ws, customer.pk) == 70
    assert services.redeem(ws, customer.pk, reward.pk, "k1", SHANGHAI_NOON).pk == redemption.pk  # a double tap
    with pytest.raises(services.PointsError):  # one code of a welfare per customer
        services.redeem(ws, customer.pk, reward.pk, "k2", SHANGHAI_NOON)
    assert services.balance_of(ws, customer.pk) == 70 and WelfareGrant.objects.for_workspace(ws).count() == 1
    assert services.reconcile(ws).ok


def test_an_empty_code_pool_refunds_nothing_because_nothing_was_spent(brand_a, customer):
    ws = brand_a.workspace
    _rich(ws, customer)
    reward = code_reward(ws, codes=0, cost=30)
    with pytest.raises(services.OutOfStock):
        services.redeem(ws, customer.pk, reward.pk, "k1", SHANGHAI_NOON)
    reward.refresh_from_db()
    assert services.balance_of(ws, customer.pk) == 100 and reward.redeemed == 0
    assert not Redemption.unscoped.exists() and services.reconcile(ws).ok


def test_goods_wait_to_ship_and_stock_runs_out(brand_a, customer):
    ws = brand_a.workspace
    _rich(ws, customer)
    reward = goods_reward(ws, cost=10, stock=2)
    first = services.redeem(ws, customer.pk, reward.pk, "a", SHANGHAI_NOON)
    services.redeem(ws, customer.pk, reward.pk, "b", SHANGHAI_NOON)
    with pytest.raises(services.OutOfStock):
        services.redeem(ws, customer.pk, reward.pk, "c", SHANGHAI_NOON)
    assert first.state == RedemptionState.TO_SHIP and services.balance_of(ws, customer.pk) == 80
    services.mark_shipped(ws, seat(brand_a.members["customer_ops"], ws), first.pk)
    first.refresh_from_db()
    assert first.state == RedemptionState.SHIPPED


def test_not_enough_points_redeems_nothing(brand_a, customer):
    ws = brand_a.workspace
    reward = goods_reward(ws, cost=10, stock=1)
    with pytest.raises(services.NotEnoughPoints):
        services.redeem(ws, customer.pk, reward.pk, "a", SHANGHAI_NOON)
    reward.refresh_from_db()
    assert reward.redeemed == 0 and not Redemption.unscoped.exists()


def test_only_the_ops_lead_and_admins_adjust_and_it_is_audited(brand_a, customer):
    ws = brand_a.workspace
    services.adjust(ws, seat(brand_a.members["ops_lead"], ws), customer.pk, 50, "活动补发", SHANGHAI_NOON)
    services.adjust(ws, seat(brand_a.admin, ws), customer.pk, -20, "误发扣回", SHANGHAI_NOON)
    assert services.balance_of(ws, customer.pk) == 30
    assert AuditEntry.objects.for_workspace(ws).filter(module="points").count() == 2
    for role in ("planner", "customer_ops", "copywriter", "data_analyst", "merchandiser"):
        with pytest.raises(PermissionDenied):
            services.adjust(ws, seat(brand_a.members[role], ws), customer.pk, 5, "x", SHANGHAI_NOON)
    with pytest.raises(ValidationError):
        services.adjust(ws, seat(brand_a.admin, ws), customer.pk, 0, "", SHANGHAI_NOON)
    with pytest.raises(services.NotEnoughPoints):
        services.adjust(ws, seat(brand_a.admin, ws), customer.pk, -31, "too much", SHANGHAI_NOON)
