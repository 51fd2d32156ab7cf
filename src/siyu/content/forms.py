"""Console forms of the content centre. They only parse what the browser sends; the rules are
in `content.services`."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from siyu.content.models import Material, MaterialKind, TemplateContext
from siyu.content.services import MaterialInput, ScriptInput, TemplateInput
from siyu.web import PickedValues, PickerMultiple, choice_field

_TAG_SEPARATORS = re.compile(r"[,，、;；\n]+")
BLANK: list[tuple[Any, Any]] = [("", "—")]
IMAGE_ACCEPT = "image/jpeg,image/png"


def split_tags(text: str) -> list[str]:
    return [t.strip() for t in _TAG_SEPARATORS.split(text or "") if t.strip()]


def _ids(values: list[str]) -> list[int]:
    return [int(v) for v in values if str(v).isdigit() and int(v) < 2**63]


def material_picks(materials: list[Material]) -> list[tuple[Any, Any]]:
    groups: dict[str, list[tuple[str, str]]] = {}
    for m in materials:
        groups.setdefault(str(MaterialKind(m.kind).label), []).append((str(m.pk), m.title))
    return list(groups.items())


class MaterialForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=MaterialKind.choices)
    title = forms.CharField(label=_("Title"), max_length=64, required=False)
    category = forms.TypedChoiceField(label=_("Category"), coerce=int, empty_value=None, required=False)
    tags = forms.CharField(label=_("Tags"), required=False, help_text=_("Separated by commas."))
    text = forms.CharField(label=_("Text"), required=False, widget=forms.Textarea(attrs={"rows": 5}),
                           help_text=_("For a text material; at most 4,000 bytes."))
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    url = forms.CharField(label=_("Link"), max_length=500, required=False, help_text=_("For a link: https://…"))
    appid = forms.CharField(label=_("Mini-program AppID"), max_length=40, required=False)
    page = forms.CharField(label=_("Mini-program page"), max_length=200, required=False)
    file = forms.FileField(label=_("File"), required=False, help_text=_(
        "Image or poster: JPG or PNG, at most 10 MB. Video: MP4, at most 10 MB. File: at most 20 MB."))
    cover = forms.FileField(label=_("Cover"), required=False,
                            widget=forms.FileInput(attrs={"accept": IMAGE_ACCEPT}),
                            help_text=_("For a link or mini-program card: JPG or PNG."))

    def __init__(self, *args: Any, categories: list[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "category").choices = BLANK + [
            (node.category.pk, "　" * node.depth + node.category.name) for node in categories or []]

    @classmethod
    def initial_from(cls, m: Material) -> dict[str, Any]:
        return {"kind": m.kind, "title": m.title, "category": m.category_id, "tags": "，".join(m.tags),
                "text": m.text, "description": m.description, "url": m.url, "appid": m.appid, "page": m.page}

    def to_input(self) -> MaterialInput:
        d = self.cleaned_data
        return MaterialInput(kind=d["kind"], title=d["title"], category_id=d["category"], tags=split_tags(d["tags"]),
                             text=d["text"], description=d["description"], url=d["url"], appid=d["appid"],
                             page=d["page"])


class CategoryForm(forms.Form):
    name = forms.CharField(label=pgettext_lazy("content", "Category name"), max_length=40, required=False)
    parent = forms.TypedChoiceField(label=_("Parent category"), coerce=int, empty_value=None, required=False)

    def __init__(self, *args: Any, categories: list[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "parent").choices = [("", _("(top level)"))] + [
            (node.category.pk, "　" * node.depth + node.category.name) for node in categories or []]


class ScriptForm(forms.Form):
    folder = forms.TypedChoiceField(label=_("Scenario"), coerce=int, empty_value=None, required=False)
    title = forms.CharField(label=_("Title"), max_length=60, required=False)
    steps = forms.CharField(label=_("Steps"), required=False, widget=forms.Textarea(attrs={"rows": 8}),
                            help_text=_("One step per paragraph: leave an empty line between steps."))
    materials = PickedValues(label=_("Materials to send after the text"), required=False,
                             widget=PickerMultiple(search_label=_("Find a material")))

    def __init__(self, *args: Any, folders: list[Any] | None = None, materials: list[Material] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "folder").choices = BLANK + [(f.pk, f.name) for f in folders or []]
        choice_field(self, "materials").choices = material_picks(materials or [])

    @staticmethod
    def initial_from(script: Any) -> dict[str, Any]:
        return {"folder": script.folder_id, "title": script.title,
                "steps": "\n\n".join(s["text"] for s in script.steps if "text" in s),
                "materials": [str(s["material"]) for s in script.steps if "material" in s]}

    def to_input(self) -> ScriptInput:
        d = self.cleaned_data
        texts = [p.strip() for p in re.split(r"\n\s*\n", (d["steps"] or "").replace("\r\n", "\n")) if p.strip()]
        steps: list[dict[str, Any]] = [{"text": t} for t in texts]
        steps += [{"material": i} for i in _ids(d["materials"])]
        return ScriptInput(folder_id=d["folder"], title=d["title"], steps=steps)


class FolderForm(forms.Form):
    name = forms.CharField(label=_("New scenario"), max_length=40, required=False)


class TemplateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60, required=False)
    persona = forms.TypedChoiceField(label=_("Persona"), coerce=int, empty_value=None, required=False)
    context = forms.ChoiceField(label=_("Sent as"), choices=TemplateContext.choices, initial=TemplateContext.MASS)
    text = forms.CharField(label=_("Text"), required=False, widget=forms.Textarea(attrs={"rows": 8}))
    material_ids = PickedValues(label=_("Attachments (up to 9)"), required=False,
                                widget=PickerMultiple(search_label=_("Find a material")))

    def __init__(self, *args: Any, personas: list[Any] | None = None, materials: list[Material] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "persona").choices = BLANK + [(p.pk, p.name) for p in personas or []]
        choice_field(self, "material_ids").choices = material_picks(materials or [])

    @staticmethod
    def initial_from(template: Any) -> dict[str, Any]:
        return {"name": template.name, "persona": template.persona_id, "context": template.context,
                "text": template.text, "material_ids": [str(i) for i in template.material_ids]}

    def to_input(self) -> TemplateInput:
        d = self.cleaned_data
        return TemplateInput(name=d["name"], persona_id=d["persona"], context=d["context"], text=d["text"],
                             material_ids=_ids(d["material_ids"]))
