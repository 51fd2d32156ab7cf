"""The welcome-message editor of a channel code (欢迎语编辑器): its limits refused on save with
reasons, link and mini-program cards checked, pictures uploaded for attachments (kept private,
sent by a media id that is renewed before WeCom forgets it), the preview's data, and the test
send to a staff member's WeCom through the real twin."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation
from PIL import Image

from siyu.channels.models import ChannelCode, Welfare
from siyu.channels.services import welcome_editor
from siyu.channels.services.welcome import validate_welcome
from siyu.core.models import AuditEntry
from siyu.ip.models import Persona
from siyu.wecom.models import ApiCall
from tests.channels.conftest import drain, make_code, publish_add, scan_and_add
from tests.channels.test_pages import form_data
from tests.conftest import seat

LINK = {"kind": "link", "title": "新人礼包", "url": "https://shop.example.com/gift", "description": "点我领取"}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def png(colour: str = "red", size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def attachment_rows(*rows: dict[str, str]) -> dict[str, str]:
    data = {"attachments-TOTAL_FORMS": str(len(rows)), "attachments-INITIAL_FORMS": "0"}
    for number, row in enumerate(rows):
        data |= {f"attachments-{number}-{key}": value for key, value in row.items()}
    return data


def notices(twin, userid: str = "") -> list[dict]:
    response = twin.admin.get("/twin/notices", params={"userid": userid} if userid else {})
    response.raise_for_status()
    return response.json()["notices"]


def upload(client, content: bytes, name: str = "gift.png"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post("/channels/welcome/pictures/upload/", {"file": SimpleUploadedFile(name, content)})


# --- limits and validation on save ------------------------------------------------------------

def test_a_text_past_4000_bytes_is_refused_on_save_with_the_byte_count(shop, login):
    client = login(shop.members["planner"])
    html = client.post("/channels/codes/new/", form_data(shop, welcome_text="好" * 1334)).content.decode()
    error = re.search(r'data-error-for="welcome_text">([^<]+)<', html).group(1)
    assert "4002" in error and "4000" in error
    assert not ChannelCode.objects.for_workspace(shop.workspace).exists()


def test_a_text_of_exactly_4000_bytes_is_saved(shop, login):
    client = login(shop.members["planner"])
    response = client.post("/channels/codes/new/", form_data(shop, welcome_text="好" * 1333 + "a"))
    assert response.status_code == 302
    assert len(ChannelCode.objects.for_workspace(shop.workspace).get().welcome_text.encode()) == 4000


def test_ten_attachments_are_refused_on_save_with_the_limit_named(shop, login):
    client = login(shop.members["planner"])
    html = client.post("/channels/codes/new/", form_data(shop, **attachment_rows(*[LINK] * 10))).content.decode()
    errors = re.search(r'data-testid="attachment-errors">(.+?)</div></div>', html, re.S).group(1)
    assert "9" in errors and "附件" in errors
    assert not ChannelCode.objects.for_workspace(shop.workspace).exists()
    assert client.post("/channels/codes/new/", form_data(shop, **attachment_rows(*[LINK] * 9))).status_code == 302


def test_a_link_needs_a_title_and_a_web_address_and_a_cover_that_is_one(shop, login):
    client = login(shop.members["planner"])
    html = client.post("/channels/codes/new/", form_data(shop, **attachment_rows(
        {"kind": "link", "title": "", "url": "shop.example.com", "picture": "cover.png"}))).content.decode()
    errors = re.search(r'data-testid="attachment-errors">(.+?)</div></div>', html, re.S).group(1)
    assert "标题" in errors and "http(s)" in errors and "picurl" in errors
    assert not ChannelCode.objects.for_workspace(shop.workspace).exists()


def test_a_mini_program_needs_its_appid_page_and_cover(shop, login):
    client = login(shop.members["planner"])
    html = client.post("/channels/codes/new/", form_data(shop, **attachment_rows(
        {"kind": "miniprogram", "title": "商城"}))).content.decode()
    errors = re.search(r'data-testid="attachment-errors">(.+?)</div></div>', html, re.S).group(1)
    assert "pic_media_id, appid, page" in errors
    assert not ChannelCode.objects.for_workspace(shop.workspace).exists()


# --- pictures -----------------------------------------------------------------------------------

def test_an_uploaded_picture_is_kept_and_given_a_media_id_by_wecom(shop, login):
    client = login(shop.members["planner"])
    answer = upload(client, png()).json()
    assert re.fullmatch(rf"welcome/{shop.workspace.pk}/[0-9a-f]{{64}}\.png", answer["file"])
    assert answer["media_id"] and answer["media_at"]
    assert ApiCall.objects.for_workspace(shop.workspace).filter(endpoint="media/upload").count() == 1
    picture = client.get(answer["url"])
    assert picture.status_code == 200 and picture["Content-Type"] == "image/png"
    assert b"".join(picture.streaming_content) == png()


def test_a_file_that_is_not_a_picture_is_refused_with_a_reason(shop, login):
    client = login(shop.members["planner"])
    response = upload(client, b"%PDF-1.4 not a picture", name="menu.pdf")
    assert response.status_code == 422 and "JPG" in response.json()["errors"][0]
    gif = io.BytesIO()
    Image.new("RGB", (4, 4)).save(gif, "GIF")
    assert "GIF" in upload(client, gif.getvalue(), name="x.gif").json()["errors"][0]
    nothing = client.post("/channels/welcome/pictures/upload/", {})
    assert nothing.status_code == 422 and "JPG" in nothing.json()["errors"][0]


def test_another_brands_picture_is_neither_served_nor_accepted(shop, brand_b, login):
    planner_a = login(shop.members["planner"])
    answer = upload(planner_a, png()).json()
    other = login(brand_b.members["planner"])
    assert other.get(answer["url"]).status_code == 404
    with translation.override("en"):
        errors = validate_welcome("", [{"type": "image", "file": answer["file"], "media_id": answer["media_id"]}],
                                  brand_b.workspace)
    assert errors == ["Attachment 1: the picture is not one uploaded here; upload it again."]
    assert validate_welcome("", [{"type": "image", "file": answer["file"]}], shop.workspace) == []
    assert planner_a.get("/channels/welcome/pictures/?name=../../etc/passwd").status_code == 404


def test_a_code_with_an_uploaded_picture_sends_it_by_media_id(live_shop, login):
    client = login(live_shop.members["planner"])
    answer = upload(client, png()).json()
    response = client.post("/channels/codes/new/", form_data(live_shop, **attachment_rows(
        {"kind": "image", "file": answer["file"], "media_id": answer["media_id"], "media_at": answer["media_at"]})))
    assert response.status_code == 302
    code = ChannelCode.objects.for_workspace(live_shop.workspace).get()
    assert code.welcome_attachments == [{"type": "image", "media_id": answer["media_id"], "file": answer["file"],
                                         "media_at": answer["media_at"]}]
    added = scan_and_add(live_shop.twin, "xiaowanzi01", code.state)
    publish_add(live_shop.workspace, added)
    drain()
    [message] = [m for m in live_shop.twin.state()["messages"] if m["kind"] == "welcome"]
    assert message["attachments"] == [{"msgtype": "image", "image": {"media_id": answer["media_id"]}}]


def test_a_picture_whose_media_id_is_stale_is_uploaded_again_before_the_welcome(live_shop, login):
    client = login(live_shop.members["planner"])
    answer = upload(client, png("blue")).json()
    three_days_ago = (timezone.now() - dt.timedelta(days=3)).isoformat()
    code = make_code(live_shop.workspace, welcome_attachments=[
        {"type": "image", "media_id": "EXPIRED-MEDIA", "file": answer["file"], "media_at": three_days_ago}])
    added = scan_and_add(live_shop.twin, "xiaowanzi01", code.state)
    publish_add(live_shop.workspace, added)
    drain()
    [message] = [m for m in live_shop.twin.state()["messages"] if m["kind"] == "welcome"]
    sent_id = message["attachments"][0]["image"]["media_id"]
    assert sent_id not in ("EXPIRED-MEDIA", answer["media_id"])
    code.refresh_from_db()
    assert code.welcome_attachments[0]["media_id"] == sent_id
    assert code.welcome_attachments[0]["media_at"] > three_days_ago


# --- the editor on the page -----------------------------------------------------------------------

def test_the_editor_shows_variable_buttons_counters_and_the_persona_for_the_preview(shop, login):
    persona = Persona.objects.create(workspace=shop.workspace, name="小完子", avatar="avatars/1/a.png")
    account = shop.accounts["xiaowanzi01"]
    account.persona = persona
    account.save(update_fields=["persona"])
    html = login(shop.members["planner"]).get("/channels/codes/new/").content.decode()
    for name in ("customer_nickname", "persona_name", "staff_name", "welfare"):
        assert f'data-insert-variable="{name}"' in html
    assert 'data-byte-counter' in html and 'data-testid="welcome-preview"' in html
    assert 'channels/welcome_editor.js' in html and "onclick" not in html
    data = re.search(r'id="welcome-editor-data" type="application/json">(.+?)</script>', html).group(1)
    assert f'"avatar": "/ip/personas/{persona.pk}/avatar/"' in data and '"persona": "\\u5c0f\\u5b8c\\u5b50"' in data
    assert 'data-testid="test-send"' in html


# --- the test send ------------------------------------------------------------------------------------

def send(shop, member="planner", **overrides):
    values = {"recipient_id": shop.accounts["xiaowanzi02"].pk, "sender_id": shop.accounts["xiaowanzi01"].pk,
              "text": "{customer_nickname}你好，我是{persona_name}（{staff_name}）。{welfare}",
              "attachments": [], "code_name": "南京西路店"}
    values.update(overrides)
    return welcome_editor.send_trial_welcome(shop.workspace, seat(shop.members[member], shop.workspace), **values)


def test_a_test_send_reaches_the_staff_members_wecom_with_the_variables_filled(shop):
    persona = Persona.objects.create(workspace=shop.workspace, name="小完子")
    shop.accounts["xiaowanzi01"].persona = persona
    shop.accounts["xiaowanzi01"].save(update_fields=["persona"])
    welfare = Welfare.objects.create(workspace=shop.workspace, name="新客券", kind="coupon", description="满100减20")
    sent = send(shop, welfare_id=welfare.pk, attachments=[
        {"type": "link", "title": "新人礼包", "url": "https://shop.example.com/gift", "desc": "点我领取"}])
    [text, card] = notices(shop.twin, "xiaowanzi02")
    assert sent.text == "王小雨你好，我是小完子（小完子01）。满100减20 WELCOME-8888"
    assert sent.text in text["content"]["content"] and "南京西路店" in text["content"]["content"]
    assert "新人礼包" in text["content"]["content"]
    assert card["msgtype"] == "textcard" and card["content"]["url"] == "https://shop.example.com/gift"
    assert notices(shop.twin, "xiaowanzi01") == []


def test_a_test_send_includes_an_uploaded_picture_as_an_image_message(shop, login):
    answer = upload(login(shop.members["planner"]), png()).json()
    send(shop, attachments=[{"type": "image", "file": answer["file"], "media_id": answer["media_id"],
                             "media_at": answer["media_at"]}])
    kinds = [n["msgtype"] for n in notices(shop.twin, "xiaowanzi02")]
    assert kinds == ["text", "image"]


def test_a_long_text_is_sent_in_pieces_wecom_does_not_cut(shop):
    send(shop, text="好" * 1333)
    pieces = [n["content"]["content"] for n in notices(shop.twin, "xiaowanzi02")]
    assert len(pieces) == 2 and all(len(p.encode()) <= 2048 for p in pieces)
    assert "".join(pieces).count("好") == 1333


def test_a_test_send_is_audited_with_the_recipient_and_the_text(shop):
    send(shop)
    entry = AuditEntry.objects.for_workspace(shop.workspace).get(module="channels")
    assert entry.actor == shop.members["planner"]
    with translation.override("zh-hans"):
        from siyu.core.auditing import describe
        sentence = describe(entry)
    assert "南京西路店" in sentence and "xiaowanzi02" in sentence and "王小雨你好" in sentence


def test_a_copywriter_may_not_send_a_test_and_nothing_reaches_wecom(shop):
    with pytest.raises(PermissionDenied):
        send(shop, member="copywriter")
    assert notices(shop.twin) == []
    assert not AuditEntry.objects.for_workspace(shop.workspace).filter(module="channels").exists()


def test_a_test_send_of_an_invalid_message_or_to_no_one_is_refused_with_reasons(shop):
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        send(shop, text="好" * 1334, recipient_id=None)
    assert "4002" in refused.value.message_dict["welcome_text"][0]
    assert "staff accounts" in refused.value.message_dict["recipient"][0]
    assert notices(shop.twin) == []


def test_wecoms_refusal_of_a_test_send_is_explained(shop):
    response = shop.twin.admin.post("/twin/faults", json={"api": "message/send", "errcode": 45009,
                                                          "errmsg": "api freq out of limit"})
    assert response.status_code == 201
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        send(shop)
    assert "45009" in refused.value.messages[0] and "refused the test" in refused.value.messages[0]
    assert not AuditEntry.objects.for_workspace(shop.workspace).filter(module="channels").exists()


def test_the_test_send_button_posts_the_form_and_shows_the_outcome(shop, login):
    client = login(shop.members["planner"])
    response = client.post("/channels/welcome/test-send/", form_data(shop, **{
        "test_recipient": str(shop.accounts["xiaowanzi02"].pk), "welcome_sender": "",
        **attachment_rows(LINK)}))
    html = response.content.decode()
    assert response.status_code == 200 and "alert-success" in html and "小完子02" in html
    assert len(notices(shop.twin, "xiaowanzi02")) == 2
    refused = login(shop.members["copywriter"]).post("/channels/welcome/test-send/", form_data(shop, **{
        "test_recipient": str(shop.accounts["xiaowanzi02"].pk)}))
    assert refused.status_code == 403
