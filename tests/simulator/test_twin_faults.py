"""The twin's fault knob (`simulator/faults.py`): the next N calls to one API answer an errcode
and/or late, before or after the call's effect, over real HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.simulator.twin import RunningTwin, running_twin, twin_config

WELCOME = "externalcontact/send_welcome_msg"


@pytest.fixture
def twin() -> Iterator[RunningTwin]:
    with running_twin(twin_config()) as twin:
        twin.add_staff("zhangsan")
        yield twin


def welcome_code(twin: RunningTwin, external_userid: str) -> str:
    response = twin.admin.post("/twin/customers/add", json={
        "name": "王小雨", "staff_userid": "zhangsan", "external_userid": external_userid})
    response.raise_for_status()
    return response.json()["welcome_code"]


def send(twin: RunningTwin, code: str, token: str, timeout: float = 10) -> dict:
    return twin.admin.post(f"/cgi-bin/{WELCOME}", params={"access_token": token}, timeout=timeout,
                           json={"welcome_code": code, "text": {"content": "欢迎"}}).json()


def set_fault(twin: RunningTwin, **body: object) -> None:
    response = twin.admin.post("/twin/faults", json={"api": WELCOME, **body})
    assert response.status_code == 201, response.text


def welcomes(twin: RunningTwin) -> list[dict]:
    return [m for m in twin.state()["messages"] if m["kind"] == "welcome"]


def test_an_errcode_fault_refuses_the_next_calls_without_their_effect_then_stops(twin):
    token = twin.token()
    set_fault(twin, errcode=45009, errmsg="api freq out of limit", times=2)
    code = welcome_code(twin, "wmFAULT1")
    assert send(twin, code, token) == {"errcode": 45009, "errmsg": "api freq out of limit"}
    assert send(twin, code, token)["errcode"] == 45009
    assert welcomes(twin) == []  # refused calls change nothing: the code is still unused
    assert send(twin, code, token)["errcode"] == 0
    assert len(welcomes(twin)) == 1
    faults = twin.state()["faults"]
    assert faults["active"] == [] and faults["received"][WELCOME] == 3
    assert twin.state()["api_calls"][WELCOME] == 3


def test_a_fault_without_times_lasts_until_cleared_and_other_apis_are_untouched(twin):
    token = twin.token()
    set_fault(twin, errcode=45009)
    code = welcome_code(twin, "wmFAULT2")
    assert [send(twin, code, token)["errcode"] for _ in range(3)] == [45009] * 3
    assert twin.api("user/get", userid="zhangsan")["errcode"] == 0
    assert twin.admin.request("DELETE", "/twin/faults").json() == {"cleared": 1}
    assert send(twin, code, token)["errcode"] == 0


def test_a_delay_after_the_effect_delivers_the_message_though_the_caller_gave_up(twin):
    token = twin.token()
    set_fault(twin, delay_seconds=1.5, after_effect=True, times=1)
    code = welcome_code(twin, "wmFAULT3")
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        send(twin, code, token, timeout=0.3)
    assert len(welcomes(twin)) == 1  # recorded while the answer was still on its way
    assert time.monotonic() - started < 1.5
    assert send(twin, code, token)["errcode"] == 41051  # the code works once


def test_a_delay_before_the_effect_answers_late_and_then_applies_it(twin):
    token = twin.token()
    set_fault(twin, delay_seconds=0.5, times=1)
    code = welcome_code(twin, "wmFAULT4")
    started = time.monotonic()
    assert send(twin, code, token)["errcode"] == 0
    assert time.monotonic() - started >= 0.5 and len(welcomes(twin)) == 1


def test_an_errcode_after_the_effect_applies_it_and_answers_the_error(twin):
    token = twin.token()
    set_fault(twin, errcode=-1, errmsg="system busy", after_effect=True, times=1)
    code = welcome_code(twin, "wmFAULT5")
    assert send(twin, code, token) == {"errcode": -1, "errmsg": "system busy"}
    assert len(welcomes(twin)) == 1


def test_bad_fault_settings_are_refused(twin):
    assert twin.admin.post("/twin/faults", json={"errcode": 45009}).status_code == 400
    assert twin.admin.post("/twin/faults", json={"api": WELCOME}).status_code == 400
    assert twin.admin.post("/twin/faults", json={"api": WELCOME, "delay_seconds": -1}).status_code == 400
    assert twin.admin.post("/twin/faults", json={"api": WELCOME, "errcode": 1, "times": 0}).status_code == 400
    assert twin.admin.post("/twin/faults", json={"api": WELCOME, "errcode": "x"}).status_code == 400
    assert twin.state()["faults"]["active"] == []
