"""话术库 — scripts in scenario folders: the five every team has (greeting, product Q&A,
objection handling, after-sale, win-back) and the team's own. A script is a short ordered
sequence of steps, each a text or a material, which staff copy into a chat."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from siyu.content.models import Material, Scenario, Script, ScriptFolder
from siyu.content.services.common import MODULE, clean_text, require_edit, require_view
from siyu.core.models import AuditAction, Workspace
from siyu.core.permissions import Seat
from siyu.core.services import audit_change, fact, model_changes, snapshot

MAX_STEPS = 10
STEP_MAX_CHARS = 1000
TITLE_MAX_CHARS = 60
FOLDER_MAX_CHARS = 40
# The standard scenario folders (Chinese names: the console's language for a new brand's library).
STANDARD_FOLDERS = [
    (Scenario.GREETING, "打招呼", 10), (Scenario.PRODUCT_QA, "产品问答", 20), (Scenario.OBJECTION, "异议处理", 30),
    (Scenario.AFTER_SALE, "售后", 40), (Scenario.WIN_BACK, "召回", 50),
]


def ensure_standard_folders(workspace: Workspace) -> list[ScriptFolder]:
    """The five scenario folders, created once (idempotent; a renamed one is kept as renamed)."""
    have = set(ScriptFolder.objects.for_workspace(workspace).values_list("scenario", flat=True))
    names = set(ScriptFolder.objects.for_workspace(workspace).values_list("name", flat=True))
    for scenario, name, position in STANDARD_FOLDERS:
        if scenario not in have and name not in names:
            try:
                with transaction.atomic():
                    ScriptFolder.objects.create(workspace=workspace, name=name, scenario=scenario, position=position)
            except IntegrityError:
                pass  # another request made it a moment ago
    return list(ScriptFolder.objects.for_workspace(workspace).order_by("position", "name", "pk"))


def list_folders(workspace: Workspace, membership: Seat | None) -> list[ScriptFolder]:
    require_view(membership)
    return ensure_standard_folders(workspace)


def create_folder(workspace: Workspace, membership: Seat | None, *, name: str) -> ScriptFolder:
    require_edit(membership)
    errors: dict[str, list[str]] = {}
    name = clean_text(name, "name", FOLDER_MAX_CHARS, errors, required_message=_("Give the scenario a name."))
    if name and ScriptFolder.objects.for_workspace(workspace).filter(name=name).exists():
        errors.setdefault("name", []).append(_("There is already a scenario “%(name)s”.") % {"name": name})
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            folder = ScriptFolder.objects.create(workspace=workspace, name=name, scenario=Scenario.CUSTOM,
                                                 position=200)
            audit_change(workspace, membership, AuditAction.CREATED, module=MODULE,
                         subject=gettext_lazy("script scenario"), name=name)
    except IntegrityError as exc:
        raise ValidationError({"name": _("There is already a scenario “%(name)s”.") % {"name": name}}) from exc
    return folder


@dataclass
class ScriptInput:
    folder_id: int | None = None
    title: str = ""
    steps: list[dict[str, Any]] | None = None


def _clean_steps(workspace: Workspace, steps: list[Any] | None, errors: dict[str, list[str]]) -> list[dict[str, Any]]:
    cleaned: list[dict[str, Any]] = []
    material_ids: list[int] = []
    for step in steps or []:
        if not isinstance(step, dict):
            errors.setdefault("steps", []).append(_("Each step is a text or a material."))
            continue
        text = step.get("text")
        material = step.get("material")
        if isinstance(text, str) and text.strip():
            if len(text.strip()) > STEP_MAX_CHARS or "\x00" in text:
                errors.setdefault("steps", []).append(_("Keep each step within %(n)s characters.")
                                                      % {"n": STEP_MAX_CHARS})
            cleaned.append({"text": text.strip()})
        elif isinstance(material, int) and not isinstance(material, bool) and 0 < material < 2**63:
            cleaned.append({"material": material})
            material_ids.append(material)
        elif text is None and material is None:
            errors.setdefault("steps", []).append(_("Each step is a text or a material."))
    if not cleaned:
        errors.setdefault("steps", []).append(_("Write at least one step."))
    if len(cleaned) > MAX_STEPS:
        errors.setdefault("steps", []).append(_("A script has at most %(n)s steps.") % {"n": MAX_STEPS})
    known = set(Material.objects.for_workspace(workspace).filter(pk__in=material_ids).values_list("pk", flat=True))
    if set(material_ids) - known:
        errors.setdefault("steps", []).append(_("Choose materials of this brand."))
    return cleaned


AUDITED_FIELDS = ("folder", "title", "steps")


def save_script(workspace: Workspace, membership: Seat | None, data: ScriptInput,
                script_id: int | None = None) -> Script:
    require_edit(membership)
    script = (Script.objects.for_workspace(workspace).select_related("folder").get(pk=script_id)
              if script_id is not None else Script(workspace=workspace))
    created = script.pk is None
    before = snapshot(script, AUDITED_FIELDS) if not created else {}
    errors: dict[str, list[str]] = {}
    folder = (ScriptFolder.objects.for_workspace(workspace).filter(pk=data.folder_id).first()
              if data.folder_id is not None else None)
    if folder is None:
        errors["folder"] = [_("Choose a scenario of this brand.")]
    title = clean_text(data.title, "title", TITLE_MAX_CHARS, errors, required_message=_("Give the script a title."))
    steps = _clean_steps(workspace, data.steps, errors)
    if errors:
        raise ValidationError(errors)
    script.folder, script.title, script.steps = folder, title, steps  # type: ignore[assignment]
    with transaction.atomic():
        script.save()
        audit_change(workspace, membership, AuditAction.CREATED if created else AuditAction.UPDATED, module=MODULE,
                     subject=gettext_lazy("script"), name=title,
                     changes=None if created else model_changes(before, script, AUDITED_FIELDS))
    return script


def delete_script(workspace: Workspace, membership: Seat | None, script_id: int) -> None:
    require_edit(membership)
    script = Script.objects.for_workspace(workspace).get(pk=script_id)
    with transaction.atomic():
        script.delete()
        audit_change(workspace, membership, AuditAction.DELETION, module=MODULE, subject=gettext_lazy("script"),
                     name=script.title, facts=[fact(gettext_lazy("copied"), script.copy_count)])


def get_script(workspace: Workspace, membership: Seat | None, script_id: int) -> Script:
    require_view(membership)
    return Script.objects.for_workspace(workspace).select_related("folder").get(pk=script_id)


def search_scripts(workspace: Workspace, membership: Seat | None, *, q: str = "",
                   folder_id: int | None = None) -> list[Script]:
    """Scripts in scenario order; `q` in the title or any text step."""
    require_view(membership)
    found = Script.objects.for_workspace(workspace).select_related("folder")
    q = (q or "").strip()[:100]
    if q:
        # JSON text differs between the databases, so steps are matched here, titles in SQL.
        by_title = set(found.filter(title__icontains=q).values_list("pk", flat=True))
        scripts = [s for s in found.order_by("folder__position", "title", "pk")
                   if s.pk in by_title or any(q.casefold() in str(step.get("text", "")).casefold()
                                              for step in s.steps)]
    else:
        scripts = list(found.order_by("folder__position", "title", "pk"))
    if folder_id is not None:
        scripts = [s for s in scripts if s.folder_id == folder_id]
    return scripts


@dataclass(frozen=True)
class ShownStep:
    text: str  # what the copy button puts on the clipboard
    material: Material | None = None


def shown_steps(workspace: Workspace, scripts: list[Script]) -> dict[int, list[ShownStep]]:
    """Each script's steps with their materials, in one query: a material step copies its
    text, or its title and link."""
    ids = {step["material"] for s in scripts for step in s.steps if "material" in step}
    materials = {m.pk: m for m in Material.objects.for_workspace(workspace).filter(pk__in=ids)}
    shown: dict[int, list[ShownStep]] = {}
    for script in scripts:
        steps = []
        for step in script.steps:
            if "text" in step:
                steps.append(ShownStep(step["text"]))
            elif step.get("material") in materials:
                m = materials[step["material"]]
                steps.append(ShownStep(m.text or " ".join(x for x in (m.title, m.url) if x), m))
        shown[script.pk] = steps
    return shown


def record_copy(workspace: Workspace, membership: Seat | None, script_id: int) -> int:
    """Count one copy of a script's step by a member (no audit entry: reading is not a change)."""
    require_view(membership)
    found = Script.objects.for_workspace(workspace).filter(pk=script_id)
    if not found.update(copy_count=F("copy_count") + 1):
        raise Script.DoesNotExist("no such script")
    return found.values_list("copy_count", flat=True).get()


