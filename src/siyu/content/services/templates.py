"""消息模板 — messages in a persona's voice with `{variables}` from a schema: a variable that is
unknown, or does not exist where the template is sent, is refused when the template is saved,
so a send never meets one it cannot fill."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from siyu.content.models import Material, MessageTemplate, TemplateContext
from siyu.content.services.common import MODULE, clean_text, require_edit, require_view
from siyu.content.services.voice import Finding, voice_check
from siyu.core.models import AuditAction, Workspace
from siyu.core.permissions import Seat
from siyu.core.services import audit_change, model_changes, snapshot
from siyu.ip.models import Persona

NAME_MAX_CHARS = 60
VARIABLE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
W, M, G, S = TemplateContext.WELCOME, TemplateContext.MASS, TemplateContext.GROUP, TemplateContext.SOP


@dataclass(frozen=True)
class Variable:
    name: str
    description: Promise
    sample: str
    contexts: frozenset[str]


# The variables a template may use and where each exists: a group message has no single
# customer, a welcome no group; points and event dates come with the sends that know them.
VARIABLES: dict[str, Variable] = {v.name: v for v in (
    Variable("customer_nickname", gettext_lazy("The customer's WeChat nickname"), "王小雨", frozenset({W, M, S})),
    Variable("persona_name", gettext_lazy("The persona's name"), "小完子", frozenset({W, M, G, S})),
    Variable("staff_name", gettext_lazy("The staff account's name"), "小完子01", frozenset({W, M, G, S})),
    Variable("welfare", gettext_lazy("The welfare offered (coupon, gift pack)"), "满99减20新人券",
             frozenset({W, M, S})),
    Variable("group_name", gettext_lazy("The customer group's name"), "小完子美妆福利1群", frozenset({G, S})),
    Variable("points", gettext_lazy("The customer's points balance"), "320", frozenset({M, S})),
    Variable("today", gettext_lazy("Today's date"), "12月5日", frozenset({W, M, G, S})),
    Variable("event_date", gettext_lazy("The date of the event or offer"), "12月12日", frozenset({M, G, S})),
)}


def variables_in(text: str) -> list[str]:
    """The variable names a text uses, in order of first use."""
    return list(dict.fromkeys(VARIABLE.findall(text or "")))


def variable_schema(context: str | None = None) -> list[Variable]:
    """The schema, or the variables that exist in one context."""
    return [v for v in VARIABLES.values() if context is None or context in v.contexts]


def variable_errors(text: str, context: str) -> list[str]:
    errors = []
    for name in variables_in(text):
        variable = VARIABLES.get(name)
        if variable is None:
            errors.append(_("“{%(name)s}” is not a variable Siyu knows.") % {"name": name})
        elif context not in variable.contexts:
            errors.append(_("“{%(name)s}” does not exist in a %(context)s.")
                          % {"name": name, "context": TemplateContext(context).label})
    return errors


@dataclass
class TemplateInput:
    name: str = ""
    persona_id: int | None = None
    context: str = TemplateContext.MASS
    text: str = ""
    material_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Check:
    """What the template form shows as staff type: voice findings and variable problems."""

    findings: list[Finding]
    variable_errors: list[str]

    @property
    def errors(self) -> list[str]:
        return [f.message for f in self.findings if f.is_error] + self.variable_errors


def check_template(workspace: Workspace, membership: Seat | None, data: TemplateInput) -> Check:
    """The live check (no save): voice against the persona, WeCom's limits, the variables."""
    require_view(membership)
    persona = (Persona.objects.for_workspace(workspace).filter(pk=data.persona_id).first()
               if data.persona_id is not None else None)
    context = data.context if data.context in TemplateContext.values else TemplateContext.MASS
    return Check(voice_check(persona, data.text or "", len(data.material_ids or [])),
                 variable_errors(data.text or "", context))


def _clean(workspace: Workspace, data: TemplateInput, template: MessageTemplate) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    name = clean_text(data.name, "name", NAME_MAX_CHARS, errors, required_message=_("Give the template a name."))
    if name and MessageTemplate.objects.for_workspace(workspace).filter(name=name).exclude(pk=template.pk).exists():
        errors.setdefault("name", []).append(_("This brand already has a template named “%(name)s”.") % {"name": name})
    persona = None
    if data.persona_id is not None:
        persona = Persona.objects.for_workspace(workspace).filter(pk=data.persona_id).first()
        if persona is None:
            errors["persona"] = [_("Choose a persona of this brand.")]
    if data.context not in TemplateContext.values:
        errors["context"] = [_("Choose where the template is sent.")]
    text = (data.text or "").strip()
    ids = list(dict.fromkeys(int(i) for i in data.material_ids or []))
    if not text and not ids:
        errors.setdefault("text", []).append(_("Write the message or attach a material."))
    if "\x00" in text:
        errors.setdefault("text", []).append(_("This text holds a character that cannot be stored."))
    known = set(Material.objects.for_workspace(workspace).filter(pk__in=ids).values_list("pk", flat=True))
    if set(ids) - known:
        errors.setdefault("material_ids", []).append(_("Choose materials of this brand."))
    if "context" not in errors:
        errors_found = variable_errors(text, data.context)
        if errors_found:
            errors.setdefault("text", []).extend(errors_found)
    for finding in voice_check(persona, text, len(ids)):
        if finding.is_error:
            key = "material_ids" if finding.code == "too_many_attachments" else "text"
            errors.setdefault(key, []).append(finding.message)
    if errors:
        raise ValidationError(errors)
    return {"name": name, "persona": persona, "context": data.context, "text": text, "material_ids": ids}


AUDITED_FIELDS = ("name", "persona", "context", "text", "material_ids")


def save_template(workspace: Workspace, membership: Seat | None, data: TemplateInput,
                  template_id: int | None = None) -> MessageTemplate:
    """Create or change a template. Unknown or unavailable variables, forbidden words and
    WeCom's limits are errors; voice warnings are not."""
    require_edit(membership)
    template = (MessageTemplate.objects.for_workspace(workspace).get(pk=template_id) if template_id is not None
                else MessageTemplate(workspace=workspace))
    created = template.pk is None
    before = snapshot(template, AUDITED_FIELDS) if not created else {}
    for key, value in _clean(workspace, data, template).items():
        setattr(template, key, value)
    if created:
        template.created_by = getattr(membership, "user", None)
    try:
        with transaction.atomic():
            template.save()
            audit_change(workspace, membership, AuditAction.CREATED if created else AuditAction.UPDATED,
                         module=MODULE, subject=gettext_lazy("message template"), name=template.name,
                         changes=None if created else model_changes(before, template, AUDITED_FIELDS))
    except IntegrityError as exc:
        raise ValidationError({"name": _("Another template with this name was saved at the same time.")}) from exc
    return template


def delete_template(workspace: Workspace, membership: Seat | None, template_id: int) -> None:
    require_edit(membership)
    template = MessageTemplate.objects.for_workspace(workspace).get(pk=template_id)
    with transaction.atomic():
        template.delete()
        audit_change(workspace, membership, AuditAction.DELETION, module=MODULE,
                     subject=gettext_lazy("message template"), name=template.name)


def list_templates(workspace: Workspace, membership: Seat | None, *, q: str = "",
                   context: str = "") -> list[MessageTemplate]:
    require_view(membership)
    found = MessageTemplate.objects.for_workspace(workspace).select_related("persona")
    if q.strip():
        found = found.filter(name__icontains=q.strip()[:100]) | found.filter(text__icontains=q.strip()[:100])
    if context:
        found = found.filter(context=context)
    return list(found.order_by("-updated_at", "-id"))


def get_template(workspace: Workspace, membership: Seat | None, template_id: int) -> MessageTemplate:
    require_view(membership)
    return MessageTemplate.objects.for_workspace(workspace).select_related("persona").get(pk=template_id)


def template_choices(workspace: Workspace, membership: Seat | None, context: str) -> list[MessageTemplate]:
    """The templates that may be sent in `context` (the welcome editor, 群发, SOP pick from these)."""
    require_view(membership)
    return list(MessageTemplate.objects.for_workspace(workspace).filter(context=context)
                .select_related("persona").order_by("name", "pk"))


@dataclass(frozen=True)
class RenderedMessage:
    text: str
    materials: list[Material]


def render_text(text: str, values: dict[str, Any]) -> str:
    missing = [name for name in variables_in(text) if values.get(name) in (None, "")]
    if missing:
        raise ValidationError({"values": _("No value for %(names)s.") % {
            "names": "、".join(f"{{{name}}}" for name in missing)}})
    return VARIABLE.sub(lambda m: str(values[m.group(1)]), text)


def render_template(template: MessageTemplate, values: dict[str, Any]) -> RenderedMessage:
    """The template's text with every variable filled from `values`, and its materials in
    order. A variable without a value raises `ValidationError` (naming it): the sender decides
    whether to skip that recipient, never to send `{customer_nickname}` to a customer."""
    text = render_text(template.text, values)
    by_id = {m.pk: m for m in Material.objects.for_workspace(template.workspace).filter(
        pk__in=template.material_ids)}
    return RenderedMessage(text, [by_id[i] for i in template.material_ids if i in by_id])


def sample_values(context: str) -> dict[str, str]:
    return {v.name: v.sample for v in variable_schema(context)}
