"""Content templates (消息模板) in the welcome-message editor: the brand's welcome templates to start
from, and the persona voice check (人设语气检查) of the text as it is written.

A picked template fills the editor's text with its variables kept as `{...}`: the welcome fills
them for each customer when it is sent. A template may use a variable the content app knows for
welcomes but the welcome cannot fill (such as `{today}`); the picker names it, and saving the
code refuses it with the reason (`welcome.validate_welcome`). The template's materials are not
copied: welcome attachments are picked in the editor itself.

The voice check is the content app's (`content.services.voice_check`), against the persona of
the account the preview shows as sender: tone markers, forbidden words, WeCom's limits.
"""

from __future__ import annotations

from dataclasses import dataclass

from siyu.accounts.models import StaffAccount
from siyu.channels.services.welcome import VARIABLES
from siyu.content.models import TemplateContext
from siyu.content.services import (
    Finding,
    render_template,
    template_choices,
    variables_in,
    voice_check,
)
from siyu.content.services.common import MODULE as CONTENT
from siyu.core.models import Membership, Workspace
from siyu.core.permissions import Action, Module, allows, require, role_of


@dataclass(frozen=True)
class TemplateOption:
    """A welcome template as the editor's picker offers it."""

    template_id: int
    name: str
    persona: str
    text: str  # the template's text, variables kept as `{name}` for the welcome to fill
    unfillable: list[str]  # variables the welcome cannot fill: refused at save until replaced
    materials: int

    def as_json(self) -> dict[str, object]:
        return {"id": self.template_id, "name": self.name, "persona": self.persona, "text": self.text,
                "unfillable": self.unfillable, "materials": self.materials}


def template_options(workspace: Workspace, membership: Membership | None) -> list[TemplateOption]:
    """The brand's welcome templates, by name; none for a role that may not read content."""
    role = role_of(membership)
    require(role, Module.CHANNELS, Action.VIEW)
    if role is None or not allows(role, CONTENT, Action.VIEW):
        return []
    options = []
    for template in template_choices(workspace, membership, TemplateContext.WELCOME):
        names = variables_in(template.text)
        # Each variable is filled with itself, so the text keeps `{name}` for the welcome to fill.
        text = render_template(template, {name: f"{{{name}}}" for name in names}).text
        options.append(TemplateOption(
            template.pk, template.name, template.persona.name if template.persona else "", text,
            [name for name in names if name not in VARIABLES], len(template.material_ids or [])))
    return options


@dataclass(frozen=True)
class VoiceReport:
    """The voice check of a welcome text: whose voice, its markers and words, and the findings."""

    persona: str
    tone_markers: list[str]
    forbidden_words: list[str]
    findings: list[Finding]

    def as_json(self) -> dict[str, object]:
        return {"persona": self.persona, "toneMarkers": self.tone_markers, "forbiddenWords": self.forbidden_words,
                "findings": [{"level": f.level, "code": f.code, "message": f.message, "sentence": f.sentence,
                              "word": f.word} for f in self.findings]}


def welcome_voice(workspace: Workspace, membership: Membership | None, *, text: str, sender_id: int | None,
                  attachments: int = 0) -> VoiceReport:
    """Check the text in the voice of the sending account's persona (limits only without one)."""
    require(role_of(membership), Module.CHANNELS, Action.VIEW)
    account = (StaffAccount.objects.for_workspace(workspace).select_related("persona").filter(pk=sender_id).first()
               if sender_id is not None else None)
    persona = account.persona if account is not None else None
    return VoiceReport(
        persona.name if persona is not None else "",
        [m for m in (*(persona.tone_markers or []), *(persona.catchphrases or [])) if m] if persona else [],
        [w for w in (persona.forbidden_words or []) if w] if persona else [],
        voice_check(persona, (text or "").strip(), max(attachments, 0)),
    )
