"""The synthetic population (模拟客群): customers with attributes who arrive through touchpoints,
add a staff account, join and leave that account's customer group, bring friends along, and
some later delete the account — deterministic from a seed, on a simulated clock that runs
`speed` times faster than real time.

`plan()` is pure: the same config gives the same timeline, so a demo or a campaign forecast is
reproducible. `Driver` replays a plan against a running twin through the twin's admin API.

Staff play their part too (`StaffBehaviour`): a pending 企业群发 is confirmed by its sender
with the twin's `mass_confirm_probability`, after a random delay, and sooner once reminded
(`confirm_after` is pure, seeded by the twin's seed, the msgid and the member).
"""

from __future__ import annotations

import datetime as dt
import heapq
import logging
import random
import threading
import time
from collections.abc import Iterator, Sequence
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
    group_join_probability: float = 0.3  # share who join their staff account's group within a day
    group_leave_probability: float = 0.1  # share of joiners who leave within a month
    referral_probability: float = 0.05  # share who bring a friend through the same touchpoint
    # The brand's channel code here, found by its contact way's remark. Once the brand has created
    # it, customers scan it and the contact way (the platform's routing) decides the account;
    # until then they add one of `staff_userids` directly, carrying `state`.
    code_remark: str = ""


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
    kind: str = field(compare=False)  # "add" | "delete_staff" | "join_group" | "leave_group"
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
    Poisson process (exponential gaps); each arrival may bring a friend, join and later leave its
    staff account's group, and churn."""
    rng = random.Random(config.seed)
    queue: list[Action] = []
    counter = {"seq": 0, "customer": 0}

    def add(at: dt.datetime, kind: str, customer: Customer, staff: str, state: str = "") -> None:
        if at <= until:
            counter["seq"] += 1
            queue.append(Action(at, counter["seq"], kind, customer, staff, state))

    def arrival(tp_rng: random.Random, tp: Touchpoint, at: dt.datetime, referral_depth: int) -> None:
        customer = _customer(tp_rng, counter["customer"])
        counter["customer"] += 1
        staff = tp_rng.choice(tp.staff_userids)
        add(at, "add", customer, staff, tp.state)
        if tp_rng.random() < tp.group_join_probability:
            joined = at + dt.timedelta(days=tp_rng.uniform(0.001, 1))
            add(joined, "join_group", customer, staff, tp.state)
            if tp_rng.random() < tp.group_leave_probability:
                add(joined + dt.timedelta(days=tp_rng.uniform(0.01, 30)), "leave_group", customer, staff, tp.state)
        if tp_rng.random() < tp.churn_probability:
            add(at + dt.timedelta(days=tp_rng.uniform(0.01, tp.churn_within_days)), "delete_staff", customer, staff, tp.state)
        if referral_depth < 3 and tp_rng.random() < tp.referral_probability:
            arrival(tp_rng, tp, at + dt.timedelta(days=tp_rng.uniform(0.01, 2)), referral_depth + 1)

    for tp in config.touchpoints:
        if tp.arrivals_per_day <= 0:
            continue
        tp_rng = random.Random(rng.random())
        at = config.start
        while True:
            at += dt.timedelta(days=tp_rng.expovariate(tp.arrivals_per_day))
            if at > until:
                break
            arrival(tp_rng, tp, at, 0)
    heapq.heapify(queue)
    while queue:
        yield heapq.heappop(queue)


def confirm_after(
    seed: int,
    msgid: str,
    userid: str,
    probability: float,
    mean_delay: float,
    reminded_mean_delay: float,
    reminders: Sequence[float] = (),
) -> float | None:
    """When (simulated seconds after the task's creation) `userid` confirms the 群发 `msgid`,
    or None while they ignore it.

    A member confirms with `probability`, after an exponential delay of mean `mean_delay`.
    Each reminder (seconds after creation) brings a planned confirmation forward to within an
    exponential delay of mean `reminded_mean_delay`, and gives a member who ignored the task
    another chance with the same probability. The draws for a reminder do not depend on later
    ones, so a new reminder never changes what happened before it.
    """
    rng = random.Random(f"{seed}:{msgid}:{userid}")
    confirms, delay = rng.random() < probability, rng.expovariate(1 / mean_delay)
    at = delay if confirms else None
    for reminded in sorted(reminders):
        heeds, soon = rng.random() < probability, rng.expovariate(1 / reminded_mean_delay)
        if at is not None and at <= reminded:
            break  # already confirmed before this reminder
        if at is not None:
            at = min(at, reminded + soon)
        elif heeds:
            at = reminded + soon
    return at


class StaffBehaviour:
    """The population's staff in their WeCom clients: each poll confirms the pending 群发
    whose time has come (`confirm_after`), through `POST /twin/mass/confirm`.

    The twin's clock runs in real seconds, the population's `speed` times faster: a task
    `t` twin seconds old is `t * speed` simulated seconds old.
    """

    def __init__(self, speed: float) -> None:
        self.speed = speed
        self.confirmed: list[tuple[str, str]] = []  # (msgid, userid)

    def step(self, client: httpx.Client) -> list[tuple[str, str]]:
        data = client.get("/twin/mass/pending").raise_for_status().json()
        done = []
        for task in data["tasks"]:
            created = task["created_at"]
            at = confirm_after(
                data["seed"],
                task["msgid"],
                task["userid"],
                data["confirm_probability"],
                data["confirm_mean_delay_seconds"],
                data["reminded_mean_delay_seconds"],
                [(r - created) * self.speed for r in task["reminders"]],
            )
            if at is None or at > (data["now"] - created) * self.speed:
                continue
            response = client.post(
                "/twin/mass/confirm", json={"msgid": task["msgid"], "userid": task["userid"]}
            )
            if response.status_code == 200:  # 409: cancelled or sent meanwhile
                done.append((task["msgid"], task["userid"]))
        self.confirmed += done
        return done


class Driver:
    """Replays a plan against a twin's admin API, `speed` simulated seconds per real second."""

    def __init__(self, twin_url: str, config: PopulationConfig, speed: float, horizon_days: float = 30) -> None:
        self.twin_url = twin_url.rstrip("/")
        self.config = config
        self.speed = speed
        self.actions = list(plan(config, config.start + dt.timedelta(days=horizon_days)))
        self.done = 0
        self.refused = 0  # actions WeCom's rules turned down (a full group, a full account, ...)
        self.groups: dict[str, str] = {}  # staff userid -> chat_id of the group they run
        self.staff_of: dict[str, str] = {}  # external_userid -> the account the customer really added
        self.scanned = 0  # adds that went through one of the brand's contact ways
        self._contact_ways: dict[str, str] = {}  # contact way remark -> config_id
        self._ways_checked = 0.0
        self._remarks = {tp.state: tp.code_remark for tp in config.touchpoints if tp.code_remark}
        self._stop = threading.Event()
        self.staff = StaffBehaviour(speed)
        self.staff_poll_seconds = 1.0

    def simulated_now(self, started: float) -> dt.datetime:
        return self.config.start + dt.timedelta(seconds=(time.monotonic() - started) * self.speed)

    def run(self) -> None:
        started = time.monotonic()
        with httpx.Client(base_url=self.twin_url, timeout=10) as client:
            self.create_groups(client)
            for action in self.actions:
                wait = (action.at - self.config.start).total_seconds() / self.speed - (time.monotonic() - started)
                if wait > 0 and self._stop.wait(wait):
                    return
                if self._stop.is_set():
                    return
                try:
                    self.perform(client, action)
                except httpx.HTTPStatusError as exc:
                    self.refused += 1
                    logger.debug("twin refused %s: %s", action.kind, exc.response.text)
                except httpx.HTTPError as exc:
                    logger.warning("population action failed: %s", exc)
                self.done += 1

    def create_groups(self, client: httpx.Client) -> None:
        """Each staff account runs one customer group (福利群) that its customers may join."""
        staff = sorted({userid for tp in self.config.touchpoints for userid in tp.staff_userids})
        for userid in staff:
            response = client.post("/twin/groups", json={"owner": userid, "name": f"{userid} 福利群"})
            response.raise_for_status()
            self.groups[userid] = response.json()["chat_id"]

    def contact_way(self, client: httpx.Client, state: str) -> str | None:
        """The config_id of the brand's code for a touchpoint, looked up on the twin (again at
        most every 5 s while the brand has not created it yet)."""
        remark = self._remarks.get(state)
        if not remark:
            return None
        if remark not in self._contact_ways and time.monotonic() - self._ways_checked > 5:
            self._ways_checked = time.monotonic()
            ways = client.get("/twin/state").raise_for_status().json()["contact_ways"]
            self._contact_ways = {w["remark"]: w["config_id"] for w in ways if w["remark"] and w["user"]}
        return self._contact_ways.get(remark)

    def perform(self, client: httpx.Client, action: Action) -> None:
        c = action.customer
        staff = self.staff_of.get(c.external_userid, action.staff_userid)
        if action.kind == "add":
            body = {
                "external_userid": c.external_userid, "name": c.name, "gender": c.gender, "age_band": c.age_band,
                "city": c.city, "interests": list(c.interests), "spending_power": c.spending_power,
            }
            config_id = self.contact_way(client, action.state)
            if config_id:
                body["config_id"] = config_id
            else:
                body |= {"staff_userid": action.staff_userid, "state": action.state}
            response = client.post("/twin/customers/add", json=body)
            if response.status_code == 404 and config_id:
                self._contact_ways.pop(self._remarks[action.state], None)  # the brand deleted the code
            response.raise_for_status()
            self.staff_of[c.external_userid] = response.json()["userid"]
            self.scanned += bool(config_id)
        elif action.kind == "delete_staff":
            client.post("/twin/customers/delete-staff", json={
                "external_userid": c.external_userid, "staff_userid": staff,
            }).raise_for_status()
        elif action.kind == "join_group":
            chat_id = self.groups.get(staff)
            if chat_id is None:  # routed to an account that runs no group
                return
            joined = client.post("/twin/groups/join", json={"chat_id": chat_id, "external_userid": c.external_userid,
                                                            "scene": "qr"})
            if joined.status_code == 409 and "invitations only" in joined.text:
                # Past 200 members a group's QR code stops working (WECOM.md §4): the owner invites.
                joined = client.post("/twin/groups/join", json={
                    "chat_id": chat_id, "external_userid": c.external_userid, "scene": "invite",
                    "invitor": staff,
                })
            joined.raise_for_status()
        elif staff in self.groups:
            client.post("/twin/groups/leave", json={
                "chat_id": self.groups[staff], "external_userid": c.external_userid,
            }).raise_for_status()

    def run_staff(self) -> None:
        """Staff confirm pending 群发 while the population runs (`StaffBehaviour`)."""
        with httpx.Client(base_url=self.twin_url, timeout=10) as client:
            while not self._stop.wait(self.staff_poll_seconds):
                try:
                    self.staff.step(client)
                except httpx.HTTPError as exc:
                    logger.warning("staff behaviour poll failed: %s", exc)

    def start(self) -> threading.Thread:
        threading.Thread(target=self.run_staff, name="population-staff", daemon=True).start()
        thread = threading.Thread(target=self.run, name="population", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()
