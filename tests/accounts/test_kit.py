"""人设包装: each account's avatar, name, moments cover, signature and greeting against its persona."""

import pytest
from django.core.exceptions import ValidationError

from siyu.accounts import services
from siyu.accounts.models import StaffAccount
from siyu.ip.demo import draw_avatar
from tests.accounts.conftest import as_jpeg, draw_other_picture, make_account, make_persona, picture
from tests.conftest import seat

SLOGAN = "精致不贵，每天都要美美哒"


def persona_of(brand, **overrides):
    return make_persona(brand, avatar=picture(draw_avatar()), slogan=SLOGAN, **overrides)


def kit_account(brand, persona, avatar=None, userid="xiaowan01", **overrides):
    """An account whose kit matches the persona unless overridden; the avatar is uploaded
    through `save_account` as the planner would."""
    values = {"name": "小完子01", "persona": persona, "moments_cover": "粉色系自拍背景",
              "signature": SLOGAN, "greeting": "宝子你好呀～我是小完子，以后美妆问题都可以问我！"}
    values.update(overrides)
    account = make_account(brand, userid, **values)
    upload = picture(as_jpeg(draw_avatar()), "shown.jpg", "image/jpeg") if avatar is None else avatar
    if upload is not False:
        planner = seat(brand.members["planner"], brand.workspace)
        services.save_account(brand.workspace, planner, account.pk, services.AccountInput(
            persona_id=persona.pk if persona else None, friend_limit=account.friend_limit,
            moments_cover=account.moments_cover, signature=account.signature, greeting=account.greeting),
            upload)
        account.refresh_from_db()
    return account


def issues(brand, account, role="planner"):
    reports = services.kit_check(brand.workspace, seat(brand.members[role], brand.workspace))
    report = next(r for r in reports if r.account.pk == account.pk)
    return {i.part for i in report.issues}


def test_a_matching_account_has_no_issue(brand_a):
    account = kit_account(brand_a, persona_of(brand_a))
    assert issues(brand_a, account) == set()


def test_the_same_avatar_resized_and_recompressed_still_matches():
    original, shown = services.avatar_hash(draw_avatar()), services.avatar_hash(as_jpeg(draw_avatar(), 120, 50))
    assert services.hash_distance(original, shown) <= services.AVATAR_MATCH_MAX_DISTANCE


def test_a_different_picture_does_not_match():
    distance = services.hash_distance(services.avatar_hash(draw_avatar()), services.avatar_hash(draw_other_picture()))
    assert distance > services.AVATAR_MATCH_MAX_DISTANCE


def test_an_account_showing_another_picture_is_listed(brand_a):
    account = kit_account(brand_a, persona_of(brand_a), avatar=picture(draw_other_picture()))
    assert issues(brand_a, account) == {"avatar"}


def test_an_account_without_an_uploaded_avatar_is_asked_for_one(brand_a):
    account = kit_account(brand_a, persona_of(brand_a), avatar=False)
    assert issues(brand_a, account) == {"avatar"}


@pytest.mark.parametrize("name", ["小完子", "小完子A", "完子01", "小美01", "Tom"])
def test_a_name_that_is_not_persona_name_plus_number_is_listed(brand_a, name):
    account = kit_account(brand_a, persona_of(brand_a), name=name)
    assert issues(brand_a, account) == {"name"}


def test_any_numeric_suffix_is_a_good_name(brand_a):
    account = kit_account(brand_a, persona_of(brand_a), name="小完子123")
    assert issues(brand_a, account) == set()


def test_a_signature_containing_the_slogan_matches(brand_a):
    account = kit_account(brand_a, persona_of(brand_a), signature=f"✨{SLOGAN}｜小完子")
    assert issues(brand_a, account) == set()


def test_cover_signature_and_greeting_mismatches_are_listed_with_reasons(brand_a):
    account = kit_account(brand_a, persona_of(brand_a), moments_cover="", signature="欢迎光临",
                          greeting="您好，有什么可以帮您？")
    reports = services.kit_check(brand_a.workspace, seat(brand_a.members["planner"], brand_a.workspace))
    reasons = {i.part: i.reason for i in reports[0].issues}
    assert set(reasons) == {"moments_cover", "signature", "greeting"} and reports[0].account == account
    assert SLOGAN in reasons["signature"] and "小完子" in reasons["greeting"]


def test_an_empty_greeting_is_listed(brand_a):
    account = kit_account(brand_a, persona_of(brand_a), greeting="")
    assert issues(brand_a, account) == {"greeting"}


def test_a_persona_without_slogan_is_pointed_out(brand_a):
    account = kit_account(brand_a, make_persona(brand_a, avatar=picture(draw_avatar())))
    assert issues(brand_a, account) == {"signature"}


def test_an_account_without_persona_is_asked_to_get_one(brand_a):
    account = make_account(brand_a, "store01")
    reports = services.kit_check(brand_a.workspace, seat(brand_a.members["planner"], brand_a.workspace))
    assert [(r.account, [i.part for i in r.issues]) for r in reports] == [(account, ["persona"])]


def test_mismatched_accounts_come_first_and_inactive_ones_are_left_out(brand_a):
    persona = persona_of(brand_a)
    good = kit_account(brand_a, persona, userid="a-good")
    bad = make_account(brand_a, "b-bad", name="随便")
    make_account(brand_a, "c-gone", active=False)
    reports = services.kit_check(brand_a.workspace, seat(brand_a.members["copywriter"], brand_a.workspace))
    assert [r.account for r in reports] == [bad, good]


def test_the_uploaded_avatar_is_validated_like_a_persona_avatar(brand_a):
    account = make_account(brand_a, "xiaowan01")
    planner = seat(brand_a.members["planner"], brand_a.workspace)
    with pytest.raises(ValidationError) as refused:
        services.save_account(brand_a.workspace, planner, account.pk, services.AccountInput(friend_limit=5000),
                              picture(b"not a picture", "x.png"))
    assert set(refused.value.message_dict) == {"kit_avatar"}
    account.refresh_from_db()
    assert not account.kit_avatar and account.kit_avatar_hash == ""


def test_the_kit_page_lists_each_reason(brand_a, login):
    kit_account(brand_a, persona_of(brand_a), avatar=picture(draw_other_picture()), greeting="你好")
    html = login(brand_a.members["copywriter"]).get("/accounts/kit/").content.decode()
    assert 'data-part="avatar"' in html and 'data-part="greeting"' in html
    assert 'data-ok="no"' in html


def test_the_kit_api_lists_the_issues(brand_a, login):
    account = kit_account(brand_a, persona_of(brand_a), moments_cover="")
    body = login(brand_a.members["data_analyst"]).get("/api/accounts/kit-check").json()
    assert [(r["userid"], r["ok"], [i["part"] for i in r["issues"]]) for r in body] == [
        (account.userid, False, ["moments_cover"])]


def test_the_uploaded_avatar_is_served_to_its_brand_only(brand_a, brand_b, login):
    account = kit_account(brand_a, persona_of(brand_a))
    own = login(brand_a.members["copywriter"]).get(f"/accounts/{account.pk}/avatar/")
    assert own.status_code == 200 and own["Content-Type"] == "image/jpeg"
    assert login(brand_b.admin).get(f"/accounts/{account.pk}/avatar/").status_code == 404
    assert StaffAccount.objects.for_workspace(brand_b.workspace).count() == 0
