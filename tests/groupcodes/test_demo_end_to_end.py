"""End to end through the real pipeline: the twin calls the live server back, the worker drains
the inbox and runs the subscribers. The demo's code, scanned by new WeChat users in the twin,
ends with three generations (two groups at the QR cap, unbound; the newest bound), and a
second seed changes nothing."""

from __future__ import annotations

import pytest

from siyu.accounts.models import StaffAccount
from siyu.community.models import CustomerGroup
from siyu.groupcodes import demo
from siyu.groupcodes.models import GroupCode, GroupCodeLink
from tests.conftest import work_until
from tests.simulator.twin import twin_calling_back


def _chain(ws):
    return list(GroupCodeLink.objects.for_workspace(ws).order_by("generation"))


@pytest.mark.slow
def test_the_demo_code_rotates_through_three_groups_from_real_callbacks(transactional_db, live_server, brand_a):
    ws = brand_a.workspace
    with twin_calling_back(ws, live_server.url) as twin:
        twin.add_staff("xiaowanzi01")
        StaffAccount.objects.create(workspace=ws, userid="xiaowanzi01", name="小完子")
        demo.seed(ws)
        twin.wait_for_callbacks(timeout=120)

        def rotated() -> bool:
            chain = _chain(ws)
            return len(chain) == 3 and [link.bound for link in chain] == [False, False, True]

        work_until(rotated, timeout=480)
        chain = _chain(ws)
        names = dict(CustomerGroup.objects.for_workspace(ws).values_list("chat_id", "name"))
        assert [names.get(link.chat_id) for link in chain] == ["扫码福利群1", "扫码福利群2", "扫码福利群3"]
        code = GroupCode.objects.for_workspace(ws).get()
        assert code.chat_ids == [chain[2].chat_id]
        world = twin.app.world
        assert [len(world.groups[link.chat_id].members) for link in chain] == [200, 200, 41]
        demo.seed(ws)
        assert GroupCode.objects.for_workspace(ws).count() == 1 and len(_chain(ws)) == 3
