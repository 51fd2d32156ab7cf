"""Team controls: a safe default role for invitations, confirmation before removing a member or
granting 管理员, an explicit save, and a page that explains the roles from the real matrix."""

from __future__ import annotations

import re

from siyu.core.models import Membership
from siyu.core.permissions import Action, Module, Role, allows, columns


def selected(html: str, select_name: str) -> str:
    block = html[html.index(f'name="{select_name}"'):]
    block = block[:block.index("</select>")]
    return re.search(r'<option value="([^"]+)"\s+selected', block).group(1)


def test_an_invitation_defaults_to_customer_ops_not_administrator(brand_a, login):
    html = login(brand_a.admin).get("/team/").content.decode()
    invite = html[html.index('data-testid="invite-form"'):]
    assert selected(invite, "role") == Role.CUSTOMER_OPS


def test_removing_a_member_asks_first(brand_a, login):
    member = Membership.objects.for_workspace(brand_a.workspace).get(user=brand_a.members["planner"])
    html = login(brand_a.admin).get("/team/").content.decode()
    form = re.search(rf'<form[^>]*action="/team/{member.pk}/remove/"[^>]*>', html).group(0)
    assert 'data-confirm="确定将 alpha-planner 移出这个品牌吗' in form


def test_the_role_is_saved_by_a_button_not_on_change(brand_a, login):
    html = login(brand_a.admin).get("/team/").content.decode()
    form = html[html.index('data-testid="role-form"'):]
    form = form[:form.index("</form>")]
    assert "data-autosubmit" not in form and 'type="submit"' in form and "保存" in form


def test_choosing_administrator_asks_for_confirmation(brand_a, login):
    member = Membership.objects.for_workspace(brand_a.workspace).get(user=brand_a.members["planner"])
    html = login(brand_a.admin).get("/team/").content.decode()
    form = html[html.index(f'action="/team/{member.pk}/role/"'):]
    form = form[:form.index("</form>")]
    assert re.search(r'<option value="admin"[^>]*data-confirm="确定让 alpha-planner 成为管理员吗', form)
    assert not re.search(r'<option value="planner"[^>]*data-confirm', form)


def test_granting_administrator_without_confirmation_changes_nothing(brand_a, login):
    member = Membership.objects.for_workspace(brand_a.workspace).get(user=brand_a.members["planner"])
    client = login(brand_a.admin)
    response = client.post(f"/team/{member.pk}/role/", {"role": "admin"}, follow=True)
    member.refresh_from_db()
    assert member.role == Role.PLANNER
    assert "需要你确认" in response.content.decode()
    client.post(f"/team/{member.pk}/role/", {"role": "admin", "confirmed": "1"})
    member.refresh_from_db()
    assert member.role == Role.ADMIN


def test_other_role_changes_need_no_confirmation(brand_a, login):
    member = Membership.objects.for_workspace(brand_a.workspace).get(user=brand_a.members["planner"])
    login(brand_a.admin).post(f"/team/{member.pk}/role/", {"role": "copywriter"})
    member.refresh_from_db()
    assert member.role == Role.COPYWRITER


def test_the_roles_page_says_in_words_what_each_role_may_do(brand_a, login):
    html = login(brand_a.members["customer_ops"]).get("/team/roles/").content.decode()
    assert "各角色能做什么" in html
    card = html[html.index('data-role="customer_ops"'):]
    card = card[:card.index('data-role="data_analyst"')]
    assert "你的角色" in card
    assert "可以查看、编辑：客户" in card
    assert "无权打开：" in card and "审计日志" in card


def test_the_roles_page_follows_the_permission_matrix(brand_a, login):
    html = login(brand_a.admin).get("/team/roles/").content.decode()
    matrix = html[html.index('data-testid="permission-matrix"'):]
    for column in columns():
        row = re.search(rf'<tr data-module="{column.module}">(.*?)</tr>', matrix, re.S).group(1)
        cells = re.findall(r'<td class="small">([^<]*)</td>', row)
        assert len(cells) == len(Role.values)
        for role, cell in zip(Role.values, cells, strict=True):
            assert ("编辑" in cell) == allows(role, column.module, Action.EDIT), (column.module, role)
            assert ("查看" in cell) == allows(role, column.module, Action.VIEW), (column.module, role)
    assert allows(Role.DATA_ANALYST, Module.CUSTOMERS, Action.EXPORT)


def test_the_roles_page_speaks_english_on_request(brand_a, login):
    client = login(brand_a.admin)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = client.get("/team/roles/").content.decode()
    assert "What each role may do" in html and "May view, edit, export, approve:" in html


def test_the_team_page_links_to_the_roles_page(brand_a, login):
    html = login(brand_a.admin).get("/team/").content.decode()
    assert 'href="/team/roles/"' in html


def test_inviting_an_administrator_asks_first(brand_a, login):
    client = login(brand_a.admin)
    html = client.get("/team/").content.decode()
    invite = html[html.index('data-testid="invite-form"'):]
    assert re.search(r'<option value="admin"[^>]*data-confirm="确定邀请一位管理员吗', invite)
    html = client.post("/team/", {"role": "admin", "note": "老板"}).content.decode()
    assert "邀请管理员需要你确认" in html and 'data-testid="invite-link"' not in html
    html = client.post("/team/", {"role": "admin", "note": "老板", "confirmed": "1"}).content.decode()
    assert 'data-testid="invite-link"' in html


def test_saving_an_administrator_unchanged_needs_no_confirmation(brand_a, login):
    from siyu.core import services

    member = Membership.objects.for_workspace(brand_a.workspace).get(user=brand_a.members["planner"])
    services.change_role(brand_a.workspace, Membership.objects.for_workspace(brand_a.workspace).get(user=brand_a.admin),
                         member.pk, Role.ADMIN)
    response = login(brand_a.admin).post(f"/team/{member.pk}/role/", {"role": "admin"}, follow=True)
    assert "需要你确认" not in response.content.decode()
