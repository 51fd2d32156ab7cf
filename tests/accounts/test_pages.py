"""The accounts pages and API: grouping, capacity and alerts on the page, the edit form and its
messages, roles, and tenant isolation of every page and endpoint."""

import pytest
from django.utils import timezone

from siyu.accounts import services
from siyu.accounts.models import StaffAccount
from siyu.core import services as core
from tests.accounts.conftest import make_account, make_persona
from tests.conftest import seat

VALID = {"persona": "", "grouping": "store", "group_name": "南京西路店", "friend_limit": "5000",
         "moments_cover": "", "signature": "", "greeting": ""}


def test_accounts_are_listed_grouped_by_store_or_brand_line(brand_a, login):
    make_account(brand_a, "s1", name="南京西路店导购", grouping="store", group_name="南京西路店")
    make_account(brand_a, "b1", name="小完子01", grouping="brand_line", group_name="小完子")
    make_account(brand_a, "loose", name="未分组号")
    html = login(brand_a.members["copywriter"]).get("/accounts/").content.decode()
    assert html.count('data-testid="group"') == 3
    # stores and brand lines by kind, the ungrouped last
    assert html.index("小完子01") < html.index("南京西路店导购") < html.index("未分组号")


def test_the_page_shows_fill_forecast_and_alerts_with_a_summary(brand_a, login):
    make_account(brand_a, "full", name="快满了", friend_limit=100, friend_count=96)
    make_account(brand_a, "warm", name="八成了", friend_limit=100, friend_count=81)
    make_account(brand_a, "cool", name="还很空", friend_limit=100, friend_count=10)
    html = login(brand_a.members["data_analyst"]).get("/accounts/").content.decode()
    assert 'data-level="95"' in html and 'data-level="80"' in html
    assert html.count('data-level="95"') == 1 and html.count('data-level="80"') == 1
    assert '<span class="text-red">1</span>' in html
    assert "96%" in html and 'data-testid="forecast"' in html


def test_inactive_accounts_are_shown_apart(brand_a, login):
    make_account(brand_a, "gone", name="已离职", active=False)
    html = login(brand_a.members["planner"]).get("/accounts/").content.decode()
    assert 'data-testid="inactive"' in html and 'data-userid="gone"' not in html


def test_a_planner_sets_persona_grouping_limit_and_kit(brand_a, login):
    persona = make_persona(brand_a)
    account = make_account(brand_a, "xiaowan01")
    client = login(brand_a.members["planner"])
    assert 'name="friend_limit"' in client.get(f"/accounts/{account.pk}/edit/").content.decode()
    response = client.post(f"/accounts/{account.pk}/edit/", {
        **VALID, "persona": persona.pk, "grouping": "brand_line", "group_name": "小完子", "friend_limit": "20000",
        "signature": "精致不贵", "greeting": "我是小完子"})
    assert response.status_code == 302 and response["Location"] == "/accounts/"
    account.refresh_from_db()
    assert (account.persona, account.grouping, account.group_name, account.friend_limit) == (
        persona, "brand_line", "小完子", 20000)
    assert (account.signature, account.greeting) == ("精致不贵", "我是小完子")


def test_saving_keeps_the_live_friend_count(brand_a, login):
    account = make_account(brand_a, "xiaowan01", friend_count=10)
    client = login(brand_a.members["planner"])
    client.get(f"/accounts/{account.pk}/edit/")
    StaffAccount.objects.for_workspace(brand_a.workspace).update(friend_count=11)  # an add meanwhile
    client.post(f"/accounts/{account.pk}/edit/", VALID)
    account.refresh_from_db()
    assert account.friend_count == 11


@pytest.mark.parametrize(("changes", "field"), [
    ({"friend_limit": "0"}, "friend_limit"),
    ({"friend_limit": "20001"}, "friend_limit"),
    ({"friend_limit": ""}, "friend_limit"),
    ({"friend_limit": "many"}, "friend_limit"),
    ({"grouping": "store", "group_name": ""}, "group_name"),
    ({"grouping": "", "group_name": "南京西路店"}, "grouping"),
    ({"grouping": "region"}, "grouping"),
    ({"signature": "签" * 121}, "signature"),
])
def test_bad_input_is_explained_on_its_field_and_nothing_is_saved(brand_a, login, changes, field):
    account = make_account(brand_a, "xiaowan01", friend_limit=5000)
    response = login(brand_a.members["planner"]).post(f"/accounts/{account.pk}/edit/", {**VALID, **changes})
    html = response.content.decode()
    assert response.status_code == 200 and f'data-error-for="{field}"' in html
    account.refresh_from_db()
    assert (account.friend_limit, account.group_name) == (5000, "")


def test_a_persona_of_another_brand_cannot_be_chosen(brand_a, brand_b, login):
    foreign = make_persona(brand_b, name="贝塔人设")
    account = make_account(brand_a, "xiaowan01")
    client = login(brand_a.members["planner"])
    assert "贝塔人设" not in client.get(f"/accounts/{account.pk}/edit/").content.decode()
    response = client.post(f"/accounts/{account.pk}/edit/", {**VALID, "persona": foreign.pk})
    assert 'data-error-for="persona"' in response.content.decode()
    account.refresh_from_db()
    assert account.persona is None


def test_a_limit_below_the_friend_count_is_saved_with_a_warning(brand_a, login):
    account = make_account(brand_a, "xiaowan01", friend_count=300)
    response = login(brand_a.members["planner"]).post(f"/accounts/{account.pk}/edit/",
                                                       {**VALID, "friend_limit": "200"}, follow=True)
    assert "alert-warning" in response.content.decode()
    account.refresh_from_db()
    assert account.friend_limit == 200


# --- roles -------------------------------------------------------------------------------------------

def test_the_merchandiser_is_refused_every_page_and_endpoint(brand_a, login):
    account = make_account(brand_a, "xiaowan01")
    client = login(brand_a.members["merchandiser"])
    for url in ["/accounts/", "/accounts/plan/", "/accounts/kit/", f"/accounts/{account.pk}/edit/"]:
        assert client.get(url).status_code == 403, url
    assert client.post("/accounts/sync/").status_code == 403
    for url in ["/api/accounts/", "/api/accounts/kit-check", "/api/accounts/plan?expected=1&days=1&persona_id=1"]:
        assert client.get(url).status_code == 403, url


def test_a_copywriter_views_but_cannot_edit(brand_a, login):
    account = make_account(brand_a, "xiaowan01")
    client = login(brand_a.members["copywriter"])
    home = client.get("/accounts/").content.decode()
    assert "xiaowan01" in home and 'data-testid="sync"' not in home
    assert f"/accounts/{account.pk}/edit/" not in home
    assert client.get(f"/accounts/{account.pk}/edit/").status_code == 403
    assert client.post(f"/accounts/{account.pk}/edit/", {**VALID, "friend_limit": "10"}).status_code == 403
    assert client.post("/accounts/sync/").status_code == 403
    account.refresh_from_db()
    assert account.friend_limit == 5000


@pytest.mark.parametrize("role", ["admin", "ops_lead", "planner"])
def test_roles_that_may_edit_see_the_sync_button_and_edit_links(brand_a, login, role):
    account = make_account(brand_a, "xiaowan01")
    html = login(brand_a.members[role]).get("/accounts/").content.decode()
    assert 'data-testid="sync"' in html and f"/accounts/{account.pk}/edit/" in html


# --- tenant isolation ----------------------------------------------------------------------------------

def test_another_brands_account_pages_are_not_found(brand_a, brand_b, login):
    account = make_account(brand_a, "alpha-staff")
    client = login(brand_b.admin)
    for url in [f"/accounts/{account.pk}/edit/", f"/accounts/{account.pk}/avatar/"]:
        assert client.get(url).status_code == 404, url
    assert client.post(f"/accounts/{account.pk}/edit/", {**VALID, "friend_limit": "1"}).status_code == 404
    account.refresh_from_db()
    assert account.friend_limit == 5000


def test_lists_plan_and_kit_show_only_the_own_brand(brand_a, brand_b, login):
    persona = make_persona(brand_a, name="阿尔法人设")
    make_account(brand_a, "alpha-staff", name="阿尔法号", persona=persona)
    make_account(brand_b, "beta-staff", name="贝塔号")
    client = login(brand_b.admin)
    for url in ["/accounts/", "/accounts/kit/", "/accounts/plan/"]:
        html = client.get(url).content.decode()
        assert "阿尔法" not in html and "alpha-staff" not in html, url
    assert "贝塔号" in client.get("/accounts/").content.decode()
    refused = client.get("/accounts/plan/", {"expected": 10, "days": 1, "persona": persona.pk}).content.decode()
    assert 'data-error-for="persona"' in refused


def test_the_api_lists_only_the_callers_brand(brand_a, brand_b, login):
    persona = make_persona(brand_a)
    make_account(brand_a, "alpha-staff")
    make_account(brand_b, "beta-staff", friend_limit=100, friend_count=90)
    client = login(brand_b.members["data_analyst"])
    body = client.get("/api/accounts/").json()
    assert [(a["userid"], a["fill_percent"], a["alert"]) for a in body] == [("beta-staff", 90, 80)]
    assert client.get("/api/accounts/kit-check").json()[0]["userid"] == "beta-staff"
    assert client.get("/api/accounts/plan", {"expected": 5, "days": 1, "persona_id": persona.pk}).status_code == 422


def test_a_brand_b_token_cannot_read_brand_a(brand_a, brand_b, client):
    make_account(brand_a, "alpha-staff")
    _, key = core.create_api_token(brand_b.workspace, seat(brand_b.admin, brand_b.workspace), "bi")
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/accounts/", headers=headers).json() == []
    assert client.get("/api/accounts/kit-check", headers=headers).json() == []


def test_the_api_gives_capacity_and_forecast(brand_a, login):
    make_account(brand_a, "xiaowan01", friend_limit=200, friend_count=50, grouping="store", group_name="一店")
    row = login(brand_a.members["planner"]).get("/api/accounts/").json()[0]
    assert {k: row[k] for k in ["userid", "friend_count", "friend_limit", "fill_percent", "room",
                                "net_adds_7d", "days_until_full", "alert", "grouping", "group_name"]} == {
        "userid": "xiaowan01", "friend_count": 50, "friend_limit": 200, "fill_percent": 25, "room": 150,
        "net_adds_7d": 0, "days_until_full": None, "alert": 0, "grouping": "store", "group_name": "一店"}


def test_the_pages_speak_chinese_by_default(brand_a, login):
    persona = make_persona(brand_a)
    make_account(brand_a, "xiaowan01", name="小完子01", persona=persona, friend_limit=100, friend_count=96)
    client = login(brand_a.members["planner"])
    home = client.get("/accounts/").content.decode()
    assert "从企业微信同步" in home and "请立即扩容或新增账号" in home and "95% 预警" in home
    assert "尚未分组" in home
    filling = make_account(brand_a, "xiaowan02", friend_limit=100)
    services.record_follow_change(filling, timezone.now(), added=True)
    assert "99 天后满员" in client.get("/accounts/").content.decode()
    kit = client.get("/accounts/kit/").content.decode()
    assert "人设包装检查" in kit and "请上传账号实际显示的头像" in kit
    plan = client.get("/accounts/plan/", {"expected": 9000, "days": 30, "persona": persona.pk}).content.decode()
    assert "需新增账号" in plan and "小完子02" in plan
