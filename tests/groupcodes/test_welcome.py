"""A code's group welcome is a WeCom group welcome template (group_welcome_template/add|edit|del),
kept in step with the code: made, edited, replaced when deleted outside Siyu, removed with it."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from siyu.groupcodes import services
from siyu.groupcodes.services import WelcomeInput


def _template(club, template_id):
    return club.twin.api("externalcontact/group_welcome_template/get", {"template_id": template_id})


def _edit(club, code, welcome):
    data = services.CodeInput(name=code.name, chat_ids=list(code.chat_ids), room_base_name=code.room_base_name,
                              qr_cap=code.qr_cap, full_at=code.full_at, welcome=welcome)
    return services.update_code(club.workspace, club.seat(), code.pk, data)


def test_a_code_with_a_welcome_has_a_template_at_wecom(club):
    code = club.make_code([club.group("福利群")], welcome=WelcomeInput(
        text="欢迎！先看群公告", kind="link", attachment={"title": "新人礼", "url": "https://example.com/gift"}))
    held = _template(club, code.welcome_template_id)
    assert held["text"]["content"] == "欢迎！先看群公告"
    assert held["link"] == {"title": "新人礼", "url": "https://example.com/gift"}


def test_editing_the_welcome_edits_the_template_and_clearing_it_deletes_it(club):
    code = club.make_code([club.group("福利群")], welcome=WelcomeInput(text="欢迎"))
    template_id = code.welcome_template_id
    code = _edit(club, code, WelcomeInput(text="欢迎新朋友", kind="image",
                                          attachment={"pic_url": "https://example.com/a.png"}))
    assert code.welcome_template_id == template_id
    assert _template(club, template_id)["image"] == {"pic_url": "https://example.com/a.png"}
    code = _edit(club, code, WelcomeInput())
    assert code.welcome_template_id == "" and _template(club, template_id)["errcode"] == 40058


def test_a_template_deleted_outside_siyu_is_made_again(club):
    code = club.make_code([club.group("福利群")], welcome=WelcomeInput(text="欢迎"))
    club.twin.api("externalcontact/group_welcome_template/del", {"template_id": code.welcome_template_id})
    code = _edit(club, code, WelcomeInput(text="欢迎回来"))
    assert _template(club, code.welcome_template_id)["text"]["content"] == "欢迎回来"


def test_a_welcome_past_4000_bytes_is_refused_before_wecom_is_asked(club):
    with pytest.raises(ValidationError) as refused:
        club.make_code([club.group("福利群")], welcome=WelcomeInput(text="欢" * 1400))
    assert "welcome_text" in refused.value.message_dict


def test_the_twin_refuses_a_template_with_neither_text_nor_attachment(club):
    answer = club.twin.api("externalcontact/group_welcome_template/add", {"text": {"content": ""}})
    assert answer["errcode"] == 40058
    answer = club.twin.api("externalcontact/group_welcome_template/add", {"miniprogram": {"title": "t"}})
    assert answer["errcode"] == 40058


def test_the_twin_keeps_one_attachment_by_wecoms_priority(club):
    made = club.twin.api("externalcontact/group_welcome_template/add", {
        "text": {"content": "hi"}, "link": {"title": "t", "url": "https://e.com"},
        "image": {"pic_url": "https://e.com/p.png"}, "notify": 0})
    held = _template(club, made["template_id"])
    assert "image" in held and "link" not in held
