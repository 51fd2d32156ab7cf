"""A burst of joins through one group code on PostgreSQL: customers scan concurrently through the
real twin and each join's callback is handled at once in its own thread, as many workers would.
No group takes a QR join past the cap, none passes its size, and the chain is whole and in order.

PostgreSQL only: the point is rotations of one code racing in separate transactions, serialized
by the code's row lock. SQLite runs one writer at a time, so there is no race to test there."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from siyu.community.models import CustomerGroup
from siyu.groupcodes.models import GroupCodeLink
from tests.groupcodes.conftest import FULL_AT, QR_CAP

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks racing: PostgreSQL only")

RACERS = 8
GROUPS = 6
SCANS = GROUPS * (QR_CAP - 1)  # each group: its owner and QR_CAP - 1 customers


def test_a_burst_of_joins_rotates_without_passing_a_cap(transactional_db, club):
    code = club.make_code([club.group("福利群")], room_base_id=1)
    customers = [club.customer() for _ in range(SCANS)]
    start = threading.Barrier(RACERS)
    errors: list[BaseException] = []
    outcomes: list[dict] = []

    def racer(n: int) -> None:
        try:
            start.wait()
            for external in customers[n::RACERS]:
                joined = club.scan(code, external)
                outcomes.append(joined)
                if joined["status"] == 200:
                    club.deliver(joined, created=joined["created"])
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=racer, args=(n,)) for n in range(RACERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert all(o["status"] == 200 for o in outcomes), [o for o in outcomes if o["status"] != 200]

    world = club.twin.app.world
    landed = {o["chat_id"] for o in outcomes}
    for chat_id in landed:
        members = world.groups[chat_id].members
        assert len(members) <= FULL_AT
        assert sum(1 for m in members if m.join_scene == 3) <= QR_CAP - 1  # the owner is the 6th
        assert all(m.state == code.state for m in members if m.join_scene == 3)

    chain = list(GroupCodeLink.objects.for_workspace(club.workspace).filter(code=code).order_by("generation"))
    assert [link.generation for link in chain] == list(range(1, GROUPS + 1))
    assert {link.chat_id for link in chain} == landed
    assert all(link.parent_id == (chain[n - 1].pk if n else None) for n, link in enumerate(chain))
    names = dict(CustomerGroup.objects.for_workspace(club.workspace).values_list("chat_id", "name"))
    assert [names[link.chat_id] for link in chain] == ["福利群"] + [f"粉丝群{n}" for n in range(1, GROUPS)]
    assert all(not link.bound for link in chain[:-1]) and chain[-1].bound
    code.refresh_from_db()
    assert code.chat_ids == [chain[-1].chat_id] == club.way(code)["chat_id_list"]
