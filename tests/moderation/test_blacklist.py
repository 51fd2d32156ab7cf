"""The cross-group blacklist: removed in one group, flagged with a removal task in any other."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from siyu.community import subscribers as community_subscribers
from siyu.community.models import GroupMember
from siyu.core.models import AuditEntry
from siyu.moderation import services, subscribers
from siyu.moderation.models import BlacklistEntry, BlacklistHit, BlacklistSource
from siyu.sop.models import StaffTask
from tests.conftest import seat
from tests.moderation.conftest import joined, made_group, removed


def _tasks(club):
    return StaffTask.objects.for_workspace(club.workspace).filter(source="moderation")


def test_a_member_removed_from_a_group_is_blacklisted_with_the_group(club):
    group = made_group(club, "福利群1", ["wm0000", "wm0001"])
    removed(club, group, "wm0001")
    entry = BlacklistEntry.objects.for_workspace(club.workspace).get()
    assert (entry.external_userid, entry.source, entry.source_group_id) == ("wm0001", BlacklistSource.REMOVED, group.pk)
    assert "福利群1" in entry.reason and entry.customer == club.customers[1]
    assert services.is_blacklisted(club.workspace, external_userid="wm0001")
    assert not services.is_blacklisted(club.workspace, external_userid="wm0000")


def test_a_member_who_leaves_by_themself_is_not_blacklisted(club):
    group = made_group(club, "福利群1", ["wm0000", "wm0001"])
    removed(club, group, "wm0001", scene="left")
    assert not BlacklistEntry.objects.for_workspace(club.workspace).exists()
    assert GroupMember.objects.for_workspace(club.workspace).get(group=group, userid="wm0001").left_at is not None


def test_a_blacklisted_member_joining_another_group_is_flagged_and_the_owner_gets_a_task(club):
    first = made_group(club, "福利群1", ["wm0000", "wm0001"])
    other = made_group(club, "学习群", ["wm0002"], owner="staff1")
    removed(club, first, "wm0001")
    event = joined(club, other, "wm0001")
    hit = BlacklistHit.objects.for_workspace(club.workspace).get()
    assert (hit.group_id, hit.userid) == (other.pk, "wm0001")
    task = _tasks(club).get(pk=hit.task_id)
    assert task.assignee == club.accounts[1] and task.group_id == other.pk and task.customer == club.customers[1]
    assert "学习群" in task.text and task.kind == services.REMOVAL_KIND
    # the same event again (a replay), and the community's own handler after it, change nothing
    subscribers.screen_member_changes(club.workspace, event, None)
    community_subscribers.keep_group_updated(club.workspace, event, None)
    assert BlacklistHit.objects.for_workspace(club.workspace).count() == 1 and _tasks(club).count() == 1


def test_the_blacklist_is_found_by_unionid(club):
    customer = club.customers[3]
    customer.unionid = "ou-3"
    customer.save()
    group = made_group(club, "福利群1", ["wm0003"])
    removed(club, group, "wm0003")
    assert services.is_blacklisted(club.workspace, unionid="ou-3")
    assert services.blacklist_entry_for(club.workspace, unionid="ou-3").external_userid == "wm0003"
    assert not services.is_blacklisted(club.workspace)


def test_an_operator_adds_and_lifts_an_entry_by_hand_and_both_are_audited(club):
    admin = club.seat("admin")
    entry = services.add_entry(club.workspace, admin, external_userid="wm0004", reason="骂人")
    assert entry.source == BlacklistSource.MANUAL and entry.name == "客户4" and entry.added_by == admin
    with pytest.raises(ValidationError):
        services.add_entry(club.workspace, admin, external_userid="wm0004", reason="again")
    services.lift_entry(club.workspace, admin, entry.pk, "误会")
    assert not services.is_blacklisted(club.workspace, external_userid="wm0004")
    actions = list(AuditEntry.objects.for_workspace(club.workspace).filter(module="moderation")
                   .values_list("action", flat=True).order_by("pk"))
    assert actions == ["created", "deletion"]
    again = services.add_entry(club.workspace, admin, external_userid="wm0004", reason="又来了")
    assert again.pk == entry.pk and again.lifted_at is None and again.reason == "又来了"


def test_adding_by_hand_explains_what_is_missing(club):
    with pytest.raises(ValidationError) as refused:
        services.add_entry(club.workspace, club.seat("admin"))
    assert set(refused.value.message_dict) == {"external_userid", "reason"}


@pytest.mark.parametrize(("role", "allowed"), [("admin", True), ("ops_lead", True), ("planner", True),
                                               ("customer_ops", True), ("copywriter", False),
                                               ("data_analyst", False), ("merchandiser", False)])
def test_only_community_editors_change_the_blacklist(club, role, allowed):
    call = lambda: services.add_entry(club.workspace, club.seat(role), external_userid="wm0005", reason="x")  # noqa: E731
    if allowed:
        call()
    else:
        with pytest.raises(PermissionDenied):
            call()


def test_a_removal_task_by_hand_goes_to_the_owner(club):
    group = made_group(club, "福利群1", ["wm0000", "wm0001"], owner="staff1")
    task = services.removal_task(club.workspace, club.seat("ops_lead"), group_id=group.pk, userid="wm0000",
                                 reason="发广告")
    assert task.assignee == club.accounts[1] and "发广告" in task.text and task.source == "moderation"
    with pytest.raises(ValidationError):
        services.removal_task(club.workspace, club.seat("ops_lead"), group_id=group.pk, userid="staff1", reason="x")


def test_another_brand_sees_nothing(club, brand_b):
    group = made_group(club, "福利群1", ["wm0000", "wm0001"])
    removed(club, group, "wm0001")
    assert not services.is_blacklisted(brand_b.workspace, external_userid="wm0001")
    assert not services.list_entries(brand_b.workspace, seat(brand_b.admin, brand_b.workspace)).exists()
