"""The channel code pages and API: creating and editing in the console, roles, tenant isolation,
the promoter leaderboard."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from siyu.channels.models import ChannelAccount, ChannelCode
from siyu.channels.services import codes
from siyu.core import services as core
from siyu.customers.services import record_add
from tests.channels.conftest import code_input, connect, make_accounts, way_of
from tests.conftest import seat


def form_data(shop, **overrides) -> dict[str, str]:
    """What the browser posts from the new-code page: the code's fields and the seats table."""
    a = shop.accounts
    data = {
        "name": "静安寺店", "touchpoint": "store", "promoter_name": "", "strategy": "round_robin",
        "skip_verify": "on", "welcome_text": "你好 {customer_nickname}，我是{persona_name}", "welfare": "", "auto_tag_ids": "",
        "group_chat_id": "",
        "seats-TOTAL_FORMS": "3", "seats-INITIAL_FORMS": "0", "seats-MIN_NUM_FORMS": "0", "seats-MAX_NUM_FORMS": "100",
        "seats-0-account": str(a["xiaowanzi01"].pk), "seats-0-weight": "1", "seats-0-daily_cap": "200",
        "seats-0-shifts": "周一-周五 09:00-18:00; 周六 10:00-16:00",
        "seats-1-account": str(a["xiaowanzi02"].pk), "seats-1-weight": "2", "seats-1-daily_cap": "", "seats-1-shifts": "",
        "seats-2-account": str(a["backup01"].pk), "seats-2-weight": "1", "seats-2-is_backup": "on", "seats-2-shifts": "",
        "attachments-TOTAL_FORMS": "0", "attachments-INITIAL_FORMS": "0",
    }
    data.update(overrides)
    return data


def test_a_planner_creates_a_code_in_the_console(shop, login):
    client = login(shop.members["planner"])
    assert client.get("/channels/codes/new/").status_code == 200
    response = client.post("/channels/codes/new/", form_data(shop))
    code = ChannelCode.objects.for_workspace(shop.workspace).get(name="静安寺店")
    assert response.status_code == 302 and response["Location"] == f"/channels/codes/{code.pk}/"
    seats = list(ChannelAccount.objects.for_workspace(shop.workspace).filter(code=code).select_related("account"))
    assert [(s.account.userid, s.weight, s.daily_cap, s.is_backup) for s in seats] == [
        ("xiaowanzi01", 1, 200, False), ("xiaowanzi02", 2, None, False), ("backup01", 1, None, True)]
    assert seats[0].shifts == [{"weekdays": [0, 1, 2, 3, 4], "start": "09:00", "end": "18:00"},
                               {"weekdays": [5], "start": "10:00", "end": "16:00"}]
    assert way_of(shop.twin, code.config_id)["state"] == code.state
    page = client.get(response["Location"]).content.decode()
    assert code.state in page and "周一-周五 09:00-18:00; 周六 10:00-16:00" in page


def test_the_edit_page_shows_the_seats_as_they_are_and_saves_changes(shop, login):
    code = codes.create_code(shop.workspace, shop.planner, code_input(shop.accounts))
    client = login(shop.members["planner"])
    page = client.get(f"/channels/codes/{code.pk}/edit/").content.decode()
    assert 'value="南京西路店"' in page and page.count('name="seats-') >= 3 * 5
    response = client.post(f"/channels/codes/{code.pk}/edit/", form_data(
        shop, name="南京西路店", **{"seats-INITIAL_FORMS": "3", "seats-1-account": "", "seats-2-account": ""}))
    assert response.status_code == 302
    assert [s.account.userid for s in ChannelAccount.objects.for_workspace(shop.workspace).filter(code=code)] == ["xiaowanzi01"]
    assert way_of(shop.twin, code.config_id)["user"] == ["xiaowanzi01"]


def test_the_form_explains_each_problem_where_it_is(shop, login):
    client = login(shop.members["planner"])
    html = client.post("/channels/codes/new/", form_data(shop, name="名" * 31, **{
        "seats-0-shifts": "每天 9点", "seats-1-is_backup": "on", "seats-0-account": ""})).content.decode()
    assert 'data-error-for="seats-0-shifts"' in html and "每天 9点" in html
    assert not ChannelCode.objects.for_workspace(shop.workspace).exists()
    html = client.post("/channels/codes/new/", form_data(shop, name="名" * 31, touchpoint="promoter", **{
        "seats-0-account": "", "seats-1-is_backup": "on"})).content.decode()
    name_error = re.search(r'data-error-for="name">([^<]+)<', html).group(1)
    assert "30" in name_error
    assert "推手" in re.search(r'data-error-for="promoter_name">([^<]+)<', html).group(1)
    assert 'data-testid="seat-errors"' in html and "非备用" in html
    assert not ChannelCode.objects.for_workspace(shop.workspace).exists()


def attachment_rows(*rows: dict[str, str]) -> dict[str, str]:
    data = {"attachments-TOTAL_FORMS": str(len(rows)), "attachments-INITIAL_FORMS": "0"}
    for number, row in enumerate(rows):
        data |= {f"attachments-{number}-{key}": value for key, value in row.items()}
    return data


def test_welcome_attachments_are_edited_in_the_form_and_explained_when_wrong(shop, login):
    client = login(shop.members["planner"])
    html = client.post("/channels/codes/new/", form_data(shop, **attachment_rows(
        {"kind": "link", "title": "", "url": "shop.example.com"}))).content.decode()
    assert 'data-testid="attachment-errors"' in html and "shop.example.com" in html
    assert not ChannelCode.objects.for_workspace(shop.workspace).exists()

    response = client.post("/channels/codes/new/", form_data(shop, **attachment_rows(
        {"kind": "link", "title": "新人礼包", "url": "https://shop.example.com/gift", "description": "点我领取"},
        {"kind": "image", "picture": "https://shop.example.com/p.png"},
        {"kind": "", "title": "an empty row is left out"},
        {"kind": "miniprogram", "title": "商城", "media_id": "MEDIA1", "appid": "wx123", "page": "pages/index"},
    )))
    assert response.status_code == 302
    code = ChannelCode.objects.for_workspace(shop.workspace).get()
    assert code.welcome_attachments == [
        {"type": "link", "title": "新人礼包", "url": "https://shop.example.com/gift", "desc": "点我领取"},
        {"type": "image", "pic_url": "https://shop.example.com/p.png"},
        {"type": "miniprogram", "title": "商城", "pic_media_id": "MEDIA1", "appid": "wx123", "page": "pages/index"},
    ]
    page = client.get(f"/channels/codes/{code.pk}/edit/").content.decode()
    assert 'value="https://shop.example.com/gift"' in page and 'value="wx123"' in page

    response = client.post(f"/channels/codes/{code.pk}/edit/", form_data(shop, **{"seats-INITIAL_FORMS": "3"}))
    assert response.status_code == 302
    code.refresh_from_db()
    assert code.welcome_attachments == []


def test_wecom_refusing_shows_its_answer_on_the_form(shop, login):
    from siyu.accounts.models import StaffAccount

    ghost = StaffAccount.objects.create(workspace=shop.workspace, userid="not-at-wecom", name="幽灵")
    html = login(shop.members["planner"]).post("/channels/codes/new/", form_data(shop, **{
        "seats-0-account": str(ghost.pk), "seats-1-account": "", "seats-2-account": ""})).content.decode()
    assert 'data-testid="form-errors"' in html and "40003" in html
    assert not ChannelCode.objects.for_workspace(shop.workspace).exists()


def test_the_codes_list_counts_adds_today_and_in_all(shop, login):
    code = codes.create_code(shop.workspace, shop.planner, code_input(shop.accounts))
    now = timezone.now()
    record_add(shop.workspace, staff_userid="xiaowanzi01", external_userid="wm1", state=code.state, at=now)
    record_add(shop.workspace, staff_userid="xiaowanzi02", external_userid="wm2", state=code.state,
               at=now - dt.timedelta(days=3))
    html = login(shop.members["copywriter"]).get("/channels/").content.decode()
    row = html[html.index(f'data-code="{code.pk}"'):]
    assert re.search(r'data-testid="adds-today">1<', row) and re.search(r'data-testid="adds-total">2<', row)
    assert "小完子0" in row  # the account routed to now, by name


def test_deactivate_and_reroute_from_the_code_page(shop, login):
    code = codes.create_code(shop.workspace, shop.planner, code_input(shop.accounts))
    client = login(shop.members["ops_lead"])
    assert client.post(f"/channels/codes/{code.pk}/reroute/").status_code == 302
    response = client.post(f"/channels/codes/{code.pk}/deactivate/", follow=True)
    assert 'data-testid="inactive"' in response.content.decode()
    assert way_of(shop.twin, code.config_id) is None
    assert client.get(f"/channels/codes/{code.pk}/edit/").status_code == 302  # no editing a retired code


def test_the_tabs_link_the_pages_that_exist(shop, login):
    html = login(shop.members["planner"]).get("/channels/").content.decode()
    tabs = html[html.index('data-testid="channel-tabs"'):html.index("</ul>", html.index('data-testid="channel-tabs"'))]
    assert 'href="/channels/"' in tabs and 'href="/channels/promoters/"' in tabs


# --- roles ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["admin", "ops_lead", "planner"])
def test_roles_that_may_edit_see_the_new_code_button(shop, login, role):
    assert 'data-testid="new-code"' in login(shop.members[role]).get("/channels/").content.decode()


def test_a_copywriter_views_codes_but_cannot_change_them(shop, login):
    code = codes.create_code(shop.workspace, shop.planner, code_input(shop.accounts))
    client = login(shop.members["copywriter"])
    home = client.get("/channels/").content.decode()
    assert "南京西路店" in home and 'data-testid="new-code"' not in home
    detail = client.get(f"/channels/codes/{code.pk}/").content.decode()
    assert 'data-testid="edit-code"' not in detail and 'data-testid="deactivate"' not in detail
    for url in ["/channels/codes/new/", f"/channels/codes/{code.pk}/edit/"]:
        assert client.get(url).status_code == 403
    assert client.post("/channels/codes/new/", form_data(shop, name="偷偷建")).status_code == 403
    assert client.post(f"/channels/codes/{code.pk}/deactivate/").status_code == 403
    assert client.post(f"/channels/codes/{code.pk}/reroute/").status_code == 403
    assert list(ChannelCode.objects.for_workspace(shop.workspace).values_list("name", "active")) == [("南京西路店", True)]


def test_the_merchandiser_is_refused_the_channel_pages(shop, login):
    client = login(shop.members["merchandiser"])
    assert client.get("/channels/").status_code == 403
    assert client.get("/channels/promoters/").status_code == 403
    assert client.get("/api/channels/codes").status_code == 403


# --- tenant isolation -----------------------------------------------------------------------------

def test_another_brand_never_sees_the_codes_by_page_or_api(shop, brand_b, login):
    code = codes.create_code(shop.workspace, shop.planner, code_input(shop.accounts))
    client = login(brand_b.admin)
    assert "南京西路店" not in client.get("/channels/").content.decode()
    assert client.get(f"/channels/codes/{code.pk}/").status_code == 404
    assert client.get(f"/channels/codes/{code.pk}/edit/").status_code == 404
    assert client.post(f"/channels/codes/{code.pk}/deactivate/").status_code == 404
    assert client.get("/api/channels/codes").json() == []
    assert client.get(f"/api/channels/codes/{code.pk}").status_code == 404
    _, key = core.create_api_token(brand_b.workspace, seat(brand_b.admin, brand_b.workspace), "b")
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get(f"/api/channels/codes/{code.pk}", headers=headers).status_code == 404
    assert client.put(f"/api/channels/codes/{code.pk}", {"name": "x", "touchpoint": "store", "seats": []},
                      content_type="application/json", headers=headers).status_code == 404
    assert ChannelCode.objects.for_workspace(shop.workspace).get().name == "南京西路店"


def test_a_code_cannot_route_to_another_brands_account_through_the_form(shop, brand_b, login):
    theirs = make_accounts(brand_b.workspace, ["xiaowanzi09"])["xiaowanzi09"]
    html = login(shop.members["planner"]).post("/channels/codes/new/", form_data(shop, **{
        "seats-0-account": str(theirs.pk)})).content.decode()
    assert "seats-0-account" in html and not ChannelCode.objects.for_workspace(shop.workspace).exists()


# --- API ------------------------------------------------------------------------------------------

def api_body(shop, **overrides) -> dict:
    body = {"name": "小红书投放", "touchpoint": "online_ad", "strategy": "weighted",
            "seats": [{"account_id": shop.accounts["xiaowanzi01"].pk, "weight": 3},
                      {"account_id": shop.accounts["xiaowanzi02"].pk, "weight": 1, "daily_cap": 100,
                       "shifts": [{"weekdays": [0, 1, 2, 3, 4], "start": "09:00", "end": "21:00"}]}]}
    body.update(overrides)
    return body


def test_the_api_creates_reads_lists_and_updates_a_code(shop, login):
    client = login(shop.members["planner"])
    response = client.post("/api/channels/codes", api_body(shop), content_type="application/json")
    assert response.status_code == 201
    created = response.json()
    assert created["state"].startswith("ch") and created["config_id"] and created["strategy"] == "weighted"
    assert [s["weight"] for s in created["seats"]] == [3, 1]
    assert created["seats"][1]["shifts"] == [{"weekdays": [0, 1, 2, 3, 4], "start": "09:00", "end": "21:00"}]
    assert client.get(f"/api/channels/codes/{created['id']}").json()["name"] == "小红书投放"
    assert [c["name"] for c in client.get("/api/channels/codes").json()] == ["小红书投放"]
    updated = client.put(f"/api/channels/codes/{created['id']}", api_body(shop, name="小红书投放二期"),
                         content_type="application/json").json()
    assert (updated["name"], updated["state"]) == ("小红书投放二期", created["state"])
    assert way_of(shop.twin, created["config_id"])["remark"] == "小红书投放二期"


def test_the_api_reports_invalid_input_per_field(shop, login):
    response = login(shop.members["planner"]).post("/api/channels/codes", api_body(
        shop, name="", seats=[{"account_id": shop.accounts["xiaowanzi01"].pk, "weight": 0}]),
        content_type="application/json")
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert set(errors) == {"name", "seats"}
    assert shop.twin.state()["contact_ways"] == []


def test_a_copywriter_reads_the_api_but_cannot_write(shop, login):
    client = login(shop.members["copywriter"])
    assert client.get("/api/channels/codes").status_code == 200
    assert client.post("/api/channels/codes", api_body(shop), content_type="application/json").status_code == 403
    assert not ChannelCode.objects.for_workspace(shop.workspace).exists()


# --- promoters --------------------------------------------------------------------------------------

def test_promoters_are_ranked_by_the_friends_their_code_brought(shop, login):
    now = timezone.now()
    made = {}
    for name in ["阿May", "小林", "老周"]:
        made[name] = codes.create_code(shop.workspace, shop.planner, code_input(
            shop.accounts, name=f"推手{name}", touchpoint="promoter", promoter_name=name))
    adds = {"阿May": [0, 10, 20], "小林": [0, 1], "老周": [30, 40, 50, 60]}  # days ago
    for name, ages in adds.items():
        for i, days in enumerate(ages):
            record_add(shop.workspace, staff_userid="xiaowanzi01", external_userid=f"wm{made[name].pk}x{i}",
                       state=made[name].state, at=now - dt.timedelta(days=days))
    rows = codes.promoter_leaderboard(shop.workspace, seat(shop.members["data_analyst"], shop.workspace), now)
    assert [(r.rank, r.promoter_name, r.adds_total, r.adds_week) for r in rows] == [
        (1, "老周", 4, 0), (2, "阿May", 3, 1), (3, "小林", 2, 2)]
    client = login(shop.members["data_analyst"])
    html = client.get("/channels/promoters/").content.decode()
    assert html.index('data-promoter="老周"') < html.index('data-promoter="阿May"') < html.index('data-promoter="小林"')
    assert [p["promoter_name"] for p in client.get("/api/channels/promoters").json()] == ["老周", "阿May", "小林"]
    assert "老周" in client.get("/channels/").content.decode()  # top promoters on the home page


def test_the_leaderboard_is_per_brand(shop, brand_b, twin, login):
    codes.create_code(shop.workspace, shop.planner, code_input(
        shop.accounts, name="推手阿May", touchpoint="promoter", promoter_name="阿May"))
    connect(brand_b.workspace, twin)
    assert login(brand_b.admin).get("/api/channels/promoters").json() == []


def test_the_api_refuses_unknown_attachment_keys_and_stores_nothing(shop, login):
    client = login(shop.members["planner"])
    a = shop.accounts
    body = {"name": "附件", "touchpoint": "store", "seats": [{"account_id": a["xiaowanzi01"].pk}],
            "welcome_attachments": [{"type": "image", "media_id": "M1", "padding": "x" * 1_000_000}]}
    response = client.post("/api/channels/codes", body, content_type="application/json")
    assert response.status_code == 422
    assert "padding" in response.json()["errors"]["welcome_attachments"][0]
    assert not ChannelCode.objects.for_workspace(shop.workspace).exists()
    body["welcome_attachments"] = [{"type": "video", "media_id": "V1"}]
    response = client.post("/api/channels/codes", body, content_type="application/json")
    assert response.status_code == 201 and response.json()["welcome_attachments"] == [{"type": "video", "media_id": "V1"}]


def test_the_form_refuses_a_link_title_past_128_bytes(shop, login):
    client = login(shop.members["planner"])
    html = client.post("/channels/codes/new/", form_data(shop, **attachment_rows(
        {"kind": "link", "title": "好" * 43, "url": "https://shop.example.com/gift"}))).content.decode()
    assert 'data-testid="attachment-errors"' in html and "129" in html
    assert not ChannelCode.objects.for_workspace(shop.workspace).exists()
    response = client.post("/channels/codes/new/", form_data(shop, **attachment_rows(
        {"kind": "file", "media_id": "F1"})))
    assert response.status_code == 302
    assert ChannelCode.objects.for_workspace(shop.workspace).get().welcome_attachments == [
        {"type": "file", "media_id": "F1"}]


def test_a_name_with_a_nul_character_is_a_422_not_a_500(shop, login):
    """PostgreSQL cannot store NUL: the API refuses it as the console's forms do."""
    client = login(shop.members["planner"])
    body = {"name": "店\x00名", "touchpoint": "store", "seats": [{"account_id": shop.accounts["xiaowanzi01"].pk}]}
    response = client.post("/api/channels/codes", body, content_type="application/json")
    assert response.status_code == 422 and "body.name" in response.json()["errors"]
    assert not ChannelCode.objects.for_workspace(shop.workspace).exists()


# --- issue 12 item 1: auto-tags and the group are picked, and checked on save ---------------------

def synced_tags(shop) -> dict[str, str]:
    """Two tag groups made at WeCom and synced: tag name → WeCom tag id."""
    from siyu.tags import services as tags

    made = {}
    for group, names in (("渠道", ["门店新客"]), ("肤质", ["干皮", "油皮"])):
        answer = shop.twin.api("externalcontact/add_corp_tag", {"group_name": group, "tag": [{"name": n} for n in names]})
        made |= {t["name"]: t["id"] for t in answer["tag_group"]["tag"]}
    tags.sync_tags(shop.workspace, seat(shop.members["admin"], shop.workspace))
    return made


def test_the_auto_tag_picker_lists_tags_by_name_grouped_and_saves_the_picked_ones(shop, login):
    ids = synced_tags(shop)
    client = login(shop.members["planner"])
    page = client.get("/channels/codes/new/").content.decode()
    picker = page.split('data-field="auto_tag_ids"')[1].split('data-field="group_chat_id"')[0]
    assert "data-picker" in picker and "data-picker-search" in picker
    assert picker.index("肤质") < picker.index("干皮") and f'value="{ids["干皮"]}"' in picker
    assert "console/picker.js" in page
    response = client.post("/channels/codes/new/", form_data(shop, auto_tag_ids=[ids["干皮"], ids["门店新客"]]))
    assert response.status_code == 302
    code = ChannelCode.objects.for_workspace(shop.workspace).get(name="静安寺店")
    assert code.auto_tag_ids == [ids["干皮"], ids["门店新客"]]
    detail = client.get(response["Location"]).content.decode().split('data-testid="auto-tags"')[1]
    assert "肤质 / 干皮" in detail and ids["干皮"] not in detail


def test_an_unknown_auto_tag_id_is_refused_naming_it(shop, login):
    ids = synced_tags(shop)
    client = login(shop.members["planner"])
    response = client.post("/channels/codes/new/", form_data(shop, auto_tag_ids=[ids["干皮"], "etNOSUCHTAG"]))
    html = response.content.decode()
    assert response.status_code != 302 and not ChannelCode.objects.for_workspace(shop.workspace).exists()
    errors = html.split('data-error-for="auto_tag_ids"')[1].split("</div>")[0]
    assert "etNOSUCHTAG" in errors and ids["干皮"] not in errors
    # the unknown id stays on the page, checked, under its own heading, so it can be unticked
    assert 'value="etNOSUCHTAG" checked' in html and "未知标签" in html


def test_the_api_refuses_an_unknown_auto_tag_id_too(shop):
    synced_tags(shop)
    with pytest.raises(codes.ValidationError) as refused:
        codes.create_code(shop.workspace, shop.planner, code_input(shop.accounts, auto_tag_ids=["etTYPO"]))
    assert "etTYPO" in str(refused.value.message_dict["auto_tag_ids"])


def test_the_group_to_invite_to_must_look_like_a_chat_id_and_exist_at_wecom(shop, login):
    client = login(shop.members["planner"])
    html = client.post("/channels/codes/new/", form_data(shop, group_chat_id="福利群")).content.decode()
    assert "“福利群”不是企业微信群 ID" in html
    html = client.post("/channels/codes/new/", form_data(shop, group_chat_id="wrNOSUCHGROUP00")).content.decode()
    assert "企业微信中没有客户群“wrNOSUCHGROUP00”" in html
    assert not ChannelCode.objects.for_workspace(shop.workspace).exists()
    chat_id = shop.twin.admin.post("/twin/groups", json={"owner": "xiaowanzi01", "name": "福利群"}).json()["chat_id"]
    assert client.post("/channels/codes/new/", form_data(shop, group_chat_id=chat_id)).status_code == 302
    assert ChannelCode.objects.for_workspace(shop.workspace).get().group_chat_id == chat_id
