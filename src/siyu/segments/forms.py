"""Console forms for segments (人群). They only parse what the browser sends (the rule arrives
as JSON from the builder); the rules live in `segments.services`."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from siyu.segments.services import DESCRIPTION_MAX_CHARS, NAME_MAX_CHARS
from siyu.web import choice_field


class SegmentForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=NAME_MAX_CHARS)
    description = forms.CharField(label=_("Description"), max_length=DESCRIPTION_MAX_CHARS, required=False)
    rule = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean_rule(self) -> Any:
        return parse_rule(self.cleaned_data.get("rule") or "")


def parse_rule(text: str) -> Any:
    if not text.strip():
        return {"match": "and", "rules": []}
    try:
        return json.loads(text)
    except ValueError:
        raise forms.ValidationError(_("The rule could not be read; reload the page and try again.")) from None


class UploadForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=NAME_MAX_CHARS)
    description = forms.CharField(label=_("Description"), max_length=DESCRIPTION_MAX_CHARS, required=False)
    file = forms.FileField(label=_("File (.xlsx or .csv)"),
                           help_text=_("First column: one external_userid or mobile phone number per row; "
                                       "a header row is skipped."),
                           widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}))


class ExportForm(forms.Form):
    columns = forms.MultipleChoiceField(label=_("Columns"), widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args: Any, columns: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "columns").choices = columns
