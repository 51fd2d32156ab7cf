"""The group form. It only parses what the browser sends; `community.services` holds the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from siyu.community.models import GroupType
from siyu.community.services import GroupEdit


class GroupForm(forms.Form):
    type = forms.ChoiceField(label=pgettext_lazy("customer group", "Group type"), choices=GroupType.choices,
                             required=False)
    type_label = forms.CharField(label=pgettext_lazy("customer group", "Own type"), required=False, max_length=20,
                                 help_text=_("For the type Other: what you call this kind of group."))
    persona = forms.TypedChoiceField(label=pgettext_lazy("customer group", "Persona"), coerce=int, required=False,
                                     empty_value=None)
    tags = forms.CharField(label=pgettext_lazy("customer group", "Tags"), required=False, max_length=200,
                           help_text=_("Separated by commas, at most 10."))

    def __init__(self, *args: Any, personas: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["persona"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", "—"), *((p.pk, p.name) for p in personas)]
        for name, each in self.fields.items():
            each.widget.attrs["class"] = "form-select" if name in ("type", "persona") else "form-control"

    def edit(self) -> GroupEdit:
        data = self.cleaned_data
        tags = [t for t in data["tags"].replace("，", ",").split(",")]
        return GroupEdit(type=data["type"] or "", type_label=data["type_label"], persona_id=data["persona"], tags=tags)
