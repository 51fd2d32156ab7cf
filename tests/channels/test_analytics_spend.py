"""`add_spend`: a code's cost over a period, in yuan with at most two decimals, stored in fen."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from siyu.channels.models import ChannelCode, ChannelSpend
from siyu.channels.services import analytics
from tests.channels.test_analytics import make_code
from tests.conftest import seat

MARCH_1, MARCH_31 = dt.date(2025, 3, 1), dt.date(2025, 3, 31)


def planner(brand):
    return seat(brand.members["planner"], brand.workspace)


@pytest.mark.parametrize("amount, fen", [("1280.5", 128_050), (Decimal("0.01"), 1), (300, 30_000), ("12.300", 1_230)])
def test_spend_in_yuan_is_stored_in_fen(brand_a, amount, fen):
    code = make_code(brand_a.workspace, "抖音信息流", "online_ad")
    saved = analytics.add_spend(brand_a.workspace, planner(brand_a), code.pk, MARCH_1, MARCH_31, amount)
    assert (saved.code_id, saved.start, saved.end, saved.amount_fen) == (code.pk, MARCH_1, MARCH_31, fen)


def test_every_problem_is_reported_at_once_on_its_field(brand_a):
    code = make_code(brand_a.workspace, "抖音信息流", "online_ad")
    with pytest.raises(ValidationError) as refused:
        analytics.add_spend(brand_a.workspace, planner(brand_a), code.pk, MARCH_31, MARCH_1, "1.001")
    assert set(refused.value.message_dict) == {"amount_yuan", "end"}
    assert not ChannelSpend.objects.for_workspace(brand_a.workspace).exists()


@pytest.mark.parametrize("amount", ["0", "-1", "abc", "NaN", "Infinity", "1e12", ""])
def test_amounts_that_are_not_a_positive_yuan_figure_are_refused(brand_a, amount):
    code = make_code(brand_a.workspace, "抖音信息流", "online_ad")
    with pytest.raises(ValidationError) as refused:
        analytics.add_spend(brand_a.workspace, planner(brand_a), code.pk, MARCH_1, MARCH_31, amount)
    assert "amount_yuan" in refused.value.message_dict


def test_a_one_day_period_is_fine(brand_a):
    code = make_code(brand_a.workspace, "抖音信息流", "online_ad")
    assert analytics.add_spend(brand_a.workspace, planner(brand_a), code.pk, MARCH_1, MARCH_1, "5").amount_fen == 500


@pytest.mark.parametrize("role", ["data_analyst", "copywriter", "customer_ops", "merchandiser"])
def test_roles_that_may_not_edit_channels_may_not_enter_spend(brand_a, role):
    code = make_code(brand_a.workspace, "抖音信息流", "online_ad")
    with pytest.raises(PermissionDenied):
        analytics.add_spend(brand_a.workspace, seat(brand_a.members[role], brand_a.workspace), code.pk,
                            MARCH_1, MARCH_31, "10")


def test_another_brands_code_is_not_found(brand_a, brand_b):
    theirs = make_code(brand_a.workspace, "抖音信息流", "online_ad")
    with pytest.raises(ChannelCode.DoesNotExist):
        analytics.add_spend(brand_b.workspace, planner(brand_b), theirs.pk, MARCH_1, MARCH_31, "10")
