"""Channel code, welfare and redemption changes are in the audit log, in words: the code's welcome
message old → new, accounts and tags by name, a redemption with its customer."""

from __future__ import annotations

from siyu.channels.services import codes
from siyu.channels.services import welfare as svc
from siyu.core.models import AuditAction, AuditEntry
from siyu.customers.models import Customer
from siyu.tags.models import Tag, TagGroup
from tests.channels.conftest import code_input
from tests.conftest import seat
from tests.support.audit import last_words


def test_a_new_code_and_each_change_to_it_are_logged_by_name(shop):
    code = codes.create_code(shop.workspace, shop.planner, code_input(shop.accounts, welcome_text="你好"))
    assert last_words(shop.workspace).startswith("alpha-planner [channels/created] 新建渠道码「南京西路店」")
    group = TagGroup.objects.create(workspace=shop.workspace, name="来源")
    Tag.objects.create(workspace=shop.workspace, group=group, name="门店客", wecom_tag_id="etSTORE")
    codes.update_code(shop.workspace, shop.planner, code.pk, code_input(
        shop.accounts, welcome_text="欢迎来到南京西路店", auto_tag_ids=["etSTORE"],
        seats=[codes.SeatInput(shop.accounts["xiaowanzi01"].pk)]))
    words = last_words(shop.workspace)
    assert words.startswith("alpha-planner [channels/updated] 渠道码「南京西路店」：")
    assert "欢迎语：你好 → 欢迎来到南京西路店" in words
    assert "自动标签：（空） → 门店客" in words
    assert "企微号：小完子01、小完子02、backup01（备用） → 小完子01" in words
    assert "etSTORE" not in words and "auto_tag_ids" not in words


def test_deactivating_a_code_is_logged(shop):
    code = codes.create_code(shop.workspace, shop.planner, code_input(shop.accounts))
    codes.deactivate_code(shop.workspace, shop.planner, code.pk)
    assert last_words(shop.workspace) == "alpha-planner [channels/updated] 渠道码「南京西路店」：启用中：是 → 否"


def test_welfare_creation_upload_and_redemption_are_logged(brand_a):
    planner = seat(brand_a.members["planner"], brand_a.workspace)
    welfare = svc.create_welfare(brand_a.workspace, planner, svc.WelfareInput(name="新客券", kind="coupon"))
    assert last_words(brand_a.workspace) == ("alpha-planner [channels/created] 新建福利「新客券」："
                                             "类型：优惠券码；库存：不限量")
    svc.upload_codes(brand_a.workspace, planner, welfare.pk, text="A1\nA2")
    assert last_words(brand_a.workspace).endswith("福利「新客券」：新增券码：2")
    customer = Customer.objects.create(workspace=brand_a.workspace, external_userid="wmA", name="王小雨")
    grant = svc.issue_welfare(brand_a.workspace, welfare, customer, None, None)
    assert AuditEntry.objects.for_workspace(brand_a.workspace).filter(action=AuditAction.REDEEMED).count() == 0
    svc.redeem(brand_a.workspace, planner, grant.pk, "门店核销")
    assert last_words(brand_a.workspace) == ("alpha-planner [channels/redeemed] 核销福利「新客券」："
                                             "客户：王小雨；备注：门店核销")


def test_an_issue_by_the_welcome_lane_writes_no_entry(brand_a):
    planner = seat(brand_a.members["planner"], brand_a.workspace)
    welfare = svc.create_welfare(brand_a.workspace, planner, svc.WelfareInput(name="礼品", kind="gift",
                                                                              description="小样"))
    before = AuditEntry.objects.for_workspace(brand_a.workspace).count()
    customer = Customer.objects.create(workspace=brand_a.workspace, external_userid="wmB")
    svc.issue_welfare(brand_a.workspace, welfare, customer, None, None)
    assert AuditEntry.objects.for_workspace(brand_a.workspace).count() == before


def test_a_spend_entry_and_its_removal_are_logged(shop):
    import datetime as dt

    from siyu.channels.services import analytics

    code = codes.create_code(shop.workspace, shop.planner, code_input(shop.accounts))
    spend = analytics.add_spend(shop.workspace, shop.planner, code.pk, dt.date(2026, 3, 1), dt.date(2026, 3, 31),
                                "1200.5")
    assert last_words(shop.workspace) == ("alpha-planner [channels/created] 新建渠道花费「南京西路店」："
                                          "周期：2026-03-01 – 2026-03-31；金额（元）：1200.50")
    analytics.delete_spend(shop.workspace, shop.planner, spend.pk)
    assert last_words(shop.workspace).startswith("alpha-planner [channels/deletion] 删除渠道花费「南京西路店」")
