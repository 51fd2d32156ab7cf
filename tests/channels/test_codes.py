"""Channel codes and their WeCom contact ways: create, validate, edit, retire, reconcile."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from siyu.accounts.models import StaffAccount
from siyu.channels.models import ChannelAccount, ChannelCode, Welfare
from siyu.channels.services import codes
from siyu.core.services import OPERATOR
from tests.channels.conftest import code_input, way_of
from tests.conftest import seat


def errors_of(excinfo: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return excinfo.value.message_dict


def test_a_state_is_short_prefixed_and_unique_in_the_brand(brand_a):
    states = {codes.new_state(brand_a.workspace) for _ in range(500)}
    assert len(states) == 500
    assert all(s.startswith("ch") and len(s) <= 30 and s.isalnum() for s in states)


def test_creating_a_code_creates_its_contact_way_at_wecom(shop):
    code = codes.create_code(shop.workspace, shop.planner, code_input(shop.accounts))
    way = way_of(shop.twin, code.config_id)
    assert way is not None
    assert (way["state"], way["remark"], way["type"], way["scene"], way["skip_verify"]) == (
        code.state, "南京西路店", 2, 2, True)
    assert way["user"] == code.routed_userids and len(code.routed_userids) == 1
    assert code.routed_userids[0] in {"xiaowanzi01", "xiaowanzi02"}
    assert code.qr_code_url == way["qr_code"] and code.routing_note
    assert ChannelAccount.objects.for_workspace(shop.workspace).filter(code=code).count() == 3


def test_wecom_refusing_the_contact_way_saves_nothing_and_says_why(shop):
    ghost = StaffAccount.objects.create(workspace=shop.workspace, userid="not-at-wecom", name="幽灵")
    data = code_input(shop.accounts, seats=[codes.SeatInput(ghost.pk)])
    with pytest.raises(ValidationError) as excinfo:
        codes.create_code(shop.workspace, shop.planner, data)
    assert "企业微信拒绝" in " ".join(excinfo.value.messages) and "40003" in " ".join(excinfo.value.messages)
    assert not ChannelCode.objects.for_workspace(shop.workspace).exists()
    assert shop.twin.state()["contact_ways"] == []


def test_a_brand_without_a_wecom_connection_is_told_to_connect_first(brand_a):
    accounts = {"xiaowanzi01": StaffAccount.objects.create(workspace=brand_a.workspace, userid="xiaowanzi01"),
                "xiaowanzi02": StaffAccount.objects.create(workspace=brand_a.workspace, userid="xiaowanzi02"),
                "backup01": StaffAccount.objects.create(workspace=brand_a.workspace, userid="backup01")}
    with pytest.raises(ValidationError) as excinfo:
        codes.create_code(brand_a.workspace, seat(brand_a.members["planner"], brand_a.workspace), code_input(accounts))
    assert "企业微信" in " ".join(excinfo.value.messages)
    assert not ChannelCode.objects.for_workspace(brand_a.workspace).exists()


def test_every_problem_is_reported_on_its_own_field_in_chinese(shop):
    data = code_input(shop.accounts, name="一" * 31, touchpoint="billboard", strategy="random",
                      welcome_text="好" * 1400, welcome_attachments=[{"msgtype": "image"}] * 10,
                      seats=[codes.SeatInput(shop.accounts["backup01"].pk, is_backup=True)])
    with translation.override("zh-hans"), pytest.raises(ValidationError) as excinfo:
        codes.create_code(shop.workspace, shop.planner, data)
    errors = errors_of(excinfo)
    assert set(errors) >= {"name", "touchpoint", "strategy", "seats", "welcome_text", "welcome_attachments"}
    assert "30" in errors["name"][0] and "备注" in errors["name"][0]
    assert any("非备用" in m for m in errors["seats"])
    assert not ChannelCode.objects.for_workspace(shop.workspace).exists()
    assert shop.twin.state()["contact_ways"] == []


@pytest.mark.parametrize(("seat_changes", "expected"), [
    ({"weight": 0}, "weight"),
    ({"daily_cap": 0}, "daily cap"),
    ({"shifts": [{"weekdays": [0], "start": "18:00", "end": "09:00"}]}, "ends after it starts"),
    ({"shifts": [{"weekdays": [7], "start": "09:00", "end": "18:00"}]}, "weekdays"),
    ({"shifts": [{"weekdays": [1], "start": "9am", "end": "18:00"}]}, "HH:MM"),
])
def test_a_malformed_seat_is_explained(shop, seat_changes, expected):
    first = codes.SeatInput(shop.accounts["xiaowanzi01"].pk, **seat_changes)
    with translation.override("en"), pytest.raises(ValidationError) as excinfo:
        codes.create_code(shop.workspace, shop.planner, code_input(shop.accounts, seats=[first]))
    assert any(expected in m for m in errors_of(excinfo)["seats"])


def test_an_account_of_another_brand_cannot_be_seated(shop, brand_b):
    stranger = StaffAccount.objects.create(workspace=brand_b.workspace, userid="xiaowanzi01")
    with translation.override("en"), pytest.raises(ValidationError) as excinfo:
        codes.create_code(shop.workspace, shop.planner, code_input(shop.accounts, seats=[codes.SeatInput(stranger.pk)]))
    assert any("this brand's accounts" in m for m in errors_of(excinfo)["seats"])


def test_a_promoter_code_needs_the_promoters_name(shop):
    with translation.override("en"), pytest.raises(ValidationError) as excinfo:
        codes.create_code(shop.workspace, shop.planner, code_input(shop.accounts, touchpoint="promoter"))
    assert "promoter" in errors_of(excinfo)["promoter_name"][0]


def test_each_promoter_has_one_active_code(shop):
    codes.create_code(shop.workspace, shop.planner,
                      code_input(shop.accounts, name="推手阿May", touchpoint="promoter", promoter_name="阿May"))
    with translation.override("en"), pytest.raises(ValidationError) as excinfo:
        codes.create_code(shop.workspace, shop.planner,
                          code_input(shop.accounts, name="阿May第二码", touchpoint="promoter", promoter_name="阿May"))
    assert "already has a promoter code" in errors_of(excinfo)["promoter_name"][0]


def test_a_retired_promoters_name_may_be_given_a_new_code(shop):
    first = codes.create_code(shop.workspace, shop.planner,
                              code_input(shop.accounts, name="推手阿May", touchpoint="promoter", promoter_name="阿May"))
    codes.deactivate_code(shop.workspace, shop.planner, first.pk)
    again = codes.create_code(shop.workspace, shop.planner,
                              code_input(shop.accounts, name="阿May新码", touchpoint="promoter", promoter_name="阿May"))
    assert again.active and again.state != first.state


def test_two_codes_cannot_share_a_name(shop):
    codes.create_code(shop.workspace, shop.planner, code_input(shop.accounts))
    with translation.override("en"), pytest.raises(ValidationError) as excinfo:
        codes.create_code(shop.workspace, shop.planner, code_input(shop.accounts))
    assert "already has a code named" in errors_of(excinfo)["name"][0]
    assert len(shop.twin.state()["contact_ways"]) == 1


def test_welfare_must_belong_to_the_brand(shop, brand_b):
    theirs = Welfare.objects.create(workspace=brand_b.workspace, name="券", kind="gift")
    with pytest.raises(ValidationError) as excinfo:
        codes.create_code(shop.workspace, shop.planner, code_input(shop.accounts, welfare_id=theirs.pk))
    assert "welfare" in errors_of(excinfo)


def test_editing_a_code_renames_its_contact_way_and_keeps_its_state(shop):
    code = codes.create_code(shop.workspace, shop.planner, code_input(shop.accounts))
    state, config_id = code.state, code.config_id
    updated = codes.update_code(shop.workspace, shop.planner, code.pk, code_input(
        shop.accounts, name="南京西路旗舰店", skip_verify=False,
        seats=[codes.SeatInput(shop.accounts["xiaowanzi03"].pk, weight=2, daily_cap=50)]))
    assert (updated.state, updated.config_id) == (state, config_id)
    way = way_of(shop.twin, config_id)
    assert (way["remark"], way["skip_verify"], way["user"], way["state"]) == ("南京西路旗舰店", False, ["xiaowanzi03"], state)
    seats = list(ChannelAccount.objects.for_workspace(shop.workspace).filter(code=code))
    assert [(s.account.userid, s.weight, s.daily_cap) for s in seats] == [("xiaowanzi03", 2, 50)]


def test_a_refused_edit_changes_nothing(shop):
    code = codes.create_code(shop.workspace, shop.planner, code_input(shop.accounts))
    ghost = StaffAccount.objects.create(workspace=shop.workspace, userid="not-at-wecom", name="幽灵")
    with pytest.raises(ValidationError):
        codes.update_code(shop.workspace, shop.planner, code.pk,
                          code_input(shop.accounts, name="新名字", seats=[codes.SeatInput(ghost.pk)]))
    code.refresh_from_db()
    assert code.name == "南京西路店"
    assert way_of(shop.twin, code.config_id)["remark"] == "南京西路店"
    assert ChannelAccount.objects.for_workspace(shop.workspace).filter(code=code).count() == 3


def test_deactivating_deletes_the_contact_way_and_keeps_the_code(shop):
    code = codes.create_code(shop.workspace, shop.planner, code_input(shop.accounts))
    codes.deactivate_code(shop.workspace, shop.planner, code.pk)
    code.refresh_from_db()
    assert not code.active and code.state
    assert way_of(shop.twin, code.config_id) is None
    assert codes.deactivate_code(shop.workspace, shop.planner, code.pk).active is False  # again: no error


def test_reconcile_recreates_a_contact_way_wecom_lost_with_the_same_state(shop):
    code = codes.create_code(shop.workspace, shop.planner, code_input(shop.accounts))
    shop.twin.api("externalcontact/del_contact_way", {"config_id": code.config_id})
    report = codes.reconcile_contact_ways(shop.workspace)
    assert report.recreated == ["南京西路店"] and report.failed == []
    fresh = ChannelCode.objects.for_workspace(shop.workspace).get(pk=code.pk)
    assert fresh.config_id != code.config_id
    way = way_of(shop.twin, fresh.config_id)
    assert (way["state"], way["remark"], way["user"]) == (code.state, code.name, code.routed_userids)


def test_reconcile_leaves_a_healthy_contact_way_alone(shop):
    code = codes.create_code(shop.workspace, shop.planner, code_input(shop.accounts))
    report = codes.reconcile_contact_ways(shop.workspace)
    assert (report.checked, report.recreated, report.repaired) == (1, [], [])
    assert [w["config_id"] for w in shop.twin.state()["contact_ways"]] == [code.config_id]


def test_reconcile_does_not_revive_a_deactivated_code(shop):
    code = codes.create_code(shop.workspace, shop.planner, code_input(shop.accounts))
    codes.deactivate_code(shop.workspace, shop.planner, code.pk)
    assert codes.reconcile_contact_ways(shop.workspace).checked == 0
    assert shop.twin.state()["contact_ways"] == []


@pytest.mark.parametrize("role", ["copywriter", "customer_ops", "data_analyst", "merchandiser"])
def test_roles_without_edit_rights_cannot_create_codes(shop, role):
    with pytest.raises(PermissionDenied):
        codes.create_code(shop.workspace, seat(shop.members[role], shop.workspace), code_input(shop.accounts))
    assert shop.twin.state()["contact_ways"] == []


def test_the_merchandiser_cannot_even_list_codes(shop):
    with pytest.raises(PermissionDenied):
        codes.list_codes(shop.workspace, seat(shop.members["merchandiser"], shop.workspace))


def test_another_brands_code_is_not_found(shop, brand_b):
    code = codes.create_code(shop.workspace, shop.planner, code_input(shop.accounts))
    with pytest.raises(ChannelCode.DoesNotExist):
        codes.get_code(brand_b.workspace, seat(brand_b.admin, brand_b.workspace), code.pk)
    with pytest.raises(ChannelCode.DoesNotExist):
        codes.deactivate_code(brand_b.workspace, OPERATOR, code.pk)
