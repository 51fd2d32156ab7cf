import datetime as dt
from collections import Counter

from siyu.simulator.population import PopulationConfig, Touchpoint, plan

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
