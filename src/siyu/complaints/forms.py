"""Forms of the complaints pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from siyu.complaints.models import Channel
from siyu.web import choice_field


class ComplaintForm(forms.Form):
    channel = forms.ChoiceField(label=_("raised"), choices=[(Channel.GROUP, Channel.GROUP.label),
                                                            (Channel.STAFF, Channel.STAFF.label)])
    customer = forms.CharField(label=_("customer (external userid)"), max_length=64, required=False)
    group = forms.TypedChoiceField(label=_("group"), coerce=int, required=False, empty_value=None)
    text = forms.CharField(label=_("complaint"), max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args: Any, group_choices: list[tuple[int | str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "group").choices = [("", "—"), *group_choices]


class NoteForm(forms.Form):
    note = forms.CharField(label=_("note"), max_length=300, required=False)


class FanComplaintForm(forms.Form):
    text = forms.CharField(max_length=1000, required=False)
    group = forms.IntegerField(required=False)
    key = forms.CharField(max_length=40, required=False)
