"""A staff account's capacity (friend limit), persona and operator changes are in the audit log."""

from __future__ import annotations

from siyu.accounts.services.roster import AccountInput, save_account
from tests.accounts.conftest import make_account
from tests.conftest import seat
from tests.ip.conftest import make_persona
from tests.support.audit import last_words


def test_a_raised_friend_limit_and_a_new_persona_are_logged_before_and_after(brand_a):
    persona = make_persona(brand_a)
    account = make_account(brand_a, "xiaowan01", friend_limit=5000)
    planner = seat(brand_a.members["planner"], brand_a.workspace)
    ops = seat(brand_a.members["customer_ops"], brand_a.workspace)
    save_account(brand_a.workspace, planner, account.pk,
                 AccountInput(persona_id=persona.pk, friend_limit=20000, operator_id=ops.pk))
    words = last_words(brand_a.workspace)
    assert words.startswith("alpha-planner [accounts/updated] 企微号「xiaowan01」：")
    assert "好友上限：5000 → 20000" in words
    assert "人设：（空） → 小完子" in words and "→ alpha-customer_ops" in words
