"""A 群发 from one of the brand's content templates (消息模板, the content app).

A 群发 sends one text to everyone, so a template is filled once: the persona-wide variables
(`persona_name` from the template's persona, `today` from the send date, `welfare` and
`event_date` as the planner gives them) are filled; a template using a variable that differs
from customer to customer (`customer_nickname`, `points`) or from sender to sender
(`staff_name`) is refused with the reason. Link materials become link attachments and text
materials join the text; the filled text is voice-checked against the template's persona.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from siyu.content.models import MaterialKind, MessageTemplate, TemplateContext
from siyu.content.services import render_template, template_choices, variables_in, voice_check
from siyu.content.services.voice import Finding
from siyu.core.models import Workspace
from siyu.core.permissions import Action, Seat, require, role_of

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Variables one text cannot hold for a whole 群发: they differ per customer or per sender.
PER_RECIPIENT = ("customer_nickname", "points", "staff_name")
GIVEN = ("welfare", "event_date")  # the planner types these on the form


@dataclass(frozen=True)
class FilledTemplate:
    template: MessageTemplate
    text: str
    attachments: list[dict[str, Any]]  # WeCom's shapes (link attachments)
    findings: list[Finding]  # the voice check of the filled text

    @property
    def links(self) -> str:
        """The attachments as the form's "title | address" lines."""
        return "\n".join(f"{a['link']['title']} | {a['link']['url']}" for a in self.attachments)


def templates_for_mass(workspace: Workspace, membership: Seat | None) -> list[MessageTemplate]:
    """The brand's templates written for 群发."""
    return template_choices(workspace, membership, TemplateContext.MASS)


def mass_template(workspace: Workspace, template_id: int | None) -> MessageTemplate:
    found = (MessageTemplate.objects.for_workspace(workspace).filter(pk=template_id, context=TemplateContext.MASS)
             .select_related("persona").first() if template_id is not None else None)
    if found is None:
        raise ValidationError({"template": _("Choose one of the brand's mass message templates.")})
    per_recipient = [name for name in variables_in(found.text) if name in PER_RECIPIENT]
    if per_recipient:
        raise ValidationError({"template": _(
            "“%(name)s” uses %(vars)s, which differ from one customer (or sender) to the next; a mass message "
            "sends one text to all. Choose a template without them, or send it through an SOP.") % {
            "name": found.name, "vars": "、".join(f"{{{v}}}" for v in per_recipient)}})
    return found


def fill_template(workspace: Workspace, membership: Seat | None, template_id: int | None, *,
                  welfare: str = "", event_date: str = "", at: dt.datetime | None = None) -> FilledTemplate:
    """The template filled for one 群发 sent at `at` (now when None), or a ValidationError
    with the reason (per-customer variables, a value not given, a material 群发 cannot carry)."""
    require(role_of(membership), "messaging", Action.VIEW)
    template = mass_template(workspace, template_id)
    when = (at or timezone.now()).astimezone(SHANGHAI)
    values = {"persona_name": template.persona.name if template.persona else "",
              "today": _("%(month)s/%(day)s") % {"month": when.month, "day": when.day},
              "welfare": welfare.strip(), "event_date": event_date.strip()}
    try:
        rendered = render_template(template, values)
    except ValidationError as exc:
        raise ValidationError({"template": " ".join(exc.messages)}) from exc
    texts, attachments = [rendered.text], []
    for material in rendered.materials:
        if material.kind == MaterialKind.TEXT:
            texts.append(material.text)
        elif material.kind == MaterialKind.LINK:
            link = {"title": material.title, "url": material.url} | ({"desc": material.description}
                                                                     if material.description else {})
            attachments.append({"msgtype": "link", "link": link})
        else:
            raise ValidationError({"template": _(
                "The template attaches “%(title)s” (%(kind)s); a mass message from a template carries text and "
                "links for now.") % {"title": material.title, "kind": material.get_kind_display()}})
    text = "\n\n".join(t for t in texts if t.strip())
    return FilledTemplate(template, text, attachments, voice_check(template.persona, text, len(attachments)))


def template_problems(workspace: Workspace, template_id: int, text: str, attachments: int) -> list[str]:
    """When planning from a template: why it cannot be sent (per-recipient variables) or what
    the voice check refuses in the final text (forbidden words, WeCom's limits)."""
    try:
        template = mass_template(workspace, template_id)
    except ValidationError as exc:
        return exc.messages
    return [f.message for f in voice_check(template.persona, text, attachments) if f.is_error]
