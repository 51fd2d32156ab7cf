"""Welcome message shape (WECOM.md §3): text <= 4000 bytes, known variables, <= 9 attachments of
the kinds WeCom takes, each with what it needs; rendering fills variables and stays in bounds."""

from __future__ import annotations

import pytest
from django.utils import translation

from siyu.channels.services.welcome import render_welcome, to_attachments, validate_welcome


@pytest.fixture(autouse=True)
def _english():
    """These tests read the services' reasons in English; the console's default is Chinese."""
    with translation.override("en"):
        yield

IMAGE = {"type": "image", "media_id": "MEDIA1"}
LINK = {"type": "link", "title": "新人礼", "url": "https://shop.example.com/gift"}
MINI = {"type": "miniprogram", "title": "商城", "pic_media_id": "PIC1", "appid": "wx123", "page": "pages/index.html"}


def test_a_good_message_has_no_errors():
    assert validate_welcome("{customer_nickname}你好，我是{persona_name}。{welfare}", [IMAGE, LINK, MINI]) == []


def test_text_over_4000_bytes_is_refused_counting_bytes_not_characters():
    assert validate_welcome("好" * 1333, []) == []  # 3,999 bytes
    [error] = validate_welcome("好" * 1334, [])
    assert "4002" in error


def test_unknown_variables_are_named():
    [error] = validate_welcome("你好{nick}，{welfare}{coupon}", [])
    assert "{coupon}, {nick}" in error


def test_more_than_nine_attachments_is_refused():
    assert any("9" in e for e in validate_welcome("hi", [IMAGE] * 10))


def test_each_attachment_kind_needs_its_fields():
    errors = validate_welcome("hi", [{"type": "image"}, {"type": "link", "title": "", "url": "ftp://x"},
                                     {"type": "miniprogram", "title": "商城"}, {"type": "video"}, "junk"])
    assert [e.split(":")[0] for e in errors] == [f"Attachment {n}" for n in (1, 2, 2, 3, 4, 5)]
    assert "pic_media_id, appid, page" in errors[3]


def test_rendering_fills_known_variables_and_leaves_other_braces():
    text = render_welcome("{customer_nickname}，券码{welfare}，{unknown}", {"customer_nickname": "王小雨", "welfare": "A-1"})
    assert text == "王小雨，券码A-1，{unknown}"


def test_a_rendered_text_past_4000_bytes_is_cut_on_a_character_boundary():
    text = render_welcome("好" * 1300 + "{welfare}", {"welfare": "福" * 100})
    assert len(text.encode("utf-8")) <= 4000 and text.endswith("福")


def test_stored_attachments_become_wecom_wire_shapes():
    wire = [a.wire() for a in to_attachments([IMAGE, {"type": "image", "pic_url": "https://x/p.png"}, LINK, MINI])]
    assert wire[0] == {"msgtype": "image", "image": {"media_id": "MEDIA1"}}
    assert wire[1] == {"msgtype": "image", "image": {"pic_url": "https://x/p.png"}}
    assert wire[2]["link"] == {"title": "新人礼", "url": "https://shop.example.com/gift"}
    assert wire[3]["miniprogram"]["appid"] == "wx123"


def test_an_attachment_with_a_key_its_kind_does_not_have_is_refused():
    """The probe stored a megabyte in one code under a key nobody reads."""
    [error] = validate_welcome("hi", [{**IMAGE, "junk": "x" * 1_000_000}])
    assert error.startswith("Attachment 1:") and "junk" in error and len(error) < 200
    [error] = validate_welcome("hi", [{**LINK, "media_id": "M"}])  # an image's field on a link
    assert "media_id" in error


def test_attachment_fields_are_text():
    [error] = validate_welcome("hi", [{"type": "link", "title": ["新人礼"], "url": "https://x.example/"}])
    assert "title" in error and "text" in error


@pytest.mark.parametrize(("attachment", "field"), [
    ({**LINK, "title": "好" * 43}, "title"),  # 129 bytes; WeCom takes 128
    ({**LINK, "desc": "好" * 171}, "desc"),  # 513 bytes; WeCom takes 512
    ({**LINK, "url": "https://x.example/" + "a" * 2031}, "url"),  # 2049 bytes
    ({**MINI, "title": "好" * 22}, "title"),  # 66 bytes; WeCom takes 64
    ({**IMAGE, "media_id": "M" * 257}, "media_id"),
])
def test_attachment_text_past_wecoms_byte_limits_is_refused(attachment, field):
    [error] = validate_welcome("hi", [attachment])
    assert error.startswith(f"Attachment 1: {field} is ") and "bytes" in error


def test_limits_count_bytes_so_a_title_of_128_bytes_passes():
    assert validate_welcome("hi", [{**LINK, "title": "好" * 42 + "ab"}, {**MINI, "title": "好" * 21 + "a"}]) == []


def test_videos_and_files_take_a_media_id():
    video, file = {"type": "video", "media_id": "V1"}, {"type": "file", "media_id": "F1"}
    assert validate_welcome("hi", [video, file]) == []
    assert [a.wire() for a in to_attachments([video, file])] == [
        {"msgtype": "video", "video": {"media_id": "V1"}}, {"msgtype": "file", "file": {"media_id": "F1"}}]
    [error] = validate_welcome("hi", [{"type": "file"}])
    assert "media_id" in error
