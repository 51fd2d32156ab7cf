"""The group-code pages: list, create (validated, explained in Chinese), detail with the QR, the
bound groups' live counts and the chain; roles without `e` on 社群 cannot create; other brands'
codes are hidden; the list's queries stay flat as codes grow."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from siyu.core.models import AuditEntry
from siyu.groupcodes.models import GroupCode
from tests.groupcodes.conftest import QR_CAP


def _post_form(client, chat_ids, **extra):
    data = {"name": "门店群活码", "chat_ids": chat_ids, "room_base_name": "门店群", "room_base_id": 1,
            "qr_cap": QR_CAP, "full_at": 10, "auto_create_room": "on", "welcome_notify": "on",
            "welcome_text": "欢迎入群！", "welcome_kind": ""} | extra
    return client.post("/community/codes/new/", data)


def test_an_ops_lead_creates_a_code_from_the_form(club, login):
    chat_id = club.group("门店福利群")
    client = login(club.brand.members["ops_lead"])
    response = _post_form(client, [chat_id])
    assert response.status_code == 302, response.content.decode()[:2000]
    code = GroupCode.objects.for_workspace(club.workspace).get()
    assert code.chat_ids == [chat_id] and code.config_id and code.welcome_template_id
    assert club.way(code)["state"] == code.state
    assert AuditEntry.objects.for_workspace(club.workspace).filter(module="community").exists()
    page = client.get(f"/community/codes/{code.pk}/").content.decode()
    assert "门店福利群" in page and "群的代际" in page and "欢迎入群！" in page


def test_the_form_explains_what_is_wrong_in_chinese(club, login):
    client = login(club.brand.members["admin"])
    response = _post_form(client, [], name="", qr_cap=300, welcome_kind="link", welcome_url="ftp://x")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-error="name"' in page and 'data-error="chat_ids"' in page and 'data-error="qr_cap"' in page
    assert 'data-error="welcome_title"' in page and 'data-error="welcome_url"' in page
    assert "这是必填项" in page or "必填" in page
    assert not GroupCode.objects.for_workspace(club.workspace).exists()


def test_a_group_already_at_the_cap_cannot_be_bound(club, login):
    chat_id = club.group("满员群", guests=QR_CAP)
    response = _post_form(login(club.brand.members["admin"]), [chat_id])
    assert response.status_code == 200 and 'data-error="chat_ids"' in response.content.decode()


def test_a_copywriter_sees_codes_but_cannot_create_one(club, login):
    club.make_code([club.group("福利群")])
    client = login(club.brand.members["copywriter"])
    listing = client.get("/community/codes/")
    assert listing.status_code == 200 and "粉丝群活码" in listing.content.decode()
    assert "new-code" not in listing.content.decode()
    assert client.get("/community/codes/new/").status_code == 403
    assert _post_form(client, [club.group("另一个群")]).status_code == 403


def test_another_brands_code_is_not_found(club, login, brand_b):
    code = club.make_code([club.group("福利群")])
    client = login(brand_b.admin)
    assert client.get(f"/community/codes/{code.pk}/").status_code == 404


def test_the_detail_shows_the_qr_the_bound_groups_and_the_chain(club, login):
    code = club.make_code([club.group("福利群")])
    for _ in range(QR_CAP):  # the last scan makes WeCom open 粉丝群1
        club.deliver(joined := club.scan(code), created=joined["created"])
    client = login(club.brand.members["admin"])
    page = client.get(f"/community/codes/{code.pk}/").content.decode()
    assert 'data-generation="1"' in page and 'data-generation="2"' in page and "粉丝群1" in page
    assert f"/community/codes/{code.pk}/qr.png" in page
    qr = client.get(f"/community/codes/{code.pk}/qr.png")
    if qr.status_code == 200:  # the twin's app routes join-way QRs to `groups.join_way_qr_png`
        assert qr["Content-Type"] == "image/png" and qr.content.startswith(b"\x89PNG")
    else:  # until then its image server answers 404, and the page says so rather than draw a QR
        assert qr.status_code == 502 and "404" in qr.content.decode()


def test_the_list_costs_the_same_queries_for_one_code_or_many(club, login):
    client = login(club.brand.members["admin"])
    club.make_code([club.group("群0")], name="码0")
    client.get("/community/codes/")
    with CaptureQueriesContext(connection) as one:
        client.get("/community/codes/")
    for n in range(1, 4):
        club.make_code([club.group(f"群{n}")], name=f"码{n}")
    with CaptureQueriesContext(connection) as four:
        assert client.get("/community/codes/").status_code == 200
    assert len(four) == len(one)


def test_deleting_a_code_deletes_its_join_way(club, login):
    code = club.make_code([club.group("福利群")])
    client = login(club.brand.members["admin"])
    assert client.post(f"/community/codes/{code.pk}/delete/").status_code == 302
    assert not GroupCode.objects.for_workspace(club.workspace).exists()
    assert club.twin.api("externalcontact/groupchat/get_join_way", {"config_id": code.config_id})["errcode"] == 40058


def test_the_directory_names_the_brands_codes_for_channels(club, brand_b):
    from siyu.groupcodes.directory import directory

    code = club.make_code([club.group("福利群")])
    [ref] = directory(club.workspace)
    assert (ref.id, ref.name, ref.url, ref.taking_joins) == (code.pk, "粉丝群活码", f"/community/codes/{code.pk}/", True)
    assert directory(brand_b.workspace) == [] and directory(club.workspace, [code.pk + 1]) == []
