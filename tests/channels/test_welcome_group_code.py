"""A channel code can invite its new friends to a group live code (群活码): the welcome carries the
group code's QR as a picture, after the code's own attachments; a code that takes no joins is
left out, and a group code of another brand cannot be chosen."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from siyu.channels.group_codes import group_code_choices
from siyu.channels.services import codes
from siyu.groupcodes.models import CodeStatus, GroupCode
from tests.channels.conftest import drain, make_code, publish_add, scan_and_add
from tests.channels.test_welcome import welcomes
from tests.conftest import seat

QR = "https://wework.qpic.cn/wwpic/group-code-qr.png"


def group_code(workspace, status=CodeStatus.ACTIVE) -> GroupCode:
    return GroupCode.objects.create(workspace=workspace, name="福利群活码", state=f"gc{status}", qr_code_url=QR,
                                    config_id="cfg-gc", status=status)


def test_the_welcome_carries_the_group_codes_qr_after_the_codes_own_attachments(live_shop):
    invite_to = group_code(live_shop.workspace)
    make_code(live_shop.workspace, group_code_id=invite_to.pk, welcome_text="欢迎！长按二维码进群",
              welcome_attachments=[{"type": "link", "title": "新人礼包", "url": "https://shop.example.com/gift"}])
    publish_add(live_shop.workspace, scan_and_add(live_shop.twin, "xiaowanzi01", "chwelcome01", name="王小雨"))
    drain()

    [message] = welcomes(live_shop.twin)
    assert [a["msgtype"] for a in message["attachments"]] == ["link", "image"]
    assert message["attachments"][1]["image"] == {"pic_url": QR}


def test_a_group_code_that_takes_no_joins_is_left_out_of_the_welcome(live_shop):
    make_code(live_shop.workspace, group_code_id=group_code(live_shop.workspace, CodeStatus.EXPIRED).pk,
              welcome_text="欢迎！")
    publish_add(live_shop.workspace, scan_and_add(live_shop.twin, "xiaowanzi01", "chwelcome01", name="王小雨"))
    drain()

    [message] = welcomes(live_shop.twin)
    assert message["text"] == "欢迎！" and not message.get("attachments")


def test_only_the_brands_own_group_codes_can_be_chosen(brand_a, brand_b):
    theirs = group_code(brand_b.workspace)
    ours = group_code(brand_a.workspace)
    assert group_code_choices(brand_a.workspace) == [(ours.pk, "福利群活码")]
    code = make_code(brand_a.workspace)
    data = codes.CodeInput(name=code.name, touchpoint=code.touchpoint, group_code_id=theirs.pk)
    with pytest.raises(ValidationError) as refused:
        codes.update_code(brand_a.workspace, seat(brand_a.admin, brand_a.workspace), code.pk, data)
    assert "group_code" in refused.value.message_dict
