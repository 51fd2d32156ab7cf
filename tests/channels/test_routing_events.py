"""Re-routing at once when an add fills the routed account, through the event bus and a real worker."""

from __future__ import annotations

from django.utils import timezone

from siyu.accounts.models import StaffAccount
from siyu.channels.models import ChannelCode
from siyu.channels.services import codes
from siyu.channels.tasks import reroute_after_follow
from siyu.core.models import EventRecord, RunStatus, SubscriberRun
from siyu.core.worker import HeartbeatWorker
from siyu.customers.services import record_add
from tests.channels.conftest import code_input, way_of


def one_regular_and_a_backup(shop, **regular) -> codes.CodeInput:
    return code_input(shop.accounts, seats=[codes.SeatInput(shop.accounts["xiaowanzi01"].pk, **regular),
                                            codes.SeatInput(shop.accounts["backup01"].pk, is_backup=True)])


def add_through(shop, code: ChannelCode, external_userid: str) -> None:
    record_add(shop.workspace, staff_userid="xiaowanzi01", external_userid=external_userid, state=code.state,
               at=timezone.now())
    HeartbeatWorker(interval=0, batch=True).run()


def test_reaching_the_daily_cap_moves_the_code_to_the_next_account_at_once(transactional_db, shop):
    code = codes.create_code(shop.workspace, shop.planner, one_regular_and_a_backup(shop, daily_cap=2))
    assert code.routed_userids == ["xiaowanzi01"]
    add_through(shop, code, "wmFirst")
    assert way_of(shop.twin, code.config_id)["user"] == ["xiaowanzi01"]
    add_through(shop, code, "wmSecond")
    code.refresh_from_db()
    assert code.routed_userids == ["backup01"] and way_of(shop.twin, code.config_id)["user"] == ["backup01"]
    runs = SubscriberRun.objects.for_workspace(shop.workspace).filter(subscriber__endswith="reroute_after_follow")
    assert runs.count() == 2 and {r.status for r in runs} == {RunStatus.DONE}


def test_an_account_that_becomes_full_is_routed_away_from_at_once(transactional_db, shop):
    StaffAccount.objects.for_workspace(shop.workspace).filter(userid="xiaowanzi01").update(friend_limit=1)
    code = codes.create_code(shop.workspace, shop.planner, one_regular_and_a_backup(shop))
    add_through(shop, code, "wmOnly")
    code.refresh_from_db()
    assert code.routed_userids == ["backup01"]
    assert way_of(shop.twin, code.config_id)["user"] == ["backup01"]


def test_handling_the_same_add_again_changes_nothing(transactional_db, shop):
    code = codes.create_code(shop.workspace, shop.planner, one_regular_and_a_backup(shop, daily_cap=1))
    add_through(shop, code, "wmOnce")
    calls = shop.twin.state()["api_calls"].get("externalcontact/update_contact_way", 0)
    record = EventRecord.objects.for_workspace(shop.workspace).get(name="customers.follow_started")
    from siyu.core import events

    reroute_after_follow(shop.workspace, events.decode(record), record)
    assert shop.twin.state()["api_calls"].get("externalcontact/update_contact_way", 0) == calls == 1
    code.refresh_from_db()
    assert code.routed_userids == ["backup01"]


def test_an_add_that_fills_nothing_leaves_the_rotation_alone(transactional_db, shop):
    code = codes.create_code(shop.workspace, shop.planner, one_regular_and_a_backup(shop, daily_cap=5))
    add_through(shop, code, "wmCalm")
    assert shop.twin.state()["api_calls"].get("externalcontact/update_contact_way", 0) == 0
    code.refresh_from_db()
    assert code.routed_userids == ["xiaowanzi01"]
