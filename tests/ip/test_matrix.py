import pytest
from django.core.exceptions import ValidationError

from siyu.ip import services
from siyu.ip.models import MatrixLevel
from tests.conftest import seat
from tests.ip.conftest import make_persona, persona_input


def edit(brand, persona, **changes):
    planner = seat(brand.members["planner"], brand.workspace)
    values = {"name": persona.name, "level": persona.level, "parent_id": persona.parent_id, **changes}
    return services.save_persona(brand.workspace, planner, persona_input(**values), None, persona.pk)


def test_a_brand_has_at_most_one_main_ip(brand_a, brand_b):
    make_persona(brand_a, name="小完子", level=MatrixLevel.MAIN)
    with pytest.raises(ValidationError) as refused:
        make_persona(brand_a, name="小美", level=MatrixLevel.MAIN)
    assert set(refused.value.message_dict) == {"level"}
    assert "小完子" in refused.value.message_dict["level"][0]
    assert make_persona(brand_b, name="小美", level=MatrixLevel.MAIN).level == MatrixLevel.MAIN


def test_the_main_ip_may_be_edited_without_tripping_over_itself(brand_a):
    main = make_persona(brand_a, level=MatrixLevel.MAIN)
    assert edit(brand_a, main, slogan="新口号").level == MatrixLevel.MAIN


def test_the_main_ip_reports_to_no_one(brand_a):
    key = make_persona(brand_a, name="店长", level=MatrixLevel.KEY)
    with pytest.raises(ValidationError) as refused:
        make_persona(brand_a, name="小完子", level=MatrixLevel.MAIN, parent_id=key.pk)
    assert set(refused.value.message_dict) == {"parent"}


def test_a_parent_must_belong_to_the_same_brand(brand_a, brand_b):
    foreign = make_persona(brand_b, name="别家主IP", level=MatrixLevel.MAIN)
    with pytest.raises(ValidationError) as refused:
        make_persona(brand_a, name="导购01", parent_id=foreign.pk)
    assert set(refused.value.message_dict) == {"parent"}


def test_a_persona_cannot_report_to_itself(brand_a):
    key = make_persona(brand_a, name="店长", level=MatrixLevel.KEY)
    with pytest.raises(ValidationError) as refused:
        edit(brand_a, key, parent_id=key.pk)
    assert set(refused.value.message_dict) == {"parent"}


def test_a_loop_in_the_matrix_is_refused(brand_a):
    region = make_persona(brand_a, name="区域经理", level=MatrixLevel.KEY)
    store = make_persona(brand_a, name="店长", level=MatrixLevel.KEY, parent_id=region.pk)
    with pytest.raises(ValidationError) as refused:
        edit(brand_a, region, parent_id=store.pk)
    assert "parent" in refused.value.message_dict
    region.refresh_from_db()
    assert region.parent_id is None


def test_a_frontline_ip_cannot_lead_a_key_person_ip(brand_a):
    staff = make_persona(brand_a, name="导购01", level=MatrixLevel.FRONTLINE)
    with pytest.raises(ValidationError) as refused:
        make_persona(brand_a, name="店长", level=MatrixLevel.KEY, parent_id=staff.pk)
    assert set(refused.value.message_dict) == {"parent"}


def test_a_persona_cannot_be_moved_below_the_personas_that_report_to_it(brand_a):
    key = make_persona(brand_a, name="店长", level=MatrixLevel.KEY)
    make_persona(brand_a, name="副店长", level=MatrixLevel.KEY, parent_id=key.pk)
    with pytest.raises(ValidationError) as refused:
        edit(brand_a, key, level=MatrixLevel.FRONTLINE)
    assert "副店长" in refused.value.message_dict["level"][0]


def test_the_matrix_is_a_tree_with_the_main_ip_first_and_children_by_level_then_name(brand_a):
    main = make_persona(brand_a, name="小完子", level=MatrixLevel.MAIN)
    make_persona(brand_a, name="游离导购", level=MatrixLevel.FRONTLINE)
    zhang = make_persona(brand_a, name="b店长", level=MatrixLevel.KEY, parent_id=main.pk)
    make_persona(brand_a, name="a导购", level=MatrixLevel.FRONTLINE, parent_id=main.pk)
    make_persona(brand_a, name="c导购", level=MatrixLevel.FRONTLINE, parent_id=zhang.pk)
    make_persona(brand_a, name="a顾问", level=MatrixLevel.KEY, parent_id=main.pk)
    make_persona(brand_a, name="top店长", level=MatrixLevel.KEY)
    viewer = seat(brand_a.members["data_analyst"], brand_a.workspace)
    rows = services.flatten(services.ip_matrix(brand_a.workspace, viewer))
    assert [(r.persona.name, r.depth) for r in rows] == [
        ("小完子", 0), ("a顾问", 1), ("b店长", 1), ("c导购", 2), ("a导购", 1),
        ("top店长", 0), ("游离导购", 0),
    ]


def test_the_matrix_page_draws_the_tree(brand_a, login):
    main = make_persona(brand_a, name="小完子", level=MatrixLevel.MAIN)
    make_persona(brand_a, name="导购01", parent_id=main.pk)
    html = login(brand_a.members["customer_ops"]).get("/ip/matrix/").content.decode()
    assert html.index("小完子") < html.index("导购01")
    assert 'data-depth="0"' in html and 'data-depth="1"' in html


def account(brand, userid, persona, **fields):
    from siyu.accounts.models import StaffAccount

    values = {"name": userid, "persona": persona, **fields}
    return StaffAccount.objects.create(workspace=brand.workspace, userid=userid, **values)


def test_each_node_lists_the_active_accounts_embodying_its_persona(brand_a):
    main = make_persona(brand_a, name="小完子", level=MatrixLevel.MAIN)
    store = make_persona(brand_a, name="店长", level=MatrixLevel.KEY, parent_id=main.pk)
    account(brand_a, "xw02", main, name="小完子02")
    account(brand_a, "xw01", main, name="小完子01")
    account(brand_a, "gone", main, active=False)
    account(brand_a, "boss", store)
    account(brand_a, "loose", None)
    viewer = seat(brand_a.members["copywriter"], brand_a.workspace)
    rows = services.flatten(services.ip_matrix(brand_a.workspace, viewer))
    assert [(r.persona.name, [a.userid for a in r.accounts]) for r in rows] == [
        ("小完子", ["xw01", "xw02"]), ("店长", ["boss"])]


def test_the_matrix_with_accounts_takes_two_queries(brand_a, django_assert_num_queries):
    main = make_persona(brand_a, name="小完子", level=MatrixLevel.MAIN)
    for n in range(5):
        child = make_persona(brand_a, name=f"导购{n}", parent_id=main.pk)
        account(brand_a, f"staff{n}", child)
    viewer = seat(brand_a.members["copywriter"], brand_a.workspace)
    with django_assert_num_queries(2):
        services.ip_matrix(brand_a.workspace, viewer)


def test_the_matrix_page_shows_accounts_with_their_fill(brand_a, login):
    main = make_persona(brand_a, name="小完子", level=MatrixLevel.MAIN)
    account(brand_a, "xw01", main, name="小完子01", friend_count=4000, friend_limit=5000)
    html = login(brand_a.members["customer_ops"]).get("/ip/matrix/").content.decode()
    assert "小完子01" in html and "4000/5000 · 80%" in html


def test_the_matrix_api_gives_each_nodes_accounts(brand_a, login):
    main = make_persona(brand_a, name="小完子", level=MatrixLevel.MAIN)
    staff = account(brand_a, "xw01", main, name="小完子01", friend_count=12)
    body = login(brand_a.members["data_analyst"]).get("/api/ip/matrix").json()
    assert body[0]["accounts"] == [{"id": staff.pk, "userid": "xw01", "name": "小完子01",
                                    "friend_count": 12, "friend_limit": 5000}]


def test_the_matrix_never_shows_another_brands_accounts(brand_a, brand_b, login):
    make_persona(brand_a, name="小完子", level=MatrixLevel.MAIN)
    foreign_persona = make_persona(brand_b, name="贝塔主IP", level=MatrixLevel.MAIN)
    account(brand_b, "beta-staff", foreign_persona, name="贝塔号")
    client = login(brand_a.admin)
    assert "贝塔号" not in client.get("/ip/matrix/").content.decode()
    assert client.get("/api/ip/matrix").json()[0]["accounts"] == []
