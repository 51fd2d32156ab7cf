"""The group-code form. It only parses what the browser sends; `groupcodes.services` holds the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from siyu.groupcodes.models import WECOM_GROUP_MAX, WECOM_QR_CAP, WelcomeKind
from siyu.groupcodes.services import CodeInput, WelcomeInput

ATTACHMENT_FIELDS = ("pic_url", "title", "url", "picurl", "desc", "appid", "page")


class GroupCodeForm(forms.Form):
    # Lenient on purpose: the service checks everything and reports every problem at once.
    name = forms.CharField(label=_("Name"), required=False)
    chat_ids = forms.MultipleChoiceField(label=_("Groups"), required=False, help_text=_(
        "1 to 5 groups. Scans go to the first that still takes QR joins."))
    persona = forms.TypedChoiceField(label=_("Persona"), coerce=int, required=False, empty_value=None)
    remark = forms.CharField(label=_("Remark at WeCom"), required=False, max_length=30)
    auto_create_room = forms.BooleanField(label=_("WeCom opens the next group when every group is closed to QR joins"),
                                          required=False, initial=True)
    room_base_name = forms.CharField(label=_("New groups' name"), required=False, max_length=40,
                                     help_text=_("WeCom names them this plus a number: 粉丝群1, 粉丝群2…"))
    room_base_id = forms.IntegerField(label=_("First number"), required=False, initial=1)
    qr_cap = forms.IntegerField(label=_("Stop QR joins at (members)"), required=False,
                                initial=WECOM_QR_CAP, help_text=_("WeCom stops QR joins at 200; set it lower to rotate sooner."))
    full_at = forms.IntegerField(label=_("Full at (members)"), required=False, initial=WECOM_GROUP_MAX)
    expires_on = forms.DateField(label=_("Expires after"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    welcome_text = forms.CharField(label=_("Group welcome"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    welcome_kind = forms.ChoiceField(label=_("Attachment"), choices=WelcomeKind.choices, required=False)
    welcome_pic_url = forms.CharField(label=_("Image address"), required=False, max_length=500)
    welcome_title = forms.CharField(label=_("Title"), required=False, max_length=64)
    welcome_url = forms.CharField(label=_("Link address"), required=False, max_length=500)
    welcome_picurl = forms.CharField(label=_("Link cover address"), required=False, max_length=500)
    welcome_desc = forms.CharField(label=_("Link description"), required=False, max_length=128)
    welcome_appid = forms.CharField(label=_("Mini-program appid"), required=False, max_length=32)
    welcome_page = forms.CharField(label=_("Mini-program page"), required=False, max_length=200)
    welcome_notify = forms.BooleanField(label=_("Tell the group owners when the welcome changes"), required=False,
                                        initial=True)

    def __init__(self, *args: Any, groups: list[Any], personas: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        chats = self.fields["chat_ids"]
        assert isinstance(chats, forms.MultipleChoiceField)
        chats.choices = [(g.chat_id, f"{g.name or g.chat_id} ({g.member_count})") for g in groups]
        persona = self.fields["persona"]
        assert isinstance(persona, forms.TypedChoiceField)
        persona.choices = [("", "—"), *((p.pk, p.name) for p in personas)]
        for name, field in self.fields.items():
            if isinstance(field, forms.BooleanField):
                field.widget.attrs["class"] = "form-check-input"
            else:
                field.widget.attrs["class"] = "form-select" if name in ("chat_ids", "persona", "welcome_kind") \
                    else "form-control"

    def code_input(self) -> CodeInput:
        d = self.cleaned_data
        return CodeInput(
            name=d["name"], chat_ids=list(d["chat_ids"]), remark=d["remark"], persona_id=d["persona"],
            auto_create_room=d["auto_create_room"], room_base_name=d["room_base_name"],
            room_base_id=_number(d["room_base_id"], 1), qr_cap=_number(d["qr_cap"], WECOM_QR_CAP),
            full_at=_number(d["full_at"], WECOM_GROUP_MAX), expires_on=d["expires_on"],
            welcome=WelcomeInput(text=d["welcome_text"], kind=d["welcome_kind"] or "",
                                 attachment={f: d[f"welcome_{f}"] for f in ATTACHMENT_FIELDS if d[f"welcome_{f}"]},
                                 notify=d["welcome_notify"]))


def _number(value: int | None, default: int) -> int:
    return default if value is None else max(-(2**31), min(value, 2**31))


def initial_of(code: Any) -> dict[str, Any]:
    return {"name": code.name, "chat_ids": list(code.chat_ids), "persona": code.persona_id, "remark": code.remark,
            "auto_create_room": code.auto_create_room, "room_base_name": code.room_base_name,
            "room_base_id": code.room_base_id, "qr_cap": code.qr_cap, "full_at": code.full_at,
            "expires_on": code.expires_on, "welcome_text": code.welcome_text, "welcome_kind": code.welcome_kind,
            "welcome_notify": code.welcome_notify,
            **{f"welcome_{k}": v for k, v in code.welcome_attachment.items()}}
