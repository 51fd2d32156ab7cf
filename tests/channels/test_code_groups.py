"""Code groups (活码分组): made, renamed and deleted (with confirmation) by those who edit codes,
each change audited; a code is in at most one group, and the list filters by group."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from siyu.channels.models import ChannelCode, CodeGroup
from siyu.channels.services import codes, groups
from siyu.core.auditing import describe
from siyu.core.models import AuditAction, AuditEntry
from tests.channels.conftest import code_input, make_code
from tests.conftest import seat


def planner(brand):
    return seat(brand.members["planner"], brand.workspace)


def test_a_planner_makes_renames_and_deletes_a_group_each_change_audited(brand_a):
    group = groups.create_group(brand_a.workspace, planner(brand_a), "  双十一  活动 ")
    assert group.name == "双十一 活动"
    groups.rename_group(brand_a.workspace, planner(brand_a), group.pk, "双十二活动")
    groups.delete_group(brand_a.workspace, planner(brand_a), group.pk)
    entries = AuditEntry.objects.for_workspace(brand_a.workspace).filter(module="channels").order_by("id")
    assert [e.action for e in entries] == [AuditAction.CREATED, AuditAction.UPDATED, AuditAction.DELETION]
    with translation.override("zh-hans"):
        assert "双十一 活动 → 双十二活动" in describe(entries[1])


def test_a_group_name_is_unique_in_the_brand_and_not_blank(brand_a, brand_b):
    groups.create_group(brand_a.workspace, planner(brand_a), "门店")
    groups.create_group(brand_b.workspace, planner(brand_b), "门店")  # another brand may
    for name in ("门店", " ", "长" * 31):
        with pytest.raises(ValidationError) as caught:
            groups.create_group(brand_a.workspace, planner(brand_a), name)
        assert "name" in caught.value.message_dict


def test_deleting_a_group_keeps_its_codes_in_no_group(brand_a):
    group = groups.create_group(brand_a.workspace, planner(brand_a), "门店")
    code = make_code(brand_a.workspace, group=group)
    assert groups.delete_group(brand_a.workspace, planner(brand_a), group.pk) == 1
    code.refresh_from_db()
    assert code.group is None and ChannelCode.objects.for_workspace(brand_a.workspace).count() == 1


def test_only_those_who_edit_codes_manage_groups(brand_a):
    copywriter = seat(brand_a.members["copywriter"], brand_a.workspace)
    with pytest.raises(PermissionDenied):
        groups.create_group(brand_a.workspace, copywriter, "门店")
    assert groups.list_groups(brand_a.workspace, copywriter) == []


def test_a_code_is_saved_in_a_group_of_its_own_brand_only(shop, brand_b):
    mine = groups.create_group(shop.workspace, shop.planner, "门店")
    theirs = groups.create_group(brand_b.workspace, planner(brand_b), "门店")
    code = codes.create_code(shop.workspace, shop.planner, code_input(shop.accounts, group_id=mine.pk))
    assert code.group == mine
    with pytest.raises(ValidationError) as caught:
        codes.update_code(shop.workspace, shop.planner, code.pk, code_input(shop.accounts, group_id=theirs.pk))
    assert "group" in caught.value.message_dict


def test_the_list_filters_by_group_and_by_no_group(brand_a):
    stores = groups.create_group(brand_a.workspace, planner(brand_a), "门店")
    make_code(brand_a.workspace, state="chstore", group=stores)
    make_code(brand_a.workspace, state="chloose")
    reader = seat(brand_a.members["data_analyst"], brand_a.workspace)
    assert [r.code.state for r in codes.list_codes(brand_a.workspace, reader, group=stores.pk)] == ["chstore"]
    assert [r.code.state for r in codes.list_codes(brand_a.workspace, reader, group=groups.NO_GROUP)] == ["chloose"]
    assert len(codes.list_codes(brand_a.workspace, reader)) == 2
    assert [g.code_count for g in groups.list_groups(brand_a.workspace, reader)] == [1]


def test_the_list_page_shows_groups_filters_and_asks_before_deleting_one(brand_a, login):
    stores = groups.create_group(brand_a.workspace, planner(brand_a), "门店")
    make_code(brand_a.workspace, state="chstore", name="南京西路店", group=stores)
    make_code(brand_a.workspace, state="chloose", name="信息流广告")
    client = login(brand_a.members["planner"])
    page = client.get(f"/channels/?group={stores.pk}").content.decode()
    assert "南京西路店" in page and "信息流广告" not in page
    assert "data-confirm=" in page and f"/channels/groups/{stores.pk}/delete/" in page
    assert "信息流广告" in client.get("/channels/?group=none").content.decode()
    assert "南京西路店" in client.get("/channels/?group=junk").content.decode()  # a bad filter shows all


def test_groups_are_managed_from_the_list_page(brand_a, login):
    client = login(brand_a.members["planner"])
    response = client.post("/channels/groups/new/", {"name": "线上投放"})
    group = CodeGroup.objects.for_workspace(brand_a.workspace).get()
    assert response.status_code == 302 and response["Location"] == f"/channels/?group={group.pk}"
    client.post(f"/channels/groups/{group.pk}/rename/", {"name": "线上"})
    group.refresh_from_db()
    assert group.name == "线上"
    client.post("/channels/groups/new/", {"name": "线上"})
    assert CodeGroup.objects.for_workspace(brand_a.workspace).count() == 1
    client.post(f"/channels/groups/{group.pk}/delete/")
    assert not CodeGroup.objects.for_workspace(brand_a.workspace).exists()


def test_another_brands_group_is_not_found(brand_a, brand_b, login):
    theirs = groups.create_group(brand_b.workspace, planner(brand_b), "门店")
    response = login(brand_a.members["planner"]).post(f"/channels/groups/{theirs.pk}/delete/")
    assert response.status_code == 404 and CodeGroup.objects.for_workspace(brand_b.workspace).exists()
