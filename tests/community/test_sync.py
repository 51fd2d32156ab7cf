"""The full group sync against the twin over HTTP: groups, owners and members arrive, paging
resumes from the cursor, a second run changes nothing, and a group WeCom no longer lists ends."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from siyu.community import services
from siyu.community.models import CustomerGroup, GroupMember, MemberKind, SyncStatus
from siyu.community.services import sync as sync_module


def _sync(club, **kwargs):
    sync = services.start_sync(club.workspace, club.seat("admin"), enqueue=False)
    return services.run_sync(club.workspace, sync.pk, **kwargs)


def test_a_full_sync_brings_groups_owners_and_members(club):
    first = club.group("福利群1", ["wm0000", "wm0001", "staff1"])
    club.group("学习群", ["wm0002"], owner="staff1")
    club.join(first, "wm0003")
    sync = _sync(club)
    assert sync.status == SyncStatus.DONE and sync.groups_seen == 2
    group = CustomerGroup.objects.for_workspace(club.workspace).get(chat_id=first)
    assert group.name == "福利群1" and group.owner == club.accounts[0] and group.owner_userid == "staff0"
    assert (group.member_count, group.customer_count) == (5, 3)
    assert group.member_version == club.version(first)
    members = {m.userid: m for m in GroupMember.objects.for_workspace(club.workspace).filter(group=group)}
    assert members["staff1"].kind == MemberKind.STAFF and members["staff1"].customer is None
    assert members["wm0000"].customer == club.customers[0] and members["wm0003"].invitor == "staff0"
    assert members["wm0003"].join_time is not None


def test_the_sync_pages_by_cursor_and_resumes_where_it_stopped(club, monkeypatch):
    monkeypatch.setattr(sync_module, "GROUPS_PER_PAGE", 2)
    for n in range(5):
        club.group(f"群{n}", [f"wm000{n}"])
    sync = services.start_sync(club.workspace, club.seat("admin"), enqueue=False)
    sync = services.run_sync(club.workspace, sync.pk, max_pages=1)
    assert (sync.status, sync.pages, sync.groups_seen) == (SyncStatus.RUNNING, 1, 2)
    assert sync.cursor
    sync = services.run_sync(club.workspace, sync.pk)
    assert (sync.status, sync.pages, sync.groups_seen) == (SyncStatus.DONE, 3, 5)
    assert CustomerGroup.objects.for_workspace(club.workspace).count() == 5


def test_a_second_sync_changes_nothing(club):
    club.group("福利群", ["wm0000", "wm0001"])
    _sync(club)
    before = list(GroupMember.objects.for_workspace(club.workspace).order_by("pk").values())
    _sync(club)
    assert list(GroupMember.objects.for_workspace(club.workspace).order_by("pk").values()) == before


def test_only_one_sync_runs_at_a_time(club):
    services.start_sync(club.workspace, club.seat("admin"), enqueue=False)
    with pytest.raises(ValidationError):
        services.start_sync(club.workspace, club.seat("admin"), enqueue=False)


def test_a_group_no_longer_listed_is_taken_as_dismissed(club):
    chat_id = club.group("快闪群", ["wm0000"])
    _sync(club)
    club.twin.admin.post("/twin/groups/dismiss", json={"chat_id": chat_id}).raise_for_status()
    _sync(club)
    assert CustomerGroup.objects.for_workspace(club.workspace).get(chat_id=chat_id).dismissed_at is not None


def test_a_copywriter_cannot_start_a_sync(club):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.start_sync(club.workspace, club.seat("copywriter"), enqueue=False)
