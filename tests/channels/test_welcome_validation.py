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
