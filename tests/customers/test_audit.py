"""Customer profile, remark and custom-field changes are in the audit log: the field's label and
its value before → after, never the phone number itself."""

from __future__ import annotations

import datetime as dt

from siyu.customers.models import Customer, FieldKind
from siyu.customers.services import profile
from tests.conftest import seat
from tests.customers.conftest import connect
from tests.customers.test_profile_edit import friend
from tests.support.audit import last_words


def test_a_profile_change_is_logged_by_label_with_the_phone_kept_out(brand_a):
    ws = brand_a.workspace
    admin = seat(brand_a.admin, ws)
    profile.save_field(ws, admin, None, key="store", label="门店", kind=FieldKind.CHOICE, choices=["静安", "徐汇"])
    assert last_words(ws) == "alpha-admin [customers/created] 新建自定义字段「门店」：类型：选项"
    customer = Customer.objects.create(workspace=ws, external_userid="wmAUD", name="林小姐",
                                       birthday=dt.date(1995, 5, 1), fields={"store": "静安"})
    ops = seat(brand_a.members["customer_ops"], ws)
    profile.update_profile(ws, ops, customer.pk, phone="13800000001", birthday="1995-06-01",
                           fields={"store": "徐汇"})
    words = last_words(ws)
    assert words.startswith("alpha-customer_ops [customers/updated] 客户资料「林小姐」：")
    assert "生日：1995-05-01 → 1995-06-01" in words and "门店：静安 → 徐汇" in words
    assert "手机号：已修改" in words and "13800000001" not in words


def test_changing_and_deleting_a_custom_field_is_logged(brand_a):
    ws = brand_a.workspace
    admin = seat(brand_a.admin, ws)
    field = profile.save_field(ws, admin, None, key="store", label="门店", kind=FieldKind.CHOICE, choices=["静安"])
    profile.save_field(ws, admin, field.pk, key="store", label="所属门店", kind=FieldKind.CHOICE,
                       choices=["静安", "徐汇"])
    assert last_words(ws) == ("alpha-admin [customers/updated] 自定义字段「所属门店」："
                              "名称：门店 → 所属门店；选项：静安 → 静安、徐汇")
    profile.delete_field(ws, admin, field.pk)
    assert last_words(ws) == "alpha-admin [customers/deletion] 删除自定义字段「所属门店」：有值的客户数：0"


def test_a_remark_is_logged_old_to_new(brand_a, twin):
    connect(brand_a.workspace, twin)
    relation = friend(twin, brand_a.workspace)
    ops = seat(brand_a.members["customer_ops"], brand_a.workspace)
    profile.remark_follow(brand_a.workspace, ops, relation.customer_id, relation.pk, remark="林姐", description="")
    words = last_words(brand_a.workspace)
    assert words.startswith("alpha-customer_ops [customers/updated] 备注「")
    assert words.endswith("：备注：（空） → 林姐")
