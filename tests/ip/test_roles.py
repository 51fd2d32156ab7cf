import pytest
from django.core.exceptions import PermissionDenied

from siyu.ip import services
from siyu.ip.models import BrandPortrait, Persona
from tests.conftest import seat
from tests.ip.conftest import image_bytes, make_persona, persona_input, upload

FORM = {"name": "小美", "gender": "female", "company_role": "美容顾问", "generation": "90s",
        "value_offered": "一对一护肤建议", "archetype": "consultant", "expertise": "护肤", "level": "frontline"}


def form_with_avatar() -> dict:
    return {**FORM, "avatar": upload(image_bytes(fmt="JPEG"), name="me.jpg", content_type="image/jpeg")}


def test_a_planner_creates_a_persona_with_an_avatar_in_the_console(brand_a, login):
    client = login(brand_a.members["planner"])
    response = client.post("/ip/personas/new/", form_with_avatar())
    persona = Persona.objects.for_workspace(brand_a.workspace).get(name="小美")
    assert response.status_code == 302 and response["Location"] == f"/ip/personas/{persona.pk}/"
    assert persona.avatar.name.endswith(".jpg") and persona.expertise == "护肤"


def test_a_planner_edits_a_persona_in_the_console(brand_a, login):
    persona = make_persona(brand_a)
    client = login(brand_a.members["planner"])
    form = client.get(f"/ip/personas/{persona.pk}/edit/").content.decode()
    assert 'value="小完子"' in form
    response = client.post(f"/ip/personas/{persona.pk}/edit/", {
        **FORM, "name": "小完子", "archetype": "perfect_user", "catchphrases": "宝子们～\n亲测好用", "interests": "美妆，旅行",
    })
    assert response.status_code == 302
    persona.refresh_from_db()
    assert persona.catchphrases == ["宝子们～", "亲测好用"] and persona.interests == ["美妆", "旅行"]


@pytest.mark.parametrize("role", ["admin", "ops_lead", "planner"])
def test_roles_that_may_edit_the_ip_see_the_new_persona_button(brand_a, login, role):
    assert 'data-testid="new-persona"' in login(brand_a.members[role]).get("/ip/").content.decode()


def test_a_copywriter_views_the_studio_but_cannot_edit(brand_a, login):
    persona = make_persona(brand_a)
    client = login(brand_a.members["copywriter"])
    home = client.get("/ip/")
    assert home.status_code == 200 and "小完子" in home.content.decode()
    assert 'data-testid="new-persona"' not in home.content.decode()
    assert client.get(f"/ip/personas/{persona.pk}/").status_code == 200
    assert client.get("/ip/portrait/").status_code == 200
    assert client.get("/ip/matrix/").status_code == 200
    for url in ["/ip/personas/new/", f"/ip/personas/{persona.pk}/edit/"]:
        denied = client.get(url)
        assert denied.status_code == 403 and 'data-testid="denied"' in denied.content.decode()


def test_a_copywriters_posts_are_refused_and_change_nothing(brand_a, login):
    persona = make_persona(brand_a)
    client = login(brand_a.members["copywriter"])
    assert client.post("/ip/personas/new/", form_with_avatar()).status_code == 403
    assert client.post(f"/ip/personas/{persona.pk}/edit/", {**FORM, "name": "改名"}).status_code == 403
    assert client.post("/ip/portrait/", {"ideal_endorser": "某明星"}).status_code == 403
    assert list(Persona.objects.for_workspace(brand_a.workspace).values_list("name", flat=True)) == ["小完子"]
    assert not BrandPortrait.objects.for_workspace(brand_a.workspace).exists()


def test_the_services_refuse_a_copywriter(brand_a):
    copywriter = seat(brand_a.members["copywriter"], brand_a.workspace)
    with pytest.raises(PermissionDenied):
        services.save_persona(brand_a.workspace, copywriter, persona_input(), upload())
    with pytest.raises(PermissionDenied):
        services.save_portrait(brand_a.workspace, copywriter, services.PortraitInput(ideal_endorser="x"))
    assert services.list_personas(brand_a.workspace, copywriter) == []


def test_a_merchandiser_cannot_see_the_studio_at_all(brand_a, login):
    persona = make_persona(brand_a)
    client = login(brand_a.members["merchandiser"])
    for url in ["/ip/", f"/ip/personas/{persona.pk}/", "/ip/portrait/", "/ip/matrix/",
                f"/ip/personas/{persona.pk}/avatar/"]:
        assert client.get(url).status_code == 403, url
    assert client.get("/api/ip/personas").status_code == 403
    assert client.get("/api/ip/matrix").status_code == 403
    nav = client.get("/").content.decode()
    assert 'href="/ip/"' not in nav
    merchandiser = seat(brand_a.members["merchandiser"], brand_a.workspace)
    with pytest.raises(PermissionDenied):
        services.list_personas(brand_a.workspace, merchandiser)


def test_a_planner_fills_in_the_self_portrait(brand_a, login):
    client = login(brand_a.members["planner"])
    response = client.post("/ip/portrait/", {
        "female_share": "85", "age_bands": ["18-24", "25-30"], "occupations": "白领，大学生",
        "social_apps": ["xiaohongshu", "zhihu", "bilibili"], "shopping_platforms": ["taobao", "jd"],
        "reviews": "颜色超正\n\n包装好看",
    })
    assert response.status_code == 302
    portrait = BrandPortrait.objects.for_workspace(brand_a.workspace).get()
    assert portrait.occupations == ["白领", "大学生"]
    assert portrait.social_apps == ["xiaohongshu", "zhihu", "bilibili"]
    page = client.get("/ip/portrait/").content.decode()
    assert 'value="xiaohongshu" checked' in page
    assert "2 条评价" in page or "2 条" in page


def test_a_missing_required_dimension_is_shown_on_its_field_in_chinese(brand_a, login):
    html = login(brand_a.members["planner"]).post("/ip/personas/new/", {**FORM, "company_role": ""}).content.decode()
    assert 'data-error-for="company_role"' in html and 'data-error-for="avatar"' in html
    assert 'data-error-for="name"' not in html
    assert "公司" in html[html.index('data-error-for="company_role"'):][:200]
    assert not Persona.objects.for_workspace(brand_a.workspace).exists()
