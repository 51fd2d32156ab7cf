import datetime as dt
from collections import Counter

import httpx

from siyu.simulator.population import (
    Driver,
    PopulationConfig,
    StaffBehaviour,
    Touchpoint,
    confirm_after,
    plan,
)
from tests.simulator.twin import running_twin, twin_config

START = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
STORE = Touchpoint("store", ("zhangsan", "lisi"), arrivals_per_day=200, churn_probability=0.1)
ADS = Touchpoint("ads", ("wangwu",), arrivals_per_day=50, churn_probability=0.4)


def config(seed: int = 7) -> PopulationConfig:
    return PopulationConfig(seed=seed, touchpoints=(STORE, ADS), start=START)


def test_the_same_seed_gives_the_same_timeline():
    a = list(plan(config(7), START + dt.timedelta(days=3)))
    b = list(plan(config(7), START + dt.timedelta(days=3)))
    assert [(x.at, x.kind, x.customer, x.staff_userid) for x in a] == [(x.at, x.kind, x.customer, x.staff_userid) for x in b]
    c = list(plan(config(8), START + dt.timedelta(days=3)))
    assert [x.customer for x in a] != [x.customer for x in c]


def test_actions_are_in_time_order_and_within_the_horizon():
    until = START + dt.timedelta(days=2)
    actions = list(plan(config(), until))
    times = [a.at for a in actions]
    assert times == sorted(times)
    assert all(START < t <= until for t in times)


def test_arrival_rates_follow_each_touchpoint():
    days = 20
    adds = Counter(a.state for a in plan(config(), START + dt.timedelta(days=days)) if a.kind == "add")
    # Poisson: 4,000 expected from the store (sd ~63), 1,000 from ads (sd ~32).
    assert abs(adds["store"] - 200 * days) < 300
    assert abs(adds["ads"] - 50 * days) < 150


def test_low_quality_touchpoints_churn_more_and_only_after_adding():
    actions = list(plan(config(), START + dt.timedelta(days=60)))
    added_at = {a.customer.external_userid: a.at for a in actions if a.kind == "add"}
    churn = Counter(a.state for a in actions if a.kind == "delete_staff")
    adds = Counter(a.state for a in actions if a.kind == "add")
    assert churn["ads"] / adds["ads"] > 2 * churn["store"] / adds["store"]
    for a in actions:
        if a.kind == "delete_staff":
            assert a.at > added_at[a.customer.external_userid]


def test_customers_have_plausible_attributes_and_unique_ids():
    customers = [a.customer for a in plan(config(), START + dt.timedelta(days=10)) if a.kind == "add"]
    assert len({c.external_userid for c in customers}) == len(customers)
    genders = Counter(c.gender for c in customers)
    assert 0.6 < genders["female"] / len(customers) < 0.76
    assert all(1 <= len(c.interests) <= 3 and len(c.external_userid) <= 32 for c in customers)
    assert {c.spending_power for c in customers} == {"low", "mid", "high"}


def test_some_customers_join_their_accounts_group_and_some_leave_after_joining():
    actions = list(plan(config(), START + dt.timedelta(days=40)))
    adds = [a for a in actions if a.kind == "add"]
    joins = {a.customer.external_userid: a for a in actions if a.kind == "join_group"}
    leaves = [a for a in actions if a.kind == "leave_group"]
    assert 0.25 < len(joins) / len(adds) < 0.35
    assert 0 < len(leaves) < len(joins)
    added = {a.customer.external_userid: a for a in adds}
    for leave in leaves:
        join = joins[leave.customer.external_userid]
        assert added[join.customer.external_userid].at < join.at < leave.at
        assert join.staff_userid == added[join.customer.external_userid].staff_userid


def test_customers_bring_friends_through_the_same_touchpoint():
    plain = PopulationConfig(seed=3, touchpoints=(Touchpoint("store", ("a",), 100, referral_probability=0.0),), start=START)
    referring = PopulationConfig(seed=3, touchpoints=(Touchpoint("store", ("a",), 100, referral_probability=0.5),), start=START)
    until = START + dt.timedelta(days=10)
    n_plain = sum(a.kind == "add" for a in plan(plain, until))
    n_referring = sum(a.kind == "add" for a in plan(referring, until))
    assert 1.6 < n_referring / n_plain < 2.4  # each arrival brings on average ~1 more (0.5 + 0.25 + ...)


def test_the_driver_replays_a_plan_against_a_running_twin():
    tp = Touchpoint("store", ("zhangsan", "lisi"), arrivals_per_day=300, churn_probability=0.2,
                    group_join_probability=0.5)
    with running_twin(twin_config()) as twin:
        twin.add_staff("zhangsan")
        twin.add_staff("lisi")
        driver = Driver(twin.url, PopulationConfig(seed=5, touchpoints=(tp,), start=START), speed=86400 * 4,
                        horizon_days=0.5)
        driver.run()  # half a simulated day, in about an eighth of a second
        state = twin.state()
    expected = Counter(a.kind for a in driver.actions)
    assert driver.done == len(driver.actions) and driver.refused == 0
    assert len(state["customers"]) == expected["add"]
    assert len(state["groups"]) == 2
    members = sum(len([m for m in g["members"] if m["type"] == 2]) for g in state["groups"])
    assert members == expected["join_group"] - expected["leave_group"]


def test_customers_scan_the_brands_code_once_it_exists_and_follow_up_with_the_account_they_reached():
    store = Touchpoint("store", ("zhangsan",), arrivals_per_day=500, churn_probability=1.0,
                       group_join_probability=0, referral_probability=0, code_remark="门店扫码")
    with running_twin(twin_config()) as twin:
        for userid in ("zhangsan", "lisi"):
            twin.add_staff(userid)
        driver = Driver(twin.url, PopulationConfig(seed=3, touchpoints=(store,), start=START), speed=1)
        adds = [a for a in driver.actions if a.kind == "add"]
        with httpx.Client(base_url=twin.url) as client:
            driver.perform(client, adds[0])  # no code yet: straight to the touchpoint's staff
            created = twin.api("externalcontact/add_contact_way", {
                "type": 2, "scene": 2, "remark": "门店扫码", "state": "chSTORE01", "user": ["lisi"]})
            driver._ways_checked = 0  # let the driver look again at once
            driver.perform(client, adds[1])
            churn = next(a for a in driver.actions if a.kind == "delete_staff" and a.customer == adds[1].customer)
            driver.perform(client, churn)
        state = twin.state()
    friendships = {(f["external_userid"], f["userid"]): f["state"] for f in state["friendships"]}
    assert friendships[(adds[0].customer.external_userid, "zhangsan")] == "store"
    assert created["config_id"] and driver.scanned == 1
    # The second customer reached lisi through the code, and later deleted lisi (not zhangsan).
    assert (adds[1].customer.external_userid, "lisi") not in friendships
    assert driver.staff_of[adds[1].customer.external_userid] == "lisi"


# --- staff who confirm or ignore a 群发 ---------------------------------------------------------


def test_staff_confirm_a_mass_message_with_the_configured_probability_and_the_same_seed_agrees():
    decisions = [confirm_after(4, f"msg{n}", "zhangsan", 0.7, 3600, 600) for n in range(2000)]
    assert decisions == [confirm_after(4, f"msg{n}", "zhangsan", 0.7, 3600, 600) for n in range(2000)]
    assert 0.65 < sum(d is not None for d in decisions) / len(decisions) < 0.75
    delays = [d for d in decisions if d is not None]
    assert 3000 < sum(delays) / len(delays) < 4200  # exponential, mean an hour
    other_seed = [confirm_after(5, f"msg{n}", "zhangsan", 0.7, 3600, 600) for n in range(2000)]
    assert other_seed != decisions


def test_a_reminder_brings_a_confirmation_forward_and_gives_an_ignorer_another_chance():
    pairs = [(f"msg{n}", "lisi") for n in range(2000)]
    plain = [confirm_after(1, m, u, 0.5, 36000, 600) for m, u in pairs]
    reminded = [confirm_after(1, m, u, 0.5, 36000, 600, [60]) for m, u in pairs]
    for before, after in zip(plain, reminded, strict=True):
        if before is not None and before <= 60:
            assert after == before  # confirmed before the reminder: unchanged
        elif before is not None:
            assert after is not None and after <= before
    sooner = [a for b, a in zip(plain, reminded, strict=True) if b is not None and b > 60]
    assert sum(sooner) / len(sooner) < 2000  # ten minutes after the reminder, not ten hours
    woken = sum(b is None and a is not None for b, a in zip(plain, reminded, strict=True))
    assert 0.4 < woken / sum(b is None for b in plain) < 0.6


def test_the_populations_staff_confirm_pending_mass_messages_on_the_twin():
    config = twin_config(mass_confirm_probability=1.0, mass_confirm_mean_delay_seconds=600)
    with running_twin(config) as twin:
        twin.add_staff("zhangsan")
        twin.admin.post("/twin/customers/add", json={"external_userid": "wmA", "name": "A",
                                                     "staff_userid": "zhangsan"}).raise_for_status()
        made = twin.api("externalcontact/add_msg_template", {
            "sender": "zhangsan", "external_userid": ["wmA"], "text": {"content": "上新"}})
        at = confirm_after(config.seed, made["msgid"], "zhangsan", 1.0, 600, 600)
        assert at is not None
        staff = StaffBehaviour(speed=1)
        with httpx.Client(base_url=twin.url) as client:
            if at > 5:
                assert staff.step(client) == []  # not yet
            twin.advance(at + 1)
            assert staff.step(client) == [(made["msgid"], "zhangsan")]
            assert staff.step(client) == []  # nothing pending any more
        [received] = twin.state()["messages"]
        assert (received["kind"], received["external_userid"]) == ("mass", "wmA")


def test_staff_never_confirm_a_cancelled_mass_message():
    with running_twin(twin_config(mass_confirm_probability=1.0)) as twin:
        twin.add_staff("zhangsan")
        twin.admin.post("/twin/customers/add", json={"external_userid": "wmA", "name": "A",
                                                     "staff_userid": "zhangsan"}).raise_for_status()
        made = twin.api("externalcontact/add_msg_template", {
            "sender": "zhangsan", "external_userid": ["wmA"], "text": {"content": "上新"}})
        twin.api("externalcontact/cancel_groupmsg_send", {"msgid": made["msgid"]})
        twin.advance(30 * 24 * 3600)
        with httpx.Client(base_url=twin.url) as client:
            assert StaffBehaviour(speed=1).step(client) == []
        assert twin.state()["messages"] == []
