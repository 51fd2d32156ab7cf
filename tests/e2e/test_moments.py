"""A copywriter plans a moment with an image material in the persona's calendar (the counter
follows the text as it is typed); the worker posts it to the twin; the twin's staff publish it
and customers like it; the post's detail shows the reach and the likes after a refresh."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from siyu.accounts.models import StaffAccount
from siyu.ip.models import Persona
from siyu.moments.models import MomentPost, PostStatus
from siyu.moments.services import post_due, posting, track
from tests.conftest import PASSWORD, make_brand
from tests.content.conftest import image_material
from tests.e2e.test_console_flow import sign_in
from tests.e2e.test_mass_message import shoot
from tests.simulator.twin import connect_brand, running_twin, tokens_in_memory, twin_config

pytestmark = pytest.mark.e2e
STAFF = ("staff0", "staff1")


def test_plan_a_moment_with_an_image_and_see_its_reach_and_likes(transactional_db, live_server, page, settings,
                                                                tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    brand = make_brand("alpha")
    ws = brand.workspace
    with tokens_in_memory(settings), running_twin(twin_config()) as twin:
        connect_brand(ws, twin)
        persona = Persona.objects.create(workspace=ws, name="小完子")
        for userid in STAFF:
            twin.add_staff(userid)
            StaffAccount.objects.create(workspace=ws, userid=userid, name=f"小完子{userid[-1]}", persona=persona)
        for n in range(4):
            twin.admin.post("/twin/customers/add", json={
                "external_userid": f"wmE2E{n}", "name": f"客户{n}", "staff_userid": "staff0"}).raise_for_status()
        image = image_material(brand, "粉底液产品图")

        base = live_server.url
        sign_in(page, base, "alpha-copywriter", PASSWORD)
        page.goto(f"{base}/content/moments/")
        expect(page.get_by_test_id("warnings")).to_be_visible()  # nothing planned: the week is empty
        page.get_by_test_id("new-post").click()
        at = timezone.localtime() + dt.timedelta(minutes=30)
        page.fill("#id_planned_at", at.strftime("%Y-%m-%dT%H:%M"))
        page.fill("#id_text", "宝子们看过来～")
        expect(page.get_by_test_id("counter")).to_contain_text("7")   # characters
        expect(page.get_by_test_id("counter")).to_contain_text("21")  # UTF-8 bytes
        page.check(f'input[name="material_ids"][value="{image.pk}"]')
        page.get_by_test_id("schedule").click()
        expect(page.get_by_test_id("status")).to_have_text("已排期")
        expect(page.get_by_test_id("attachment")).to_contain_text("粉底液产品图")
        post = MomentPost.objects.for_workspace(ws).get()

        # the worker's minute comes: the post goes to WeCom, its job gives the moment id
        assert post_due(ws, post.planned_at) == 1
        track(ws, post.planned_at + posting.FIRST_CHECK)
        post.refresh_from_db()
        assert post.status == PostStatus.POSTED
        twin.admin.post("/twin/moments/publish", json={"moment_id": post.moment_id, "userid": "staff0"}
                        ).raise_for_status()
        for n in range(2):
            twin.admin.post("/twin/moments/interact", json={"moment_id": post.moment_id, "userid": "staff0",
                                                            "external_userid": f"wmE2E{n}"}).raise_for_status()

        page.reload()
        page.get_by_test_id("refresh").click()
        expect(page.get_by_test_id("reach")).to_have_text("4")
        expect(page.get_by_test_id("likes")).to_have_text("2")
        expect(page.get_by_test_id("published")).to_have_text("1 / 2")
        expect(page.locator('[data-sender="staff0"]')).to_contain_text("已发表")
        shoot(page, "moment-detail")
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(f"{base}/content/moments/persona/{persona.pk}/")
        expect(page.get_by_test_id("day-list").locator(f'[data-post="{post.pk}"]')).to_be_visible()
        assert page.evaluate("() => document.documentElement.scrollWidth <= document.documentElement.clientWidth")
