"""Rotation from live member counts, against the twin over HTTP: a group at the QR cap leaves
the join way, WeCom opens 粉丝群1, 粉丝群2… and Siyu records each as the next generation."""

from __future__ import annotations

from siyu.community.models import CustomerGroup
from siyu.groupcodes import services
from siyu.groupcodes.models import CodeStatus, GroupCode, GroupCodeLink, LinkOrigin
from tests.groupcodes.conftest import QR_CAP


def _chain(club, code):
    return list(GroupCodeLink.objects.for_workspace(club.workspace).filter(code=code).order_by("generation"))


def _fill(club, code, scans):
    seen = set()
    for _ in range(scans):
        joined = club.scan(code)
        assert joined["status"] == 200, joined
        club.deliver(joined, created=joined["chat_id"] not in seen and len(seen) > 0)
        seen.add(joined["chat_id"])
    return seen


def test_a_group_at_the_qr_cap_leaves_the_join_way_and_the_next_is_bound(club):
    first, second = club.group("福利群A"), club.group("福利群B")
    code = club.make_code([first, second])
    _fill(club, code, QR_CAP - 1)  # the owner plus 5 customers: first is at the cap
    code.refresh_from_db()
    assert code.chat_ids == [second] and club.way(code)["chat_id_list"] == [second]
    [one, two] = _chain(club, code)
    assert (one.bound, one.closed_at is not None, two.bound, two.parent_id) == (False, True, True, one.pk)


def test_wecom_opens_numbered_groups_and_the_chain_records_each_generation(club):
    code = club.make_code([club.group("福利群")], room_base_id=1)
    groups = _fill(club, code, 4 * (QR_CAP - 1))
    assert len(groups) == 4
    chain = _chain(club, code)
    assert [link.generation for link in chain] == [1, 2, 3, 4]
    assert [link.parent.generation if link.parent else None for link in chain] == [None, 1, 2, 3]
    assert [link.origin for link in chain] == [LinkOrigin.BOUND] + [LinkOrigin.CREATED] * 3
    names = dict(CustomerGroup.objects.for_workspace(club.workspace).values_list("chat_id", "name"))
    assert [names[link.chat_id] for link in chain] == ["福利群", "粉丝群1", "粉丝群2", "粉丝群3"]
    code.refresh_from_db()
    assert code.chat_ids == [chain[-1].chat_id] == club.way(code)["chat_id_list"]
    assert code.status == CodeStatus.WAITING  # the newest is at the cap too: WeCom opens the next on a scan
    counts = CustomerGroup.objects.for_workspace(club.workspace).filter(chat_id__in=groups)
    assert all(g.member_count == QR_CAP for g in counts)


def test_a_lower_cap_set_by_staff_is_kept_by_unbinding(club):
    first, second = club.group("福利群A"), club.group("福利群B")
    code = club.make_code([first, second], qr_cap=3)
    _fill(club, code, 2)
    code.refresh_from_db()
    assert code.chat_ids == [second]
    assert CustomerGroup.objects.for_workspace(club.workspace).get(chat_id=first).member_count == 3


def test_replaying_the_events_changes_nothing(club):
    code = club.make_code([club.group("福利群")])
    joined = [club.scan(code) for _ in range(QR_CAP)]  # the last one opens 粉丝群1
    for j in joined + joined:
        club.deliver(j, created=True)
    chain = _chain(club, code)
    assert [link.generation for link in chain] == [1, 2]
    before = list(GroupCodeLink.objects.for_workspace(club.workspace).values())
    for j in joined:
        club.deliver(j, created=True)
    assert list(GroupCodeLink.objects.for_workspace(club.workspace).values()) == before


def test_without_auto_create_the_code_says_every_group_is_closed(club):
    code = club.make_code([club.group("福利群")], auto_create_room=False)
    _fill(club, code, QR_CAP - 1)
    refused = club.scan(code)
    assert refused["status"] == 409
    code.refresh_from_db()
    assert code.status == CodeStatus.EXHAUSTED and len(_chain(club, code)) == 1


def test_a_join_into_a_group_of_no_code_rotates_nothing(club):
    code = club.make_code([club.group("福利群")])
    other = club.group("别的群")
    club.twin.admin.post("/twin/groups/join", json={"chat_id": other, "external_userid": club.customer(),
                                                    "scene": "invite"}).raise_for_status()
    club.deliver({"chat_id": other})
    assert GroupCode.unscoped.get(pk=code.pk).rotated_at is None


def test_the_sweep_rotates_a_code_whose_callback_never_came(club):
    first, second = club.group("福利群A"), club.group("福利群B")
    code = club.make_code([first, second])
    for _ in range(QR_CAP - 1):
        club.scan(code)  # no callback delivered
    from siyu.community import services as community

    community.refresh_group(club.workspace, first)
    assert services.rotate_all(club.workspace) == 1
    code.refresh_from_db()
    assert code.chat_ids == [second]


def test_a_code_past_its_expiry_loses_its_join_way_once(club):
    import datetime as dt

    code = club.make_code([club.group("福利群")], expires_on=dt.date(2026, 1, 31))
    assert services.expire_due(club.workspace, today=dt.date(2026, 1, 31)) == 0
    assert services.expire_due(club.workspace, today=dt.date(2026, 2, 1)) == 1
    assert services.expire_due(club.workspace, today=dt.date(2026, 2, 2)) == 0
    expired = GroupCode.objects.for_workspace(club.workspace).get(pk=code.pk)
    assert (expired.status, expired.config_id) == (CodeStatus.EXPIRED, "")
    assert club.twin.api("externalcontact/groupchat/get_join_way", {"config_id": code.config_id})["errcode"] == 40058
    assert services.rotate(club.workspace, code.pk) is None


def test_a_join_whose_member_version_we_hold_reads_only_the_join_way(club):
    from django.utils import timezone

    from siyu.community import services as community
    from siyu.groupcodes import subscribers
    from siyu.wecom.events import GroupUpdated
    from siyu.wecom.models import ApiCall

    code = club.make_code([club.group("福利群")])
    joined = club.scan(code)
    community.refresh_group(club.workspace, joined["chat_id"])  # community's subscriber ran first
    version = club.twin.api("externalcontact/groupchat/get", {"chat_id": joined["chat_id"]})["group_chat"][
        "member_version"]
    calls = ApiCall.objects.for_workspace(club.workspace)
    before = calls.count()
    subscribers.rotate_on_join(club.workspace, GroupUpdated(
        occurred_at=timezone.now(), chat_id=joined["chat_id"], update_detail="add_member", join_scene=3,
        current_member_version=version), None)
    assert list(calls.order_by("pk").values_list("endpoint", flat=True)[before:]) == [
        "externalcontact/groupchat/get_join_way"]
