"""A fan's week of check-ins, in Chromium at phone size: from a signed link through the service
account's OAuth, one check-in a day for 7 simulated days (time-machine moves the clock of this
process, where the live server runs), the streak's bonuses, and a code redeemed with the points."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from siyu.core.days import day_start, local_day
from siyu.mobile import services as mobile
from siyu.points import services
from tests.conftest import make_brand
from tests.e2e.test_mass_message import shoot
from tests.e2e.test_phones import assert_fits_and_reads_chinese, phone_page
from tests.mobile.conftest import make_phones
from tests.points.conftest import code_reward, make_plan
from tests.simulator.twin import running_twin, tokens_in_memory, twin_config

pytestmark = pytest.mark.e2e


def test_a_fan_checks_in_for_a_week_and_redeems_a_code(transactional_db, live_server, browser, settings):
    brand = make_brand("alpha")
    ws = brand.workspace
    base = live_server.url.replace("localhost", "127.0.0.1")
    first_day = day_start(local_day(timezone.now())) + dt.timedelta(hours=9)  # 09:00 in Beijing
    with tokens_in_memory(settings), running_twin(twin_config()) as twin, \
            time_machine.travel(first_day, tick=True) as clock:
        phones = make_phones(ws, twin)
        make_plan(ws)  # 5 a day, 20 on the 3rd day in a row, 50 on the 7th
        reward = code_reward(ws, codes=2, cost=100, name="满199减50")
        context, page, problems = phone_page(browser)
        page.goto(base + mobile.fan_link_path(ws, "checkin", phones.customer.pk))
        page.get_by_role("link", name=re.compile("林小姐")).click()  # WeChat OAuth: who opens it
        page.wait_for_url(re.compile(r"/fan/checkin/$"))
        for day in range(7):
            if day:
                clock.move_to(first_day + dt.timedelta(days=day))
                page.goto(f"{base}/m/{ws.slug}/fan/checkin/")
            page.get_by_test_id("check-in").tap()
            expect(page.get_by_test_id("notice")).to_contain_text(f"已连续 {day + 1} 天")
            expect(page.get_by_test_id("streak")).to_have_text(str(day + 1))
            if day == 6:
                assert_fits_and_reads_chinese(page, ws.name)
                shoot(page, "390-fan-checkin")
        expect(page.get_by_test_id("balance")).to_have_text("105")  # 7 × 5 + 20 + 50
        assert page.locator('[data-state="checked"]').count() >= 1

        page.get_by_role("link", name="我的积分").click()
        page.get_by_test_id(f"redeem-{reward.pk}").tap()
        code = page.get_by_test_id("code")
        expect(code).to_have_text(re.compile(r"^HM-\d+-00[01]$"))
        expect(page.get_by_test_id("balance")).to_have_text("5")
        assert_fits_and_reads_chinese(page, ws.name, code.inner_text(), reward.name)
        shoot(page, "390-fan-points")
        page.get_by_role("link", name="我的福利").click()
        expect(page.locator(".welfare__code").first).to_be_visible()
        context.close()
        assert not problems, problems
    assert services.balance_of(ws, phones.customer.pk) == 5 and services.reconcile(ws).ok
