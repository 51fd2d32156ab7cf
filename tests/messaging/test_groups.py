"""Group 群发 (客户群群发) against the twin over real HTTP: each group is sent by its owner in one
WeCom task per owner (`chat_type=group`), a group's receive limit is kept in the same ledger as
customers' (its own kind), groups whose owner is not an active staff account are left out, and
the results per group come back from WeCom as for 1:1 messages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from siyu.messaging.models import (
    BatchStatus,
    BudgetRule,
    MassBatch,
    MassGroupRecipient,
    MassStatus,
    MessagingSettings,
    RecipientKind,
    RecipientStatus,
)
from siyu.messaging.services import (
    GroupTarget,
    MessageInput,
    budget,
    cancel_message,
    confirm_message,
    export_results,
    plan_message,
    progress,
    refused_page,
    send_message,
    send_to_groups,
    summary,
    track,
)
from siyu.messaging.services.budget import Recipients
from tests.messaging.conftest import Shop, make_shop
from tests.simulator.twin import (
    RunningTwin,
    connect_brand,
    running_twin,
    tokens_in_memory,
    twin_config,
)

STAFF = ("staff0", "staff1", "staff2")


@pytest.fixture
def twin(settings: Any) -> Iterator[RunningTwin]:
    with tokens_in_memory(settings), running_twin(twin_config(mass_receive_limit_per_month=4)) as running:
        for userid in STAFF:
            running.add_staff(userid)
        yield running


def make_group(twin: RunningTwin, owner: str, name: str) -> str:
    response = twin.admin.post("/twin/groups", json={"owner": owner, "name": name, "members": []})
    response.raise_for_status()
    return str(response.json()["chat_id"])


@pytest.fixture
def world(brand_a: Any, twin: RunningTwin) -> Shop:
    """Five groups in the twin: three of staff0, one of staff1, one of staff2 (whose account has
    left the brand in Siyu). Group keys 101… stand for the community app's rows."""
    shop = make_shop(brand_a, accounts=3)
    connect_brand(shop.workspace, twin)
    shop.accounts[2].active = False
    shop.accounts[2].save(update_fields=["active"])
    owners = (0, 0, 0, 1, 2)
    shop.groups = [  # type: ignore[attr-defined]
        GroupTarget(101 + n, make_group(twin, STAFF[o], f"福利群{n}"), shop.accounts[o].pk, f"福利群{n}")
        for n, o in enumerate(owners)]
    MessagingSettings.objects.create(workspace=shop.workspace, budget_rule=BudgetRule.MONTHLY_FOUR)
    return shop


def group_sends(twin: RunningTwin) -> dict[str, dict[str, Any]]:
    return {s["chat_id"]: s | {"msgid": t["msgid"], "creator": t["creator"], "chat_type": t["chat_type"]}
            for t in twin.state()["mass_tasks"] for s in t["sends"]}


def test_a_group_message_goes_to_each_owner_and_back(world, twin):
    ws, planner = world.workspace, world.seat("planner")
    groups = world.groups
    now = timezone.now()
    # Another sender spent group 4's four this month in Siyu: refused before it is sent.
    for n in range(4):
        budget.reserve(ws, Recipients.groups([groups[3].group_id]), now, "community", str(n))

    message = plan_message(ws, planner, MessageInput(name="周五福利", target_kind="groups", groups=groups,
                                                     text="周五福利来啦"), now=now)
    preview = summary(ws, planner, message, now)
    # 5 targeted: 3 planned (staff0), 1 refused (staff1's), 1 unreachable (staff2 left).
    assert (preview.targeted, preview.planned, preview.refused, preview.unreachable) == (5, 3, 1, 1)
    assert [(s.account.userid, s.recipients, s.batches) for s in preview.senders] == [("staff0", 3, 1)]
    assert [r.chat_id for r in refused_page(ws, planner, message)] == [groups[3].chat_id]

    confirm_message(ws, planner, message.pk, now=now)
    assert send_message(ws, message.pk, now).status == MassStatus.SENT
    sends = group_sends(twin)
    assert set(sends) == {g.chat_id for g in groups[:3]}
    assert {(s["creator"], s["chat_type"]) for s in sends.values()} == {("staff0", "group")}
    # The owner must confirm in their client: nothing is delivered before.
    assert {s["status"] for s in sends.values()} == {0}
    assert set(MassGroupRecipient.unscoped.filter(message=message).values_list("status", flat=True)) == {
        RecipientStatus.PENDING, RecipientStatus.REFUSED}

    twin.advance(5)
    msgid = next(iter(sends.values()))["msgid"]
    twin.admin.post("/twin/mass/confirm", json={"msgid": msgid, "userid": "staff0"}).raise_for_status()
    assert track(ws, now + dt.timedelta(minutes=2)) == 1
    rows = {r.chat_id: r for r in MassGroupRecipient.unscoped.filter(message=message)}
    assert {rows[g.chat_id].status for g in groups[:3]} == {RecipientStatus.SENT}
    assert all(rows[g.chat_id].sent_at for g in groups[:3])
    message.refresh_from_db()
    assert message.status == MassStatus.DONE
    shown = progress(ws, planner, message)
    assert (shown.counts, shown.total, shown.done) == ({"sent": 3, "refused": 1}, 3, 3)
    # The ledger: each sent group holds one unit, in the group kind only.
    held = budget.received(ws, [g.group_id for g in groups], now, kind=RecipientKind.GROUP)
    assert held == {101: 1, 102: 1, 103: 1, 104: 4}
    assert budget.received(ws, [101, 102, 103], now) == {}  # no customer of those ids was charged
    assert export_results(ws, world.seat("admin"), message)[:2] == b"PK"


def test_send_to_groups_is_idempotent_and_wecom_limits_give_units_back(world, twin):
    ws = world.workspace
    groups = world.groups[:2]
    now = timezone.now()
    # WeCom already gave group 0 its four this month (sent outside Siyu): it refuses at confirm.
    for n in range(4):
        twin.admin.post("/twin/mass/confirm", json={
            "msgid": twin.api("externalcontact/add_msg_template", {
                "chat_type": "group", "sender": "staff0", "chat_id_list": [groups[0].chat_id],
                "text": {"content": f"旧消息{n}"}})["msgid"], "userid": "staff0"}).raise_for_status()
    first = send_to_groups(ws, source="sop", ref="sop-step:1:202612151000", name="周一话题", groups=groups,
                           text="本周话题：冬季护肤", now=now)
    again = send_to_groups(ws, source="sop", ref="sop-step:1:202612151000", name="周一话题", groups=groups,
                           text="本周话题：冬季护肤", now=now)
    assert again.pk == first.pk and first.status == MassStatus.SCHEDULED
    send_message(ws, first.pk, now)
    send_message(ws, first.pk, now)
    new_tasks = [t for t in twin.state()["mass_tasks"] if t["text"] == "本周话题：冬季护肤"]
    assert len(new_tasks) == 1
    twin.advance(5)
    twin.admin.post("/twin/mass/confirm", json={"msgid": new_tasks[0]["msgid"], "userid": "staff0"}).raise_for_status()
    track(ws, now + dt.timedelta(minutes=2))
    rows = {r.group_id: r.status for r in MassGroupRecipient.unscoped.filter(message=first)}
    assert rows == {groups[0].group_id: RecipientStatus.OVER_LIMIT, groups[1].group_id: RecipientStatus.SENT}
    held = budget.received(ws, [g.group_id for g in groups], now, kind=RecipientKind.GROUP)
    assert held == {groups[0].group_id: 0, groups[1].group_id: 1}
    assert MassBatch.unscoped.get(message=first).status == BatchStatus.SENT

    with pytest.raises(ValidationError):  # no groups: a sender's bad input is refused
        send_to_groups(ws, source="sop", ref="empty", name="空", groups=[], text="x", now=now)


def test_a_cancelled_group_message_is_cancelled_in_wecom_and_releases_its_groups(world, twin):
    ws, planner = world.workspace, world.seat("planner")
    now = timezone.now()
    message = plan_message(ws, planner, MessageInput(name="取消", target_kind="groups", groups=world.groups[:4],
                                                     text="稍后取消"), now=now)
    confirm_message(ws, planner, message.pk, now=now)
    send_message(ws, message.pk, now)
    assert budget.received(ws, [101, 104], now, kind=RecipientKind.GROUP) == {101: 1, 104: 1}
    cancel_message(ws, planner, message.pk, now=now + dt.timedelta(minutes=1))
    assert {t["cancelled"] for t in twin.state()["mass_tasks"]} == {True}
    assert set(MassGroupRecipient.unscoped.filter(message=message).values_list("status", flat=True)) == {
        RecipientStatus.CANCELLED}
    assert budget.received(ws, [101, 104], now, kind=RecipientKind.GROUP) == {101: 0, 104: 0}


def test_the_console_form_sends_to_groups_only_through_the_community_pages(world):
    with pytest.raises(ValidationError) as raised:
        plan_message(world.workspace, world.seat("planner"), MessageInput(name="x", target_kind="groups", text="x"))
    assert "社群" in raised.value.message_dict["target_kind"][0]
