"""Routing a code's scans among its accounts: the pure choice, and applying it at WeCom."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import httpx
from django.utils import translation

from siyu.accounts.models import StaffAccount
from siyu.channels.models import ChannelAccount, ChannelCode
from siyu.channels.services import codes, routing
from siyu.channels.services.routing import choose_accounts
from siyu.core.schedule import jobs
from siyu.customers.services import record_add
from tests.channels.conftest import code_input, connect, make_accounts, way_of
from tests.conftest import seat as member_seat

SH = dt.timezone(dt.timedelta(hours=8))
MONDAY_10AM = dt.datetime(2026, 11, 23, 10, 0, tzinfo=SH)  # a Monday, China time
MINUTE = dt.timedelta(minutes=1)
OFFICE_HOURS = [{"weekdays": [0, 1, 2, 3, 4], "start": "09:00", "end": "18:00"}]


def account(pk: int, userid: str, friends: int = 0, limit: int = 5000, active: bool = True) -> StaffAccount:
    return StaffAccount(pk=pk, userid=userid, name=userid, friend_count=friends, friend_limit=limit, active=active)


def seat(acct: StaffAccount, pk: int | None = None, **fields) -> ChannelAccount:
    return ChannelAccount(pk=pk or acct.pk, account=acct, **fields)


A, B, C, Z = account(1, "a"), account(2, "b"), account(3, "c"), account(9, "backup")


def picks(seats, strategy, slots=120, start=MONDAY_10AM, adds=None, fill=None) -> Counter:
    return Counter(choose_accounts(seats, strategy, start + i * MINUTE, adds or {}, fill).userids[0]
                   for i in range(slots))


# --- the pure choice ---------------------------------------------------------------------------

def test_round_robin_takes_turns_one_account_per_slot():
    seats = [seat(A), seat(B), seat(C)]
    order = [choose_accounts(seats, "round_robin", MONDAY_10AM + i * MINUTE, {}).userids for i in range(6)]
    assert all(len(u) == 1 for u in order)
    assert order[:3] == order[3:] and {u[0] for u in order[:3]} == {"a", "b", "c"}


def test_round_robin_shares_evenly_over_many_slots():
    assert picks([seat(A), seat(B), seat(C)], "round_robin", slots=300) == {"a": 100, "b": 100, "c": 100}


def test_weighted_follows_the_weights_over_many_slots():
    counts = picks([seat(A, weight=3), seat(B, weight=1)], "weighted", slots=400)
    assert counts == {"a": 300, "b": 100}


def test_weighted_interleaves_instead_of_running_in_blocks():
    seats = [seat(A, weight=1), seat(B, weight=1), seat(C, weight=2)]
    cycle = [choose_accounts(seats, "weighted", MONDAY_10AM + i * MINUTE, {}).userids[0] for i in range(8)]
    assert not any(cycle[i] == cycle[i + 1] == cycle[i + 2] for i in range(6))
    assert Counter(cycle) == {"a": 2, "b": 2, "c": 4}


def test_least_filled_prefers_the_emptiest_account():
    seats = [seat(account(1, "a", friends=4000)), seat(account(2, "b", friends=1000, limit=2000)),
             seat(account(3, "c", friends=900, limit=5000))]
    assert picks(seats, "least_filled", slots=10) == {"c": 10}


def test_least_filled_uses_fresher_fill_ratios_when_given():
    assert picks([seat(A), seat(B)], "least_filled", slots=5, fill={1: 0.9, 2: 0.2}) == {"b": 5}


def test_a_full_account_is_skipped():
    full = account(1, "a", friends=5000, limit=5000)
    choice = choose_accounts([seat(full), seat(B)], "round_robin", MONDAY_10AM, {})
    assert choice.userids == ("b",)
    assert picks([seat(full), seat(B)], "round_robin", slots=20) == {"b": 20}


def test_an_account_that_left_the_corp_is_skipped():
    gone = account(1, "a", active=False)
    assert picks([seat(gone), seat(B)], "weighted", slots=20) == {"b": 20}


def test_an_off_shift_account_is_skipped_in_china_time():
    seats = [seat(A, shifts=OFFICE_HOURS), seat(B)]
    # 08:59 in Shanghai is 00:59 UTC: before A's shift even though the UTC clock says nothing of it.
    early = dt.datetime(2026, 11, 23, 0, 59, tzinfo=dt.UTC)
    assert picks(seats, "round_robin", slots=1, start=early) == {"b": 1}
    saturday = MONDAY_10AM + dt.timedelta(days=5)
    assert picks(seats, "round_robin", slots=20, start=saturday) == {"b": 20}
    assert picks(seats, "round_robin", slots=20) == {"a": 10, "b": 10}


def test_a_shift_ends_at_its_end_time():
    seats = [seat(A, shifts=OFFICE_HOURS), seat(B)]
    six_pm = MONDAY_10AM.replace(hour=18)
    assert picks(seats, "round_robin", slots=5, start=six_pm) == {"b": 5}
    assert picks(seats, "round_robin", slots=2, start=six_pm - MINUTE * 2) == {"a": 1, "b": 1}


def test_an_account_at_its_daily_cap_is_skipped():
    seats = [seat(A, daily_cap=30), seat(B)]
    assert picks(seats, "round_robin", slots=20, adds={1: 30}) == {"b": 20}
    assert picks(seats, "round_robin", slots=20, adds={1: 29}) == {"a": 10, "b": 10}


def test_backups_take_over_when_no_regular_account_can():
    seats = [seat(account(1, "a", friends=5000, limit=5000)), seat(B, shifts=OFFICE_HOURS), seat(Z, is_backup=True)]
    night = MONDAY_10AM.replace(hour=22)
    with translation.override("en"):
        choice = choose_accounts(seats, "round_robin", night, {})
    assert choice.userids == ("backup",)
    assert "backup" in choice.note and "full" in choice.note and "off shift" in choice.note


def test_backups_are_not_used_while_a_regular_account_can_take_friends():
    assert picks([seat(A), seat(Z, is_backup=True)], "round_robin", slots=20) == {"a": 20}


def test_backups_follow_the_same_rules():
    off = [{"weekdays": [5, 6], "start": "10:00", "end": "16:00"}]
    seats = [seat(account(1, "a", friends=5000, limit=5000)), seat(Z, is_backup=True, shifts=off)]
    choice = choose_accounts(seats, "round_robin", MONDAY_10AM, {}, previous=["a"])
    assert not choice.chosen and choice.userids == ("a",)


def test_when_nothing_is_eligible_the_last_assignment_stays_and_the_note_says_why():
    seats = [seat(A, daily_cap=5), seat(B, daily_cap=5)]
    with translation.override("en"):
        choice = choose_accounts(seats, "weighted", MONDAY_10AM, {1: 5, 2: 7}, previous=["b"])
    assert choice.userids == ("b",) and not choice.chosen
    assert "keeping the last assignment" in choice.note and "daily cap reached" in choice.note


def test_the_note_is_in_the_readers_language():
    with translation.override("zh-hans"):
        note = choose_accounts([seat(A), seat(B)], "round_robin", MONDAY_10AM, {}).note
    assert "轮询" in note and "接待" in note


# --- applying it at WeCom ---------------------------------------------------------------------------

def test_apply_routing_moves_the_contact_way_to_the_next_account(shop):
    code = codes.create_code(shop.workspace, shop.planner, code_input(shop.accounts), now=MONDAY_10AM)
    first = code.routed_userids
    choice = routing.apply_routing(shop.workspace, code, MONDAY_10AM + MINUTE)
    assert list(choice.userids) != first
    code.refresh_from_db()
    assert code.routed_userids == list(choice.userids) and code.routed_at == MONDAY_10AM + MINUTE
    assert way_of(shop.twin, code.config_id)["user"] == code.routed_userids


def test_apply_routing_calls_wecom_only_when_the_choice_changes(shop):
    code = codes.create_code(shop.workspace, shop.planner, code_input(shop.accounts), now=MONDAY_10AM)

    def updates() -> int:
        return shop.twin.state()["api_calls"].get("externalcontact/update_contact_way", 0)

    for _ in range(3):  # the same slot again: same choice, WeCom is left alone
        routing.apply_routing(shop.workspace, code, MONDAY_10AM + dt.timedelta(seconds=20))
    assert updates() == 0
    routing.apply_routing(shop.workspace, code, MONDAY_10AM + MINUTE)
    routing.apply_routing(shop.workspace, code, MONDAY_10AM + MINUTE)
    assert updates() == 1


def test_a_scan_lands_on_the_routed_account(shop):
    code = codes.create_code(shop.workspace, shop.planner, code_input(shop.accounts), now=MONDAY_10AM)
    landed = []
    for minute in range(4):
        routing.apply_routing(shop.workspace, code, MONDAY_10AM + minute * MINUTE)
        response = shop.twin.admin.post("/twin/customers/add", json={
            "config_id": code.config_id, "name": f"顾客{minute}", "external_userid": f"wmScan{minute:02d}"})
        response.raise_for_status()
        assert response.json()["userid"] == code.routed_userids[0]
        landed.append(response.json()["userid"])
    assert Counter(landed) == {"xiaowanzi01": 2, "xiaowanzi02": 2}
    assert {f["state"] for f in shop.twin.state()["friendships"]} == {code.state}


def test_the_daily_cap_counts_adds_through_this_codes_state_today(shop):
    data = code_input(shop.accounts, seats=[codes.SeatInput(shop.accounts["xiaowanzi01"].pk, daily_cap=2),
                                            codes.SeatInput(shop.accounts["xiaowanzi02"].pk)])
    code = codes.create_code(shop.workspace, shop.planner, data, now=MONDAY_10AM)
    yesterday = MONDAY_10AM - dt.timedelta(days=1)
    record_add(shop.workspace, staff_userid="xiaowanzi01", external_userid="wmOld", state=code.state, at=yesterday)
    record_add(shop.workspace, staff_userid="xiaowanzi01", external_userid="wmOther", state="elsewhere", at=MONDAY_10AM)
    record_add(shop.workspace, staff_userid="xiaowanzi01", external_userid="wmToday", state=code.state, at=MONDAY_10AM)
    counts = Counter(routing.choice_for(shop.workspace, code, MONDAY_10AM + i * MINUTE).userids[0] for i in range(10))
    assert counts == {"xiaowanzi01": 5, "xiaowanzi02": 5}
    record_add(shop.workspace, staff_userid="xiaowanzi01", external_userid="wmToday2", state=code.state, at=MONDAY_10AM)
    counts = Counter(routing.choice_for(shop.workspace, code, MONDAY_10AM + i * MINUTE).userids[0] for i in range(10))
    assert counts == {"xiaowanzi02": 10}


def test_the_rotation_job_routes_every_active_code_of_every_brand(shop, brand_b, twin):
    from siyu.channels.tasks import route_codes, route_codes_brand
    from tests.support.jobs import run_queued, summed

    connect(brand_b.workspace, twin)
    theirs = codes.create_code(brand_b.workspace, member_seat(brand_b.members["planner"], brand_b.workspace),
                               code_input(make_accounts(brand_b.workspace)))
    ours = codes.create_code(shop.workspace, shop.planner, code_input(shop.accounts))
    ChannelCode.objects.for_workspace(shop.workspace).filter(pk=ours.pk).update(routed_userids=["backup01"])
    ChannelCode.objects.for_workspace(brand_b.workspace).filter(pk=theirs.pk).update(routed_userids=["backup01"])
    assert route_codes.call() == 2  # one task per brand
    assert summed(run_queued(route_codes_brand)) == {"codes": 2, "changed": 2, "failed": 0}
    for code in (ours, theirs):
        fresh = ChannelCode.unscoped.get(pk=code.pk)
        assert fresh.routed_userids != ["backup01"]
        assert way_of(twin, fresh.config_id)["user"] == fresh.routed_userids


def test_the_rotation_and_reconcile_jobs_are_registered_with_the_scheduler():
    registered = {job.name: job.cron for job in jobs()}
    assert registered["channels.route_codes"] == "* * * * *"
    assert registered["channels.reconcile_contact_ways"] == "*/5 * * * *"


def test_the_reconcile_job_recreates_a_lost_contact_way(shop):
    from siyu.channels.tasks import reconcile_contact_ways, reconcile_contact_ways_brand
    from tests.support.jobs import run_queued

    code = codes.create_code(shop.workspace, shop.planner, code_input(shop.accounts))
    shop.twin.api("externalcontact/del_contact_way", {"config_id": code.config_id})
    assert reconcile_contact_ways.call() == 1
    assert run_queued(reconcile_contact_ways_brand)[0]["recreated"] == 1
    fresh = ChannelCode.objects.for_workspace(shop.workspace).get(pk=code.pk)
    response = httpx.post(f"{shop.twin.url}/twin/customers/add", json={"config_id": fresh.config_id, "name": "回流"})
    assert response.status_code == 201 and response.json()["userid"] == fresh.routed_userids[0]
