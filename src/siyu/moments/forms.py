"""The post form. It only parses what the browser sends; `moments.services` holds the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from siyu.content.forms import material_picks
from siyu.content.models import Material
from siyu.moments.services import PostInput
from siyu.web import MinuteInput, PickedValues, PickerMultiple, choice_field


def _ids(values: list[str]) -> list[int]:
    return [int(v) for v in values if str(v).isdigit() and int(v) < 2**63]


class PostForm(forms.Form):
    persona = forms.TypedChoiceField(label=_("Persona"), coerce=int)
    planned_at = forms.DateTimeField(label=_("Post at"), required=False, widget=MinuteInput(),
                                     input_formats=["%Y-%m-%dT%H:%M"])
    text = forms.CharField(label=_("Text"), required=False, strip=False,
                           widget=forms.Textarea(attrs={"rows": 7}),
                           help_text=_("At most 2,000 characters (WeCom's limit)."))
    material_ids = PickedValues(label=_("Attachments"), required=False,
                                widget=PickerMultiple(search_label=_("Find a material")),
                                help_text=_("Up to 9 images, or 1 video, or 1 link."))
    sender_ids = PickedValues(label=_("Published by"), required=False,
                              widget=PickerMultiple(search_label=_("Find a staff account")),
                              help_text=_("None chosen: every staff member of the brand."))
    tag_ids = PickedValues(label=_("Visible to customers tagged"), required=False,
                           widget=PickerMultiple(search_label=_("Search tags")),
                           help_text=_("None chosen: every customer of the senders."))

    def __init__(self, *args: Any, personas: list[Any], materials: list[Material], accounts: list[Any],
                 tags: list[tuple[str, list[tuple[str, str]]]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "persona").choices = [(p.pk, p.name) for p in personas]
        choice_field(self, "material_ids").choices = material_picks(materials)
        choice_field(self, "sender_ids").choices = [(str(a.pk), a.name or a.userid) for a in accounts]
        choice_field(self, "tag_ids").choices = tags

    @staticmethod
    def initial_from(post: Any) -> dict[str, Any]:
        return {"persona": post.persona_id, "planned_at": post.planned_at, "text": post.text,
                "material_ids": [str(i) for i in post.material_ids],
                "sender_ids": [str(i) for i in post.sender_ids], "tag_ids": [str(i) for i in post.tag_ids]}

    def to_input(self, schedule: bool) -> PostInput:
        d = self.cleaned_data
        return PostInput(persona_id=d["persona"], planned_at=d["planned_at"], text=d["text"],
                         material_ids=_ids(d["material_ids"]), sender_ids=_ids(d["sender_ids"]),
                         tag_ids=_ids(d["tag_ids"]), schedule=schedule)
