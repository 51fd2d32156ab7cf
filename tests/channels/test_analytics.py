"""Channel analytics on hand-built follow relations, grants and spend: adds, deletions by whom,
net, retention cohorts, prorated cost, ranking, and the number of queries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from itertools import count
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from siyu.accounts.models import StaffAccount
from siyu.channels.models import ChannelCode, ChannelSpend, Welfare, WelfareGrant
from siyu.channels.services import analytics
from siyu.channels.services.analytics import DateRange
from siyu.customers.models import Customer, DeletedBy, FollowRelation
from tests.conftest import seat

SHANGHAI = analytics.SHANGHAI
NOW = dt.datetime(2025, 3, 20, 12, 0, tzinfo=SHANGHAI)
MARCH = DateRange(dt.date(2025, 3, 1), dt.date(2025, 3, 20))
_serial = count(1)


# --- factories -------------------------------------------------------------------------------

def at(day: int, hour: int = 10, minute: int = 0, month: int = 3) -> dt.datetime:
    return dt.datetime(2025, month, day, hour, minute, tzinfo=SHANGHAI)


def make_code(workspace: Any, name: str, touchpoint: str = "store") -> ChannelCode:
    return ChannelCode.objects.create(workspace=workspace, name=name, touchpoint=touchpoint,
                                      state=f"ch{next(_serial):08d}")


def staff(workspace: Any) -> StaffAccount:
    account = StaffAccount.objects.for_workspace(workspace).first()
    return account or StaffAccount.objects.create(workspace=workspace, userid="xiaowanzi01", name="小完子01")


def add(code: ChannelCode, added: dt.datetime, deleted: dt.datetime | None = None, by: str = "") -> FollowRelation:
    """One customer added through the code, optionally deleted later (by whom)."""
    customer = Customer.objects.create(workspace=code.workspace, external_userid=f"wm{next(_serial):010d}")
    return FollowRelation.objects.create(
        workspace=code.workspace, customer=customer, account=staff(code.workspace), added_at=added,
        state=code.state, deleted_at=deleted, deleted_by=by if deleted else "")


def grant(relation: FollowRelation, code: ChannelCode, granted: dt.datetime,
          redeemed: dt.datetime | None = None) -> WelfareGrant:
    welfare, _ = Welfare.objects.for_workspace(code.workspace).get_or_create(
        workspace=code.workspace, name="新人券", defaults={"kind": "gift"})
    return WelfareGrant.objects.create(workspace=code.workspace, welfare=welfare, customer=relation.customer,
                                       channel=code, granted_at=granted, redeemed_at=redeemed)


def spend(code: ChannelCode, start: dt.date, end: dt.date, fen: int) -> ChannelSpend:
    return ChannelSpend.objects.create(workspace=code.workspace, code=code, start=start, end=end, amount_fen=fen)


def report(brand: Any, period: DateRange = MARCH, role: str = "data_analyst", **kwargs: Any) -> analytics.ChannelReport:
    return analytics.channel_report(brand.workspace, seat(brand.members[role], brand.workspace), period,
                                    now=NOW, **kwargs)


def row(result: analytics.ChannelReport, code: ChannelCode) -> analytics.CodeRow:
    return next(r for r in result.codes if r.code_id == code.pk)


# --- counts ----------------------------------------------------------------------------------

def test_adds_deletions_by_whom_and_net_are_counted_per_code_and_day(brand_a):
    store = make_code(brand_a.workspace, "南京西路店")
    add(store, at(3))
    add(store, at(3, 15), deleted=at(4), by=DeletedBy.CUSTOMER)
    add(store, at(4), deleted=at(4, 18), by=DeletedBy.STAFF)
    add(store, at(4, 11))
    figures = row(report(brand_a), store)
    assert (figures.figures.adds, figures.figures.deleted_by_customer, figures.figures.deleted_by_staff,
            figures.figures.net) == (4, 1, 1, 2)
    third, fourth = figures.daily[dt.date(2025, 3, 3)], figures.daily[dt.date(2025, 3, 4)]
    assert (third.adds, third.deleted_by_customer, third.deleted_by_staff, third.net) == (2, 0, 0, 2)
    assert (fourth.adds, fourth.deleted_by_customer, fourth.deleted_by_staff, fourth.net) == (2, 1, 1, 0)


def test_days_are_asia_shanghai_days(brand_a):
    store = make_code(brand_a.workspace, "南京西路店")
    add(store, at(10, 23, 30))  # 15:30 UTC on the 10th
    add(store, at(11, 0, 30))  # 16:30 UTC on the 10th, but the 11th in Shanghai
    daily = row(report(brand_a), store).daily
    assert daily[dt.date(2025, 3, 10)].adds == 1 and daily[dt.date(2025, 3, 11)].adds == 1
    one_day = report(brand_a, DateRange(dt.date(2025, 3, 11), dt.date(2025, 3, 11)))
    assert row(one_day, store).figures.adds == 1


def test_a_deletion_counts_on_its_own_day_even_for_a_customer_added_before_the_range(brand_a):
    store = make_code(brand_a.workspace, "南京西路店")
    add(store, at(20, month=2), deleted=at(5), by=DeletedBy.CUSTOMER)
    figures = row(report(brand_a), store).figures
    assert (figures.adds, figures.deleted_by_customer, figures.net) == (0, 1, -1)


def test_a_transfer_is_not_a_loss(brand_a):
    store = make_code(brand_a.workspace, "南京西路店")
    add(store, at(2), deleted=at(5), by=DeletedBy.TRANSFER)
    figures = row(report(brand_a), store).figures
    assert (figures.adds, figures.net) == (1, 1)
    assert figures.retention[7].retained == 1


def test_adds_of_states_that_are_no_code_are_not_counted(brand_a):
    store = make_code(brand_a.workspace, "南京西路店")
    stray = add(store, at(3))
    FollowRelation.objects.for_workspace(brand_a.workspace).filter(pk=stray.pk).update(state="link-abc")
    assert row(report(brand_a), store).figures.adds == 0


# --- retention -------------------------------------------------------------------------------

def test_retention_counts_only_customers_old_enough_for_each_horizon(brand_a):
    store = make_code(brand_a.workspace, "南京西路店")
    add(store, at(19, 14))  # 22 hours before NOW: in no cohort yet
    add(store, at(15))  # 1-day cohort only, kept
    add(store, at(14), deleted=at(14, 20), by=DeletedBy.CUSTOMER)  # 1-day cohort, lost the same day
    add(store, at(5), deleted=at(8), by=DeletedBy.STAFF)  # kept 1 day, lost before 7
    add(store, at(4), deleted=at(18), by=DeletedBy.CUSTOMER)  # kept past 7 days, lost later
    retention = row(report(brand_a), store).figures.retention
    assert (retention[1].cohort, retention[1].retained) == (4, 3)
    assert (retention[7].cohort, retention[7].retained) == (2, 1)
    assert retention[1].rate == Decimal("0.7500") and retention[7].rate == Decimal("0.5000")
    assert retention[30].cohort == 0 and retention[30].rate is None


def test_retention_is_n_a_when_nobody_is_old_enough(brand_a):
    store = make_code(brand_a.workspace, "南京西路店")
    add(store, at(20, 9))
    figures = row(report(brand_a), store).figures
    for horizon in analytics.RETENTION_DAYS:
        assert figures.retention[horizon].rate is None
    column = analytics.COLUMN_BY_KEY["retention_7"]
    assert analytics.display(column, figures) in ("n/a", "暂无")


def test_retention_of_a_whole_cohort(brand_a):
    store = make_code(brand_a.workspace, "南京西路店")
    for _ in range(3):
        add(store, at(1, month=2))
    add(store, at(1, month=2), deleted=at(10, month=2), by=DeletedBy.CUSTOMER)
    february = report(brand_a, DateRange(dt.date(2025, 2, 1), dt.date(2025, 2, 28)))
    assert row(february, store).figures.retention[30].rate == Decimal("0.7500")


# --- welfare ---------------------------------------------------------------------------------

def test_welfare_issued_and_redeemed_count_on_their_own_days(brand_a):
    store = make_code(brand_a.workspace, "南京西路店")
    first, second = add(store, at(2)), add(store, at(2, 12))
    grant(first, store, at(2), redeemed=at(6))
    grant(second, store, at(2, 12), redeemed=at(25))  # redeemed after the range
    result = row(report(brand_a, DateRange(dt.date(2025, 3, 1), dt.date(2025, 3, 24))), store)
    assert (result.figures.welfare_issued, result.figures.welfare_redeemed) == (2, 1)
    assert result.daily[dt.date(2025, 3, 6)].welfare_redeemed == 1
    later = row(report(brand_a, DateRange(dt.date(2025, 3, 5), dt.date(2025, 3, 31))), store)
    assert (later.figures.welfare_issued, later.figures.welfare_redeemed) == (0, 2)


# --- cost ------------------------------------------------------------------------------------

def test_spend_is_prorated_by_the_days_it_shares_with_the_range(brand_a):
    store = make_code(brand_a.workspace, "南京西路店")
    spend(store, dt.date(2025, 3, 1), dt.date(2025, 3, 10), 100_000)  # 1,000 yuan over 10 days
    spend(store, dt.date(2025, 2, 25), dt.date(2025, 3, 6), 33_333)  # 10 days, 1 inside
    spend(store, dt.date(2025, 3, 21), dt.date(2025, 3, 31), 999_999)  # after the range
    period = DateRange(dt.date(2025, 3, 6), dt.date(2025, 3, 20))
    # 100,000 × 5/10 + 33,333 × 1/10 = 53,333.3 fen, rounded once
    assert row(report(brand_a, period), store).figures.cost_fen == 53_333


def test_cost_per_add_and_per_retained_customer(brand_a):
    store = make_code(brand_a.workspace, "南京西路店")
    spend(store, dt.date(2025, 3, 1), dt.date(2025, 3, 20), 10_000)
    for day in (2, 3, 4):
        add(store, at(day))
    add(store, at(5), deleted=at(6), by=DeletedBy.CUSTOMER)
    figures = row(report(brand_a), store).figures
    assert figures.cost_fen == 10_000
    assert figures.cost_per_add_fen == 2_500  # 100 yuan / 4 adds
    assert figures.cost_per_retained_fen == 3_333  # 100 yuan / 3 kept a week
    assert analytics.display(analytics.COLUMN_BY_KEY["cost_per_add"], figures) == "25.00"


def test_cost_per_retained_applies_the_kept_share_when_recent_adds_are_too_young(brand_a):
    store = make_code(brand_a.workspace, "南京西路店")
    spend(store, dt.date(2025, 3, 1), dt.date(2025, 3, 20), 12_000)
    add(store, at(2))
    add(store, at(3), deleted=at(4), by=DeletedBy.STAFF)
    add(store, at(18))  # too young for the 7-day cohort
    add(store, at(19))
    figures = row(report(brand_a), store).figures
    # 7-day retention 1/2 applied to all 4 adds: 2 kept customers for 120 yuan
    assert figures.cost_per_retained_fen == 6_000


def test_without_spend_there_is_no_cost_figure_rather_than_zero(brand_a):
    store = make_code(brand_a.workspace, "南京西路店")
    add(store, at(2))
    figures = row(report(brand_a), store).figures
    assert figures.cost_fen is None and figures.cost_per_add_fen is None and figures.cost_per_retained_fen is None
    assert analytics.display(analytics.COLUMN_BY_KEY["cost"], figures) == "—"


def test_first_purchase_and_revenue_are_left_for_the_commerce_module(brand_a):
    store = make_code(brand_a.workspace, "南京西路店")
    add(store, at(2))
    figures = row(report(brand_a), store).figures
    assert figures.first_purchases is None and figures.revenue_fen is None
    assert analytics.display(analytics.COLUMN_BY_KEY["revenue"], figures) == "—"


# --- ranking and touchpoints -----------------------------------------------------------------

def ranked_codes(brand_a):
    big = make_code(brand_a.workspace, "大众点评广告", "online_ad")
    small = make_code(brand_a.workspace, "包裹卡", "parcel_card")
    churny = make_code(brand_a.workspace, "南京西路店", "store")
    for day in (2, 3, 4):
        add(big, at(day))
    add(small, at(2))
    for day in (2, 3, 4, 5):
        add(churny, at(day), deleted=at(day, 20), by=DeletedBy.CUSTOMER)
    add(churny, at(6))
    spend(big, dt.date(2025, 3, 1), dt.date(2025, 3, 20), 30_000)
    spend(churny, dt.date(2025, 3, 1), dt.date(2025, 3, 20), 1_000)
    return big, small, churny


def test_codes_are_ranked_by_net_adds_by_default(brand_a):
    big, small, churny = ranked_codes(brand_a)
    ranked = report(brand_a).codes
    assert [r.figures.net for r in ranked] == [3, 1, 1]
    assert [r.code_id for r in ranked] == [big.pk, small.pk, churny.pk]  # a tie goes in name order


def test_codes_can_be_ranked_by_any_column_with_missing_figures_last(brand_a):
    big, small, churny = ranked_codes(brand_a)
    by_adds = report(brand_a, sort="adds")
    assert [r.code_id for r in by_adds.codes] == [churny.pk, big.pk, small.pk]
    cheapest = report(brand_a, sort="cost_per_add", descending=False)
    assert [r.code_id for r in cheapest.codes] == [churny.pk, big.pk, small.pk]  # small: no spend, last
    dearest = report(brand_a, sort="cost_per_add", descending=True)
    assert [r.code_id for r in dearest.codes] == [big.pk, churny.pk, small.pk]
    assert [r.name for r in report(brand_a, sort="name", descending=False).codes] == sorted(
        ["大众点评广告", "包裹卡", "南京西路店"])


def test_an_unknown_sort_column_is_refused(brand_a):
    with pytest.raises(ValidationError):
        report(brand_a, sort="password")


def test_touchpoint_rows_add_up_their_codes(brand_a):
    first = make_code(brand_a.workspace, "南京西路店", "store")
    second = make_code(brand_a.workspace, "淮海路店", "store")
    add(first, at(2))
    add(second, at(3), deleted=at(4), by=DeletedBy.STAFF)
    spend(first, dt.date(2025, 3, 1), dt.date(2025, 3, 20), 5_000)
    stores = next(t for t in report(brand_a).touchpoints if t.touchpoint == "store")
    assert (stores.code_count, stores.figures.adds, stores.figures.deleted_by_staff, stores.figures.net) == (2, 2, 1, 1)
    assert stores.figures.cost_fen == 5_000 and stores.figures.cost_per_add_fen == 2_500
    assert stores.daily[dt.date(2025, 3, 3)].adds == 1


def test_the_trend_has_a_point_per_day_for_the_total_and_the_top_codes(brand_a):
    big, small, churny = ranked_codes(brand_a)
    trend = report(brand_a).trend(top=2)
    assert len(trend["days"]) == 20 and trend["days"][0] == "2025-03-01"
    assert sum(trend["total"]["adds"]) == 9 and sum(trend["total"]["net"]) == 5
    assert [c["name"] for c in trend["codes"]] == ["南京西路店", "大众点评广告"]


# --- scale -----------------------------------------------------------------------------------

def test_the_report_takes_a_fixed_handful_of_queries_for_many_codes_and_days(brand_a, django_assert_max_num_queries):
    account = staff(brand_a.workspace)
    codes = [make_code(brand_a.workspace, f"门店{i:02d}") for i in range(30)]
    customers = Customer.unscoped.bulk_create(
        [Customer(workspace=brand_a.workspace, external_userid=f"wmbulk{i:05d}") for i in range(30 * 20)])
    FollowRelation.unscoped.bulk_create([
        FollowRelation(workspace=brand_a.workspace, customer=customers[i * 20 + day], account=account,
                       added_at=at(day + 1), state=code.state,
                       deleted_at=at(day + 1, 20) if day % 3 == 0 else None,
                       deleted_by=DeletedBy.CUSTOMER if day % 3 == 0 else "")
        for i, code in enumerate(codes) for day in range(20)])
    for code in codes:
        spend(code, dt.date(2025, 3, 1), dt.date(2025, 3, 31), 31_000)
    with django_assert_max_num_queries(8):
        result = report(brand_a)
    assert len(result.codes) == 30 and result.totals.adds == 600 and result.totals.deleted_by_customer == 210


# --- roles and tenants -----------------------------------------------------------------------

def test_another_brands_rows_never_count(brand_a, brand_b):
    mine = make_code(brand_a.workspace, "南京西路店")
    theirs = make_code(brand_b.workspace, "贝塔门店")
    add(theirs, at(2))
    theirs.state = mine.state  # even the same state string in another brand
    theirs.save()
    add(theirs, at(3))
    result = report(brand_a)
    assert [r.name for r in result.codes] == ["南京西路店"] and result.totals.adds == 0


@pytest.mark.parametrize("role", ["admin", "ops_lead", "planner", "copywriter", "customer_ops", "data_analyst"])
def test_roles_that_see_channels_see_the_report(brand_a, role):
    make_code(brand_a.workspace, "南京西路店")
    assert len(report(brand_a, role=role).codes) == 1


def test_the_merchandiser_may_not_see_the_report(brand_a):
    with pytest.raises(PermissionDenied):
        report(brand_a, role="merchandiser")


# --- the range -------------------------------------------------------------------------------

def test_presets_are_the_last_days_up_to_today_in_shanghai():
    late = dt.datetime(2025, 3, 20, 17, 0, tzinfo=dt.UTC)  # already the 21st in Shanghai
    assert analytics.parse_range("7", None, None, now=late) == DateRange(dt.date(2025, 3, 15), dt.date(2025, 3, 21))
    assert analytics.parse_range("30", "", "", now=late).days == 30


def test_a_custom_range_is_parsed_and_checked():
    assert analytics.parse_range("custom", "2025-03-01", "2025-03-05") == DateRange(dt.date(2025, 3, 1),
                                                                                       dt.date(2025, 3, 5))
    for start, end, field in [("2025-03-05", "2025-03-01", "end"), ("yesterday", "2025-03-01", "start"),
                              ("2024-01-01", "2025-03-01", "end")]:
        with pytest.raises(ValidationError) as refused:
            analytics.parse_range("custom", start, end)
        assert field in refused.value.message_dict
