"""`change_external_chat` events keep groups and members current, and converge on WeCom's state
whatever their order and however often they are replayed."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from siyu.community import subscribers
from siyu.community.models import CustomerGroup, GroupMember
from siyu.customers.models import Customer
from siyu.wecom.events import GroupCreated, GroupDismissed, GroupUpdated
from siyu.wecom.models import ApiCall


def _active(club, chat_id):
    return set(GroupMember.objects.for_workspace(club.workspace)
               .filter(group__chat_id=chat_id, left_at__isnull=True).values_list("userid", flat=True))


def _update(chat_id, detail, members=(), last="", current="", at=None, **extra):
    return GroupUpdated(occurred_at=at or timezone.now(), chat_id=chat_id, update_detail=detail,
                        member_changes=list(members), member_change_count=len(members),
                        last_member_version=last, current_member_version=current, **extra)


def _created(club, name, members=()):
    chat_id = club.group(name, list(members))
    subscribers.keep_group_created(club.workspace, GroupCreated(occurred_at=timezone.now(), chat_id=chat_id), None)
    return chat_id


def test_a_created_group_is_read_from_wecom(club):
    chat_id = _created(club, "新群", ["wm0000"])
    group = CustomerGroup.objects.for_workspace(club.workspace).get(chat_id=chat_id)
    assert group.name == "新群" and _active(club, chat_id) == {"staff0", "wm0000"}


def test_member_events_out_of_order_and_replayed_converge(club):
    chat_id = _created(club, "福利群")
    v0 = club.version(chat_id)
    club.join(chat_id, "wm0001")
    v1 = club.version(chat_id)
    club.join(chat_id, "wm0002")
    v2 = club.version(chat_id)
    club.leave(chat_id, "wm0001", scene="removed")
    v3 = club.version(chat_id)
    events = [_update(chat_id, "add_member", ["wm0001"], v0, v1),
              _update(chat_id, "add_member", ["wm0002"], v1, v2),
              _update(chat_id, "del_member", ["wm0001"], v2, v3, quit_scene=1)]
    for event in reversed(events):  # the last first
        subscribers.keep_group_updated(club.workspace, event, None)
    for event in events + events:  # then all of them, twice
        subscribers.keep_group_updated(club.workspace, event, None)
    group = CustomerGroup.objects.for_workspace(club.workspace).get(chat_id=chat_id)
    assert _active(club, chat_id) == {"staff0", "wm0002"}
    assert group.member_version == v3 and group.member_count == 2


def test_an_event_at_the_version_we_hold_calls_no_wecom(club):
    chat_id = _created(club, "福利群")
    v0 = club.version(chat_id)
    club.join(chat_id, "wm0001")
    event = _update(chat_id, "add_member", ["wm0001"], v0, club.version(chat_id))
    subscribers.keep_group_updated(club.workspace, event, None)
    calls = ApiCall.objects.for_workspace(club.workspace).count()
    subscribers.keep_group_updated(club.workspace, event, None)
    assert ApiCall.objects.for_workspace(club.workspace).count() == calls


def test_a_member_who_leaves_keeps_the_row_with_when_and_how(club):
    chat_id = _created(club, "福利群", ["wm0000", "wm0001"])
    v0 = club.version(chat_id)
    club.leave(chat_id, "wm0001", scene="removed")
    at = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=1)
    subscribers.keep_group_updated(
        club.workspace, _update(chat_id, "del_member", ["wm0001"], v0, club.version(chat_id), at=at, quit_scene=1), None)
    row = GroupMember.objects.for_workspace(club.workspace).get(group__chat_id=chat_id, userid="wm0001")
    assert (row.left_at, row.quit_scene) == (at, 1)
    club.join(chat_id, "wm0001")
    subscribers.keep_group_updated(club.workspace, _update(chat_id, "add_member", ["wm0001"], "", club.version(chat_id)), None)
    row.refresh_from_db()
    assert row.left_at is None and row.quit_scene is None


def test_name_notice_and_owner_changes_are_read_again(club):
    chat_id = _created(club, "旧名字", ["staff1"])
    club.twin.admin.post("/twin/groups/edit", json={"chat_id": chat_id, "name": "新名字", "notice": "群规：友善交流",
                                                     "owner": "staff1"}).raise_for_status()
    for detail in ("change_name", "change_notice", "change_owner"):
        subscribers.keep_group_updated(club.workspace, _update(chat_id, detail), None)
    group = CustomerGroup.objects.for_workspace(club.workspace).get(chat_id=chat_id)
    assert (group.name, group.notice, group.owner) == ("新名字", "群规：友善交流", club.accounts[1])


def test_a_dismissed_group_keeps_the_first_dismissal_time(club):
    chat_id = _created(club, "快闪群")
    first = timezone.now().replace(microsecond=0)
    for at in (first, first + dt.timedelta(minutes=5)):
        subscribers.keep_group_dismissed(club.workspace, GroupDismissed(occurred_at=at, chat_id=chat_id), None)
    assert CustomerGroup.objects.for_workspace(club.workspace).get(chat_id=chat_id).dismissed_at == first


def test_a_member_event_for_a_group_wecom_no_longer_knows_dismisses_it(club):
    chat_id = _created(club, "快闪群")
    club.twin.admin.post("/twin/groups/dismiss", json={"chat_id": chat_id}).raise_for_status()
    subscribers.keep_group_updated(club.workspace, _update(chat_id, "add_member", ["wm0001"], "", "x"), None)
    assert CustomerGroup.objects.for_workspace(club.workspace).get(chat_id=chat_id).dismissed_at is not None


def test_the_customers_app_still_marks_a_join_as_engagement(club):
    from siyu.customers.subscribers import keep_group_membership

    chat_id = _created(club, "福利群")
    club.join(chat_id, "wm0003")
    event = _update(chat_id, "add_member", ["wm0003"], "", club.version(chat_id))
    subscribers.keep_group_updated(club.workspace, event, None)
    keep_group_membership(club.workspace, event, None)
    assert Customer.objects.for_workspace(club.workspace).get(external_userid="wm0003").last_engaged_at is not None
    member = GroupMember.objects.for_workspace(club.workspace).get(group__chat_id=chat_id, userid="wm0003")
    assert member.customer_id == club.customers[3].pk


def test_events_in_order_write_only_their_members_and_a_gap_still_converges(club):
    """In order, each event builds on the version we hold and writes only its own members; an
    event after a missed one (we hold an older version) or one WeCom has moved past reads the
    whole group, so nothing in between is lost."""
    chat_id = _created(club, "福利群", ["wm0000"])
    v0 = club.version(chat_id)
    club.join(chat_id, "wm0001")
    v1 = club.version(chat_id)
    subscribers.keep_group_updated(club.workspace, _update(chat_id, "add_member", ["wm0001"], v0, v1), None)
    assert _active(club, chat_id) == {"staff0", "wm0000", "wm0001"}
    # A member row we hold drifts from WeCom's: an in-order event about someone else leaves it be.
    GroupMember.objects.for_workspace(club.workspace).filter(userid="wm0000").update(nickname="本地改的")
    club.join(chat_id, "wm0002")
    v2 = club.version(chat_id)
    subscribers.keep_group_updated(club.workspace, _update(chat_id, "add_member", ["wm0002"], v1, v2), None)
    assert _active(club, chat_id) == {"staff0", "wm0000", "wm0001", "wm0002"}
    assert GroupMember.objects.for_workspace(club.workspace).get(userid="wm0000").nickname == "本地改的"
    # wm0003 joins and wm0001 leaves, but only the second event arrives (the first is lost).
    club.join(chat_id, "wm0003")
    v3 = club.version(chat_id)
    club.leave(chat_id, "wm0001")
    v4 = club.version(chat_id)
    subscribers.keep_group_updated(club.workspace, _update(chat_id, "del_member", ["wm0001"], v3, v4, quit_scene=0),
                                   None)
    assert _active(club, chat_id) == {"staff0", "wm0000", "wm0002", "wm0003"}
    # An in-order event that WeCom has already moved past (wm0004 joined since) reads everyone.
    club.join(chat_id, "wm0005")
    v5 = club.version(chat_id)
    club.join(chat_id, "wm0004")
    subscribers.keep_group_updated(club.workspace, _update(chat_id, "add_member", ["wm0005"], v4, v5), None)
    group = CustomerGroup.objects.for_workspace(club.workspace).get(chat_id=chat_id)
    assert _active(club, chat_id) == {"staff0", "wm0000", "wm0002", "wm0003", "wm0004", "wm0005"}
    assert group.member_version == club.version(chat_id) and group.member_count == 6
