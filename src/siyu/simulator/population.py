"""The synthetic population (模拟客群): customers with attributes who arrive through touchpoints,
add a staff account, and some later delete it — deterministic from a seed, on a simulated
clock that runs `speed` times faster than real time.

`plan()` is pure: the same config gives the same timeline, so a demo or a campaign forecast is
reproducible. `Driver` replays a plan against a running twin through the twin's admin API.
"""

from __future__ import annotations

import datetime as dt
import heapq
import logging
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx

logger = logging.getLogger("siyu.simulator.population")

GENDERS = [("female", 0.68), ("male", 0.32)]
AGE_BANDS = [("00后", 0.22), ("95后", 0.30), ("90后", 0.24), ("85后", 0.14), ("80后", 0.07), ("70后", 0.03)]
CITIES = [
    ("上海", 0.12), ("北京", 0.10), ("广州", 0.08), ("深圳", 0.08), ("杭州", 0.08), ("成都", 0.07),
    ("武汉", 0.06), ("南京", 0.06), ("西安", 0.05), ("长沙", 0.05), ("苏州", 0.05), ("重庆", 0.05),
    ("郑州", 0.04), ("青岛", 0.04), ("厦门", 0.03), ("昆明", 0.04),
]
INTERESTS = ["护肤", "彩妆", "香水", "母婴", "健身", "美食", "旅行", "穿搭", "数码", "宠物", "家居", "读书"]
SPENDING = [("low", 0.35), ("mid", 0.45), ("high", 0.20)]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = "小晓雨欣怡佳静婷文子涵思梦悦可安然一诺宇浩轩晨阳"


@dataclass(frozen=True)
class Touchpoint:
    """A place customers come from (a channel code's state), with its arrival rate and quality."""

    state: str
    staff_userids: tuple[str, ...]
    arrivals_per_day: float
    churn_probability: float = 0.08  # share who delete the staff account within `churn_within_days`
    churn_within_days: float = 14.0


@dataclass(frozen=True)
class PopulationConfig:
    seed: int
    touchpoints: tuple[Touchpoint, ...]
    start: dt.datetime


@dataclass(frozen=True)
class Customer:
    external_userid: str
    name: str
    gender: str
    age_band: str
    city: str
    interests: tuple[str, ...]
    spending_power: str


@dataclass(frozen=True, order=True)
class Action:
    at: dt.datetime
    seq: int
    kind: str = field(compare=False)  # "add" | "delete_staff"
    customer: Customer = field(compare=False)
    staff_userid: str = field(compare=False)
    state: str = field(compare=False, default="")


def _pick(rng: random.Random, weighted: list[tuple[str, float]]) -> str:
    return rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


def _customer(rng: random.Random, index: int) -> Customer:
    return Customer(
        external_userid=f"wmSim{index:07d}{rng.randrange(16**4):04x}",
        name=rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice([1, 2]))),
        gender=_pick(rng, GENDERS),
        age_band=_pick(rng, AGE_BANDS),
        city=_pick(rng, CITIES),
        interests=tuple(sorted(rng.sample(INTERESTS, k=rng.randint(1, 3)))),
        spending_power=_pick(rng, SPENDING),
    )


def plan(config: PopulationConfig, until: dt.datetime) -> Iterator[Action]:
    """Every action from `config.start` to `until`, in time order. Arrivals per touchpoint are a
    Poisson process (exponential gaps); each arrival may churn later."""
    rng = random.Random(config.seed)
    queue: list[Action] = []
    seq = 0
    index = 0
    for tp in config.touchpoints:
        if tp.arrivals_per_day <= 0:
            continue
        tp_rng = random.Random(rng.random())
        at = config.start
        while True:
            at += dt.timedelta(days=tp_rng.expovariate(tp.arrivals_per_day))
            if at > until:
                break
            customer = _customer(tp_rng, index)
            index += 1
            staff = tp_rng.choice(tp.staff_userids)
            seq += 1
            queue.append(Action(at, seq, "add", customer, staff, tp.state))
            if tp_rng.random() < tp.churn_probability:
                churn_at = at + dt.timedelta(days=tp_rng.uniform(0.01, tp.churn_within_days))
                if churn_at <= until:
                    seq += 1
                    queue.append(Action(churn_at, seq, "delete_staff", customer, staff, tp.state))
    heapq.heapify(queue)
    while queue:
        yield heapq.heappop(queue)


class Driver:
    """Replays a plan against a twin's admin API, `speed` simulated seconds per real second."""

    def __init__(self, twin_url: str, config: PopulationConfig, speed: float, horizon_days: float = 30) -> None:
        self.twin_url = twin_url.rstrip("/")
        self.config = config
        self.speed = speed
        self.actions = list(plan(config, config.start + dt.timedelta(days=horizon_days)))
        self.done = 0
        self._stop = threading.Event()

    def simulated_now(self, started: float) -> dt.datetime:
        return self.config.start + dt.timedelta(seconds=(time.monotonic() - started) * self.speed)

    def run(self) -> None:
        started = time.monotonic()
        with httpx.Client(base_url=self.twin_url, timeout=10) as client:
            for action in self.actions:
                wait = (action.at - self.config.start).total_seconds() / self.speed - (time.monotonic() - started)
                if wait > 0 and self._stop.wait(wait):
                    return
                if self._stop.is_set():
                    return
                try:
                    self.perform(client, action)
                except httpx.HTTPError as exc:
                    logger.warning("population action failed: %s", exc)
                self.done += 1

    def perform(self, client: httpx.Client, action: Action) -> None:
        c = action.customer
        if action.kind == "add":
            client.post("/twin/customers/add", json={
                "external_userid": c.external_userid, "name": c.name, "staff_userid": action.staff_userid,
                "state": action.state, "gender": c.gender, "age_band": c.age_band, "city": c.city,
                "interests": list(c.interests), "spending_power": c.spending_power,
            }).raise_for_status()
        else:
            client.post("/twin/customers/delete-staff", json={
                "external_userid": c.external_userid, "staff_userid": action.staff_userid,
            }).raise_for_status()

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="population", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()
