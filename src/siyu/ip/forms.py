"""Console forms of the IP studio. They only parse what the browser sends (lists typed one per
line or separated by commas); which answers are required is decided by `ip.services`."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from siyu.ip.models import (
    AgeBand,
    Archetype,
    Gender,
    Generation,
    MatrixLevel,
    Persona,
    ShoppingPlatform,
    SocialApp,
    SpendingPower,
    Zodiac,
)
from siyu.ip.services import PersonaInput, PortraitInput
from siyu.web import choice_field

_TAG_SEPARATORS = re.compile(r"[,，、;；\n]+")
BLANK: list[tuple[Any, str | Promise]] = [("", "—")]


def split_tags(text: str) -> list[str]:
    return [t.strip() for t in _TAG_SEPARATORS.split(text or "") if t.strip()]


def split_lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _textarea(rows: int = 3) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


class PersonaForm(forms.Form):
    # Required dimensions are checked by the service, so every rule and message lives there.
    name = forms.CharField(label=pgettext_lazy("persona", "Name"), max_length=40, required=False,
                           help_text=_("Simple and easy to remember, linked to the brand, e.g. 小完子."))
    avatar = forms.FileField(
        label=_("Avatar"), required=False,
        widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
        help_text=_("JPG, PNG or WebP, at most 2 MB; square works best. Real, clear and friendly."),
    )
    gender = forms.ChoiceField(label=_("Gender"), choices=[*BLANK, *Gender.choices], required=False)
    company_role = forms.CharField(label=_("Company role"), max_length=60, required=False,
                                   help_text=_("Professional, yet close to the customer."))
    generation = forms.ChoiceField(label=_("Age"), choices=[*BLANK, *Generation.choices], required=False,
                                   help_text=_("No generation gap with the customers."))
    value_offered = forms.CharField(label=_("Value offered"), max_length=200, required=False,
                                    help_text=_("What a customer gets from adding this persona."))
    slogan = forms.CharField(label=_("Slogan / signature"), max_length=120, required=False)
    social_identity = forms.CharField(label=_("Social identity"), max_length=120, required=False)
    tone = forms.CharField(label=_("Tone"), max_length=120, required=False,
                           help_text=_("How the persona talks: style and mood of its content."))
    catchphrases = forms.CharField(label=_("Catchphrases"), required=False, widget=_textarea(3),
                                   help_text=_("One per line."))
    interests = forms.CharField(label=_("Interests"), required=False,
                                help_text=_("Separated by commas; topics to talk about with customers."))
    tone_markers = forms.CharField(label=_("Tone markers"), required=False,
                                   help_text=_("Separated by commas, e.g. 呀, 哦, 啦, ~, 宝子. The content voice check "
                                               "warns about a sentence with none of them or of the catchphrases."))
    forbidden_words = forms.CharField(label=_("Forbidden words"), required=False,
                                      help_text=_("Separated by commas; words this persona never says. Templates "
                                                  "with them cannot be saved."))
    zodiac = forms.ChoiceField(label=_("Zodiac"), choices=[*BLANK, *Zodiac.choices], required=False)
    story = forms.CharField(label=_("Story"), required=False, widget=_textarea(5))
    archetype = forms.ChoiceField(label=_("Archetype"), choices=[*BLANK, *Archetype.choices], required=False)
    expertise = forms.CharField(label=_("Field of expertise"), max_length=60, required=False,
                                help_text=_("Required for a consultant, e.g. skincare."))
    level = forms.ChoiceField(label=_("Matrix level"), choices=MatrixLevel.choices, initial=MatrixLevel.FRONTLINE)
    parent = forms.TypedChoiceField(label=_("Reports to"), coerce=int, empty_value=None, required=False)

    def __init__(self, *args: Any, parents: list[Persona] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "parent").choices = BLANK + [(p.pk, p.name) for p in parents or []]

    @classmethod
    def initial_from(cls, persona: Persona) -> dict[str, Any]:
        return {
            "name": persona.name, "gender": persona.gender, "company_role": persona.company_role,
            "generation": persona.generation, "value_offered": persona.value_offered,
            "slogan": persona.slogan, "social_identity": persona.social_identity, "tone": persona.tone,
            "catchphrases": "\n".join(persona.catchphrases), "interests": "，".join(persona.interests),
            "tone_markers": "，".join(persona.tone_markers), "forbidden_words": "，".join(persona.forbidden_words),
            "zodiac": persona.zodiac, "story": persona.story, "archetype": persona.archetype,
            "expertise": persona.expertise, "level": persona.level, "parent": persona.parent_id,
        }

    def to_input(self) -> PersonaInput:
        d = self.cleaned_data
        return PersonaInput(
            name=d["name"], gender=d["gender"], company_role=d["company_role"], generation=d["generation"],
            value_offered=d["value_offered"], slogan=d["slogan"], social_identity=d["social_identity"],
            tone=d["tone"], catchphrases=split_lines(d["catchphrases"]), interests=split_tags(d["interests"]),
            tone_markers=split_tags(d["tone_markers"]), forbidden_words=split_tags(d["forbidden_words"]),
            zodiac=d["zodiac"], story=d["story"], archetype=d["archetype"], expertise=d["expertise"],
            level=d["level"], parent_id=d["parent"],
        )


class PortraitForm(forms.Form):
    female_share = forms.IntegerField(label=_("Share of women among target users (%)"), required=False,
                                      min_value=0, max_value=100)
    age_bands = forms.MultipleChoiceField(label=_("Age bands"), choices=AgeBand.choices, required=False,
                                          widget=forms.CheckboxSelectMultiple)
    occupations = forms.CharField(label=_("Occupations"), required=False,
                                  help_text=_("Separated by commas, e.g. office worker, student."))
    regions = forms.CharField(label=_("Regions"), required=False,
                              help_text=_("Separated by commas, e.g. first-tier cities, Jiangsu-Zhejiang-Shanghai."))
    spending_power = forms.ChoiceField(label=_("Spending power"), choices=[*BLANK, *SpendingPower.choices],
                                       required=False)
    spending_preferences = forms.CharField(label=_("Spending preferences"), required=False, widget=_textarea())
    competitors = forms.CharField(label=_("Competitor brands"), required=False, widget=_textarea())
    differentiation = forms.CharField(label=_("How we differ from them"), required=False, widget=_textarea())
    social_apps = forms.MultipleChoiceField(label=_("Social apps they use"), choices=SocialApp.choices,
                                            required=False, widget=forms.CheckboxSelectMultiple)
    shopping_platforms = forms.MultipleChoiceField(label=_("Shopping platforms they use"),
                                                   choices=ShoppingPlatform.choices, required=False,
                                                   widget=forms.CheckboxSelectMultiple)
    interest_tags = forms.CharField(label=_("Interest tags"), required=False,
                                    help_text=_("Separated by commas, e.g. shopping, sports, travel."))
    staff_impressions = forms.CharField(label=_("How our staff see the brand"), required=False,
                                        widget=_textarea())
    ideal_endorser = forms.CharField(label=_("Ideal endorser"), max_length=80, required=False,
                                     help_text=_("If a celebrity endorsed the brand, who would fit?"))
    future_positioning = forms.CharField(label=_("Future positioning of the brand"), required=False,
                                         widget=_textarea())
    reviews = forms.CharField(label=_("Customer reviews from e-commerce platforms"), required=False,
                              widget=_textarea(8), help_text=_("Paste them here, one per line."))

    def __init__(self, *args: Any, read_only: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if read_only:
            for f in self.fields.values():
                f.disabled = True

    @classmethod
    def initial_from(cls, portrait: Any) -> dict[str, Any]:
        return {
            "female_share": portrait.female_share, "age_bands": portrait.age_bands,
            "occupations": "，".join(portrait.occupations), "regions": "，".join(portrait.regions),
            "spending_power": portrait.spending_power, "spending_preferences": portrait.spending_preferences,
            "competitors": portrait.competitors, "differentiation": portrait.differentiation,
            "social_apps": portrait.social_apps, "shopping_platforms": portrait.shopping_platforms,
            "interest_tags": "，".join(portrait.interest_tags), "staff_impressions": portrait.staff_impressions,
            "ideal_endorser": portrait.ideal_endorser, "future_positioning": portrait.future_positioning,
            "reviews": portrait.reviews,
        }

    def to_input(self) -> PortraitInput:
        d = self.cleaned_data
        return PortraitInput(
            female_share=d["female_share"], age_bands=d["age_bands"], occupations=split_tags(d["occupations"]),
            regions=split_tags(d["regions"]), spending_power=d["spending_power"],
            spending_preferences=d["spending_preferences"], competitors=d["competitors"],
            differentiation=d["differentiation"], social_apps=d["social_apps"],
            shopping_platforms=d["shopping_platforms"], interest_tags=split_tags(d["interest_tags"]),
            staff_impressions=d["staff_impressions"], ideal_endorser=d["ideal_endorser"],
            future_positioning=d["future_positioning"], reviews=d["reviews"],
        )
