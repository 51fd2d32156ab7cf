"""Accounts synced from WeCom (user/list_id, user/get) over real HTTP against the twin."""

import pytest
from django.core.exceptions import PermissionDenied

from siyu.accounts import services
from siyu.accounts.models import StaffAccount
from siyu.accounts.services import roster
from siyu.core.services import OPERATOR
from siyu.wecom.models import ApiCall
from siyu.wecom.services import NotConnected
from tests.accounts.conftest import make_account
from tests.conftest import seat


def planner(brand):
    return seat(brand.members["planner"], brand.workspace)


def accounts_of(brand):
    return {a.userid: a for a in StaffAccount.objects.for_workspace(brand.workspace)}


def test_new_staff_become_accounts_with_name_and_departments(brand_a, connected):
    connected.add_staff("xiaowan01", name="小完子01", department=[1, 2])
    connected.add_staff("xiaowan02", name="小完子02")
    result = services.sync_accounts(brand_a.workspace, planner(brand_a))
    assert sorted(result.created) == ["xiaowan01", "xiaowan02"] and result.updated == []
    accounts = accounts_of(brand_a)
    assert accounts["xiaowan01"].name == "小完子01" and accounts["xiaowan01"].department_ids == [1, 2]
    assert accounts["xiaowan01"].active and accounts["xiaowan01"].synced_at is not None


def test_a_member_in_two_departments_is_one_account(brand_a, connected):
    connected.add_staff("store01", department=[1, 2, 3])
    services.sync_accounts(brand_a.workspace, planner(brand_a))
    assert list(accounts_of(brand_a)) == ["store01"]


def test_a_renamed_member_is_updated_and_the_planners_settings_kept(brand_a, connected):
    connected.add_staff("xiaowan01", name="张三")
    services.sync_accounts(brand_a.workspace, planner(brand_a))
    StaffAccount.objects.for_workspace(brand_a.workspace).update(friend_limit=20000, group_name="南京西路店",
                                                                 grouping="store", friend_count=12)
    connected.add_staff("xiaowan01", name="小完子01")
    result = services.sync_accounts(brand_a.workspace, planner(brand_a))
    assert result.updated == ["xiaowan01"] and result.created == []
    account = accounts_of(brand_a)["xiaowan01"]
    assert account.name == "小完子01"
    assert (account.friend_limit, account.group_name, account.friend_count) == (20000, "南京西路店", 12)


def test_an_unchanged_member_counts_as_unchanged(brand_a, connected):
    connected.add_staff("xiaowan01", name="小完子01")
    services.sync_accounts(brand_a.workspace, planner(brand_a))
    again = services.sync_accounts(brand_a.workspace, planner(brand_a))
    assert (again.created, again.updated, again.deactivated, again.unchanged) == ([], [], [], 1)


def test_an_account_no_longer_listed_becomes_inactive_and_is_kept(brand_a, connected):
    connected.add_staff("xiaowan01")
    # Seen in an add event before, but no longer in the corp's address book.
    gone = make_account(brand_a, "left-the-corp", friend_count=40)
    result = services.sync_accounts(brand_a.workspace, planner(brand_a))
    assert result.deactivated == ["left-the-corp"]
    gone.refresh_from_db()
    assert not gone.active and gone.friend_count == 40


def test_a_member_who_left_the_corp_becomes_an_inactive_account(brand_a, connected):
    connected.add_staff("xiaowan01")
    connected.add_staff("xiaowan02")
    services.sync_accounts(brand_a.workspace, planner(brand_a))
    connected.admin.post("/twin/staff/resign", json={"userid": "xiaowan02"}).raise_for_status()
    assert connected.api("user/get", userid="xiaowan02")["status"] == 5
    result = services.sync_accounts(brand_a.workspace, planner(brand_a))
    assert result.updated == ["xiaowan02"]  # still listed, with status 5
    accounts = accounts_of(brand_a)
    assert accounts["xiaowan01"].active and not accounts["xiaowan02"].active


def test_an_account_seen_first_in_an_add_event_gets_its_name_from_the_sync(brand_a, connected):
    early = services.account_for_userid(brand_a.workspace, "xiaowan01")
    assert early.name == "xiaowan01"
    connected.add_staff("xiaowan01", name="小完子01")
    result = services.sync_accounts(brand_a.workspace, planner(brand_a))
    assert result.updated == ["xiaowan01"]
    early.refresh_from_db()
    assert early.name == "小完子01"


def test_an_inactive_account_listed_again_is_active_again(brand_a, connected):
    make_account(brand_a, "xiaowan01", active=False)
    connected.add_staff("xiaowan01")
    services.sync_accounts(brand_a.workspace, planner(brand_a))
    assert accounts_of(brand_a)["xiaowan01"].active


def test_the_sync_pages_through_the_member_list(brand_a, connected, monkeypatch):
    monkeypatch.setattr(roster, "STAFF_PAGE_SIZE", 2)
    for n in range(1, 6):
        connected.add_staff(f"staff{n:02d}")
    result = services.sync_accounts(brand_a.workspace, planner(brand_a))
    assert sorted(result.created) == [f"staff{n:02d}" for n in range(1, 6)]
    pages = ApiCall.objects.for_workspace(brand_a.workspace).filter(endpoint="user/list_id")
    assert pages.count() == 3


def test_the_operator_seat_syncs_for_the_demo(brand_a, connected):
    connected.add_staff("xiaowan01")
    assert services.sync_accounts(brand_a.workspace, OPERATOR).created == ["xiaowan01"]


@pytest.mark.parametrize("role", ["copywriter", "customer_ops", "data_analyst", "merchandiser"])
def test_roles_that_may_not_edit_accounts_cannot_sync(brand_a, connected, role):
    connected.add_staff("xiaowan01")
    with pytest.raises(PermissionDenied):
        services.sync_accounts(brand_a.workspace, seat(brand_a.members[role], brand_a.workspace))
    assert accounts_of(brand_a) == {}


def test_a_brand_without_a_connection_is_told_to_connect(brand_a):
    with pytest.raises(NotConnected):
        services.sync_accounts(brand_a.workspace, planner(brand_a))


def test_the_sync_button_reports_what_changed(brand_a, connected, login):
    connected.add_staff("xiaowan01")
    response = login(brand_a.members["planner"]).post("/accounts/sync/", follow=True)
    html = response.content.decode()
    assert response.redirect_chain[-1][0] == "/accounts/"
    assert "xiaowan01" in html and 'data-testid="sync"' in html


def test_the_sync_button_explains_a_missing_connection(brand_a, login):
    response = login(brand_a.members["planner"]).post("/accounts/sync/", follow=True)
    assert "alert-danger" in response.content.decode()


def test_syncing_one_brand_leaves_the_other_alone(brand_a, brand_b, connected):
    other = make_account(brand_b, "beta-staff")
    connected.add_staff("xiaowan01")
    services.sync_accounts(brand_a.workspace, planner(brand_a))
    other.refresh_from_db()
    assert other.active and StaffAccount.objects.for_workspace(brand_b.workspace).count() == 1
