from siyu.ip.models import MatrixLevel
from tests.ip.conftest import make_persona


def test_the_studio_pages_render_in_chinese(brand_a, login):
    persona = make_persona(brand_a, level=MatrixLevel.MAIN)
    client = login(brand_a.members["planner"])
    expectations = {
        "/ip/": ["品牌IP", "人设", "企业IP自画像", "完整度"],
        "/ip/personas/new/": ["新建人设", "名字", "头像", "性别", "公司角色", "年龄", "提供的价值", "星座"],
        f"/ip/personas/{persona.pk}/": ["十二个维度", "口头禅", "品牌体验官"],
        "/ip/portrait/": ["企业IP自画像", "小红书", "知乎", "购物平台"],
        "/ip/matrix/": ["IP矩阵", "主品牌IP"],
    }
    for url, words in expectations.items():
        response = client.get(url)
        html = response.content.decode()
        assert response.status_code == 200 and response["Content-Language"] == "zh-hans", url
        for word in words:
            assert word in html, (url, word)


def test_the_studio_speaks_english_once_chosen(brand_a, login):
    client = login(brand_a.members["planner"])
    client.post("/i18n/setlang/", {"language": "en", "next": "/ip/"})
    html = client.get("/ip/personas/new/").content.decode()
    assert "New persona" in html and "Value offered" in html and "新建人设" not in html


def test_the_navigation_links_to_the_studio(brand_a, login):
    html = login(brand_a.members["copywriter"]).get("/").content.decode()
    nav = html[html.index('data-testid="nav"'):html.index("</ul>", html.index('data-testid="nav"'))]
    assert 'href="/ip/"' in nav and "品牌IP" in nav


def test_the_persona_page_lists_what_is_still_open(brand_a, login):
    persona = make_persona(brand_a)
    html = login(brand_a.members["copywriter"]).get(f"/ip/personas/{persona.pk}/").content.decode()
    assert "50%" in html and "星座" in html[html.index("50%"):]


def test_a_far_from_square_avatar_gets_a_hint(brand_a, login):
    from tests.ip.conftest import image_bytes, upload

    persona = make_persona(brand_a, avatar=upload(image_bytes(300, 100)))
    html = login(brand_a.members["planner"]).get(f"/ip/personas/{persona.pk}/").content.decode()
    assert "裁剪" in html


def test_the_persona_page_lists_the_accounts_embodying_it(brand_a, login):
    from siyu.accounts.models import StaffAccount

    persona = make_persona(brand_a)
    StaffAccount.objects.create(workspace=brand_a.workspace, userid="xiaowan01", name="小完子01", persona=persona)
    html = login(brand_a.members["planner"]).get(f"/ip/personas/{persona.pk}/").content.decode()
    listed = html[html.index('data-testid="persona-accounts"'):]
    assert "小完子01" in listed
    assert "账号模块上线后" not in html


def test_a_persona_without_accounts_links_to_the_accounts_page(brand_a, login):
    persona = make_persona(brand_a)
    html = login(brand_a.members["planner"]).get(f"/ip/personas/{persona.pk}/").content.decode()
    listed = html[html.index('data-testid="persona-accounts"'):]
    assert "尚无账号承载此人设" in listed and 'href="/accounts/"' in listed
    assert "账号模块上线后" not in html
