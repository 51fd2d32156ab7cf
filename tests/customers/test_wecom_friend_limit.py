"""Friend limits checked against WeCom (issue 12, item 8). WeCom does not report an account's
limit; it refuses a transfer to a full account (WECOM.md §8 status 4, §3 transfer_fail
customer_limit_exceed). When it does so below the limit Siyu keeps, routing treats the account
as full at WeCom's count and the accounts page says the two disagree; above WeCom's maximum of
20,000 the limit is refused when saved."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from siyu.accounts import services as accounts
from siyu.channels.models import ChannelAccount
from siyu.channels.services.routing import why_not
from siyu.customers.models import CustomerTransfer, TransferStatus
from siyu.customers.services import transfers
from tests.conftest import seat
from tests.customers.conftest import connect
from tests.customers.test_transfers import DAY, B, account, customers, move


@pytest.fixture
def brand(brand_a, twin):
    connect(brand_a.workspace, twin)
    for userid in ("xiaowanzi01", B):
        accounts.account_for_userid(brand_a.workspace, userid)  # as the staff sync leaves them
    return brand_a


def a_full_refusal(brand, twin):
    """Siyu believes B may take 20,000 friends; WeCom (the twin) refuses it at 1."""
    planner = seat(brand.members["planner"], brand.workspace)
    accounts.save_account(brand.workspace, planner, account(brand, B).pk, accounts.AccountInput(friend_limit=20000))
    twin.add_staff(B, capacity=1)
    customers(brand, twin, "wmFULL", staff=B)
    move(brand, customers(brand, twin, "wmA"))
    twin.advance(DAY + 1)
    transfers.poll_transfers(brand.workspace)
    assert CustomerTransfer.objects.for_workspace(brand.workspace).get().status == TransferStatus.FULL


def test_a_transfer_refused_as_full_below_siyus_limit_makes_routing_treat_the_account_as_full(brand, twin):
    a_full_refusal(brand, twin)
    takeover = account(brand, B)
    assert (takeover.friend_limit, takeover.wecom_full_friends, takeover.limit_disagrees) == (20000, 1, True)
    assert takeover.is_full and takeover.fill_ratio == 1.0
    assert why_not(ChannelAccount(account=takeover), takeover.wecom_full_at, {}) is not None


def test_the_accounts_page_warns_when_wecom_and_siyu_disagree_on_the_limit(brand, twin, login):
    a_full_refusal(brand, twin)
    html = login(brand.admin).get("/accounts/").content.decode()
    warning = html.split('data-testid="limit-disagrees"', 1)[1].split("</div>\n</div>", 1)[0]
    assert "20000" in warning and "1 位好友" in warning and "企业微信" in warning
    assert 'data-testid="wecom-full"' in html


def test_setting_the_limit_again_clears_the_signal_and_raising_it_past_wecoms_count_warns(brand, twin):
    a_full_refusal(brand, twin)
    planner = seat(brand.members["planner"], brand.workspace)
    with translation.override("en"):
        saved = accounts.save_account(brand.workspace, planner, account(brand, B).pk,
                                      accounts.AccountInput(friend_limit=15000))
    assert any("WeCom refused" in w and "expanded in WeCom" in w for w in saved.warnings)
    takeover = account(brand, B)
    assert takeover.wecom_full_friends is None and not takeover.limit_disagrees


def test_a_limit_above_wecoms_maximum_is_refused_with_wecoms_figure(brand):
    planner = seat(brand.members["planner"], brand.workspace)
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        accounts.save_account(brand.workspace, planner, account(brand, B).pk, accounts.AccountInput(friend_limit=20001))
    assert "20,000" in refused.value.message_dict["friend_limit"][0]


def test_wecoms_transfer_fail_callback_for_a_full_takeover_records_the_signal_too(brand, twin):
    planner = seat(brand.members["planner"], brand.workspace)
    accounts.save_account(brand.workspace, planner, account(brand, B).pk, accounts.AccountInput(friend_limit=20000))
    customers(brand, twin, "wmOLD", staff=B)
    who = customers(brand, twin, "wmA")
    move(brand, who)
    changed = transfers.record_transfer_failed(brand.workspace, takeover_userid=B, external_userid="wmA",
                                               reason="customer_limit_exceed", at=timezone.now())
    takeover = account(brand, B)
    assert changed == 1 and takeover.wecom_full_friends == 1 and takeover.limit_disagrees
