"""账号规划: "we expect N customers in M days" → new accounts, their names, the daily rate."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from siyu.accounts import services
from tests.accounts.conftest import make_account, make_persona
from tests.conftest import seat


def plan(brand, expected, days, persona, role="planner"):
    member = seat(brand.members[role], brand.workspace)
    return services.plan_accounts(brand.workspace, member, expected, days, persona.pk if persona else None)


def test_free_room_is_used_first_up_to_95_percent(brand_a):
    persona = make_persona(brand_a)
    make_account(brand_a, "a", name="小完子01", persona=persona, friend_count=4000)  # room 750
    make_account(brand_a, "b", name="小完子02", persona=persona, friend_count=4900)  # past 95 %: none
    result = plan(brand_a, 700, 30, persona)
    assert (result.existing_accounts, result.free_room, result.new_accounts) == (2, 750, 0)
    assert result.enough and result.new_names == []
    assert (result.receiving_accounts, result.daily_adds_per_account) == (1, Decimal("23.3"))


def test_new_accounts_cover_the_rest_at_4750_each(brand_a):
    persona = make_persona(brand_a)
    make_account(brand_a, "a", name="小完子01", persona=persona, friend_count=4000)  # room 750
    result = plan(brand_a, 10_000, 20, persona)
    # 10,000 − 750 = 9,250 → two new accounts of 4,750 each (95 % of 5,000)
    assert (result.new_accounts, result.room_per_new_account) == (2, 4750)
    assert result.daily_adds_per_account == Decimal("166.7")  # 10,000 / 20 days / 3 accounts


def test_names_continue_the_existing_numbering(brand_a):
    persona = make_persona(brand_a)
    for n in range(1, 5):
        make_account(brand_a, f"xw{n}", name=f"小完子{n:02d}", persona=persona, friend_count=5000)
    result = plan(brand_a, 9000, 10, persona)
    assert result.new_names == ["小完子05", "小完子06"]


def test_numbering_starts_at_01_and_ignores_other_names(brand_a):
    persona = make_persona(brand_a, name="小美")
    make_account(brand_a, "x", name="小美店长")
    make_account(brand_a, "y", name="小完子07")
    assert plan(brand_a, 5000, 10, persona).new_names == ["小美01", "小美02"]


def test_only_the_personas_active_accounts_lend_their_room(brand_a):
    persona = make_persona(brand_a)
    other = make_persona(brand_a, name="小美")
    make_account(brand_a, "a", persona=other)  # another persona's room
    make_account(brand_a, "b", persona=persona, active=False)  # left the corp
    result = plan(brand_a, 100, 1, persona)
    assert (result.existing_accounts, result.free_room, result.new_accounts) == (0, 0, 1)


def test_the_pure_plan_needs_no_database():
    result = services.plan_capacity(4751, 7, "小完子", accounts=[], taken_names=["小完子09"])
    assert (result.new_accounts, result.new_names) == (2, ["小完子10", "小完子11"])


@pytest.mark.parametrize(("expected", "days", "field"), [
    (0, 10, "expected"), (None, 10, "expected"), (-5, 10, "expected"), (2_000_000, 10, "expected"),
    (100, 0, "days"), (100, None, "days"), (100, 4000, "days"),
])
def test_bad_numbers_are_explained_on_their_field(brand_a, expected, days, field):
    persona = make_persona(brand_a)
    with pytest.raises(ValidationError) as refused:
        plan(brand_a, expected, days, persona)
    assert set(refused.value.message_dict) == {field}


def test_a_persona_of_another_brand_is_refused(brand_a, brand_b):
    foreign = make_persona(brand_b)
    with pytest.raises(ValidationError) as refused:
        plan(brand_a, 100, 10, foreign)
    assert set(refused.value.message_dict) == {"persona"}


def test_a_missing_persona_is_refused(brand_a):
    with pytest.raises(ValidationError) as refused:
        plan(brand_a, 100, 10, None)
    assert set(refused.value.message_dict) == {"persona"}


def test_the_plan_page_answers_the_question(brand_a, login):
    persona = make_persona(brand_a)
    make_account(brand_a, "a", name="小完子01", persona=persona, friend_count=4750)
    client = login(brand_a.members["copywriter"])  # a question changes nothing: viewers may ask
    html = client.get("/accounts/plan/", {"expected": 6000, "days": 30, "persona": persona.pk}).content.decode()
    assert 'data-testid="new-accounts">2<' in html
    assert "小完子02" in html and "小完子03" in html


def test_the_plan_page_shows_the_messages_on_the_form(brand_a, login):
    make_persona(brand_a)
    client = login(brand_a.members["planner"])
    html = client.get("/accounts/plan/", {"expected": 0, "days": "", "persona": ""}).content.decode()
    assert 'data-error-for="expected"' in html and 'data-error-for="days"' in html
    assert 'data-error-for="persona"' in html and 'data-testid="plan"' not in html


def test_the_plan_api_answers_and_validates(brand_a, login):
    persona = make_persona(brand_a)
    client = login(brand_a.members["planner"])
    ok = client.get("/api/accounts/plan", {"expected": 4000, "days": 8, "persona_id": persona.pk})
    assert ok.status_code == 200
    assert ok.json() | {"daily_adds_per_account": None} == {
        "expected": 4000, "days": 8, "persona": "小完子", "existing_accounts": 0, "free_room": 0,
        "new_accounts": 1, "new_names": ["小完子01"], "room_per_new_account": 4750, "receiving_accounts": 1,
        "daily_adds_per_account": None}
    assert Decimal(ok.json()["daily_adds_per_account"]) == Decimal("500.0")
    bad = client.get("/api/accounts/plan", {"expected": 0, "days": 8, "persona_id": persona.pk})
    assert bad.status_code == 422 and set(bad.json()["errors"]) == {"expected"}
