import re

from siyu.core import events, services
from siyu.core.models import Invitation, Membership
from tests.conftest import seat


def test_console_speaks_chinese_by_default_whatever_the_browser_says(brand_a, login):
    response = login(brand_a.admin).get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    html = response.content.decode()
    assert response["Content-Language"] == "zh-hans"
    assert "概览" in html and "团队与权限" in html


def test_english_is_remembered_once_chosen(brand_a, login):
    client = login(brand_a.admin)
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    html = client.get("/").content.decode()
    assert "Overview" in html and "Audit log" in html and "概览" not in html


def test_navigation_lists_unbuilt_modules_without_links(brand_a, login):
    html = login(brand_a.admin).get("/").content.decode()
    nav = html[html.index('data-testid="nav"'):html.index("</ul>", html.index('data-testid="nav"'))]
    for label in ["品牌IP", "账号与渠道", "客户", "内容与SOP", "社群", "裂变", "商城", "数据"]:
        assert label in nav
    planned = set(re.findall(r'nav-planned" title="[^"]*">\S+ ([^<]+?) <small', nav))
    assert planned >= {"商城", "数据"} and not planned & {"内容与SOP", "裂变"}
    assert not planned & {"品牌IP", "账号与渠道", "社群"}  # siyu.ip, siyu.channels and siyu.community are built
    assert 'href="/ip/"' in nav and 'href="/channels/"' in nav and 'href="/community/"' in nav


def test_the_event_bus_figures_are_on_the_tasks_page(brand_a, login, django_capture_on_commit_callbacks):
    class Ping(events.DomainEvent):
        name = "tests.ping"

    for _ in range(3):
        events.publish(brand_a.workspace, Ping())
    html = login(brand_a.admin).get("/tasks/").content.decode()
    assert re.search(r'data-testid="fig-events">\s*3\b', html)
    assert 'id="events-chart"' in html and "echarts.min" in html
    home = login(brand_a.admin).get("/").content.decode()
    assert 'data-testid="fig-events"' not in home and "已处理事件" not in home


def test_creating_a_brand_with_a_taken_short_name_explains_why(brand_a, brand_b, login):
    html = login(brand_a.admin).post("/workspaces/new/", {"name": "Again", "slug": "beta"}).content.decode()
    assert "已被占用" in html


def test_creating_a_brand_without_a_name_explains_why(brand_a, login):
    html = login(brand_a.admin).post("/workspaces/new/", {"name": "", "slug": ""}).content.decode()
    assert "这个字段是必填项" in html


def test_admin_creates_a_brand_and_lands_in_it(brand_a, login):
    client = login(brand_a.admin)
    response = client.post("/workspaces/new/", {"name": "小完子二店", "slug": "store-two"})
    assert response.status_code == 302
    assert client.get("/api/me").json()["workspace"]["slug"] == "store-two"


def test_non_admin_cannot_create_a_brand(brand_a, login):
    response = login(brand_a.members["planner"]).post("/workspaces/new/", {"name": "X", "slug": "x"})
    assert response.status_code == 403


def test_invitation_link_makes_a_member_with_the_role(brand_a, client, login):
    admin = login(brand_a.admin)
    html = admin.post("/team/", {"role": "customer_ops", "note": "小李"}).content.decode()
    link = re.search(r'value="(http://testserver/join/[^"]+)"', html).group(1)
    admin.post("/logout/")
    response = client.post(link.removeprefix("http://testserver"), {
        "username": "xiaoli", "password": "s3cure-pass-99", "password2": "s3cure-pass-99",
    })
    assert response.status_code == 302
    member = Membership.objects.for_workspace(brand_a.workspace).get(user__username="xiaoli")
    assert member.role == "customer_ops"
    # The link works once.
    again = client.get(link.removeprefix("http://testserver"))
    assert again.status_code == 404


def test_join_form_rejects_a_weak_or_mismatched_password(brand_a, client):
    invitation = services.invite_member(brand_a.workspace, seat(brand_a.admin, brand_a.workspace), "planner")
    html = client.post(f"/join/{invitation.token}/", {
        "username": "weak", "password": "123", "password2": "124",
    }).content.decode()
    assert "两次输入的密码不一致" in html or "The two passwords differ" in html
    html = client.post(f"/join/{invitation.token}/", {
        "username": "weak", "password": "123", "password2": "123",
    }).content.decode()
    assert "密码" in html and not Invitation.objects.for_workspace(brand_a.workspace).get().accepted_at


def test_audit_page_is_for_admins_only(brand_a, login):
    assert login(brand_a.admin).get("/audit/").status_code == 200
    denied = login(brand_a.members["ops_lead"]).get("/audit/")
    assert denied.status_code == 403
    assert "不允许" in denied.content.decode() or "无权" in denied.content.decode()


def test_member_without_a_seat_sees_an_explanation(db, client):
    from django.contrib.auth import get_user_model

    lonely = get_user_model().objects.create_user("lonely", password="x")
    client.force_login(lonely)
    response = client.get("/")
    assert response.status_code == 403


def test_the_tokens_page_shows_a_complete_authorization_header(brand_a, login):
    html = login(brand_a.admin).get("/tokens/").content.decode()
    example = html[html.index('data-testid="token-example"'):]
    example = example[:example.index("</pre>")]
    assert "Authorization: Bearer siyu_" in example
    assert "Bearer 。" not in html and "<token>" not in html


def test_a_new_token_is_shown_in_the_example_header(brand_a, login):
    html = login(brand_a.admin).post("/tokens/", {"name": "ERP"}).content.decode()
    example = html[html.index('data-testid="token-example"'):]
    assert re.search(r"Authorization: Bearer siyu_[\w-]{20,}", example[:example.index("</pre>")])


def active_items(html: str) -> list[str]:
    nav = html[html.index('data-testid="nav"'):html.index("</ul>", html.index('data-testid="nav"'))]
    return [re.sub(r"<[^>]+>|\s+", "", item) for item in re.findall(r'<li class="nav-item active">(.*?)</li>', nav, re.S)]


def test_the_menu_marks_the_section_of_the_page(brand_a, login):
    client = login(brand_a.admin)
    expected = {
        "/": "概览", "/customers/": "客户", "/customers/tags/": "客户", "/customers/churn/": "客户",
        "/channels/": "账号与渠道", "/accounts/": "账号与渠道", "/ip/": "品牌IP", "/team/": "团队与权限",
        "/team/roles/": "团队与权限", "/tasks/": "任务", "/tokens/": "API令牌", "/audit/": "审计日志",
    }
    for url, label in expected.items():
        items = active_items(client.get(url).content.decode())
        assert len(items) == 1 and label in items[0], (url, items)


def test_the_menu_folds_behind_a_button_below_desktop_width(brand_a, login):
    html = login(brand_a.admin).get("/").content.decode()
    assert 'data-nav-toggle="sidebar-menu"' in html
    assert '<div class="collapse navbar-collapse" id="sidebar-menu">' in html
