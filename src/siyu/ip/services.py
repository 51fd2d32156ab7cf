"""品牌IP services: personas (人设) and their avatars, the IP matrix (IP矩阵), the brand
self-portrait (企业IP自画像), and how complete each is.

Plain functions with explicit workspace and membership; roles are checked here
(`Module.IP`: planner, ops lead and admin edit; most roles view; the merchandiser nothing).
"""

from __future__ import annotations

import io
import logging
import uuid
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.db import IntegrityError, transaction
from django.db.models.fields.files import FieldFile
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from PIL import Image, UnidentifiedImageError

from siyu.core import events
from siyu.core.models import AuditAction, Membership, Workspace
from siyu.core.permissions import Action, Module, Seat, allows, require, role_of
from siyu.core.services import audit_change, model_changes, snapshot
from siyu.core.tenancy import workspace_context
from siyu.ip.events import PersonaSaved
from siyu.ip.models import (
    LEVEL_RANK,
    AgeBand,
    Archetype,
    BrandPortrait,
    Gender,
    Generation,
    MatrixLevel,
    Persona,
    ShoppingPlatform,
    SocialApp,
    SpendingPower,
    Zodiac,
)

if TYPE_CHECKING:
    from siyu.accounts.models import StaffAccount

logger = logging.getLogger("siyu.ip")

AVATAR_MAX_BYTES = 2 * 1024 * 1024
# Larger pictures gain nothing as a WeCom avatar and would let a small compressed file
# expand to a huge bitmap in memory (a decompression bomb).
AVATAR_MAX_SIDE = 4096
AVATAR_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
AVATAR_CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}

TAG_MAX_ITEMS = 20
TAG_MAX_CHARS = 30
CATCHPHRASE_MAX_CHARS = 60



def _user(membership: Any) -> Any:
    return getattr(membership, "user", None)


def can_edit(membership: Membership | None) -> bool:
    role = role_of(membership)
    return role is not None and allows(role, Module.IP, Action.EDIT)


# --- completeness -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Completeness:
    """How much of a questionnaire is answered: a score 0–100 and what is still missing."""

    score: int
    filled: int
    total: int
    missing: list[str] = field(default_factory=list)


def _completeness(parts: Iterable[tuple[str, bool]]) -> Completeness:
    parts = list(parts)
    filled = sum(1 for _label, ok in parts if ok)
    return Completeness(
        score=round(100 * filled / len(parts)),
        filled=filled,
        total=len(parts),
        missing=[label for label, ok in parts if not ok],
    )


def persona_completeness(persona: Persona) -> Completeness:
    """Share of seed 000's twelve dimensions filled. The six required ones are always there
    on a saved persona, so a minimal persona scores 50 and each optional dimension adds ~8."""
    return _completeness([
        (pgettext("persona", "Name"), bool(persona.name)),
        (_("Avatar"), bool(persona.avatar)),
        (_("Gender"), bool(persona.gender)),
        (_("Company role"), bool(persona.company_role)),
        (_("Age"), bool(persona.generation)),
        (_("Value offered"), bool(persona.value_offered)),
        (_("Slogan / signature"), bool(persona.slogan)),
        (_("Social identity"), bool(persona.social_identity)),
        (_("Personality"), bool(persona.tone or persona.catchphrases)),
        (_("Interests"), bool(persona.interests)),
        (_("Zodiac"), bool(persona.zodiac)),
        (_("Story"), bool(persona.story)),
    ])


def portrait_completeness(portrait: BrandPortrait) -> Completeness:
    """Share of the self-portrait's nine sections (seed 000) fully answered."""
    p = portrait
    return _completeness([
        (_("Target users"), p.female_share is not None and bool(p.age_bands and p.occupations and p.regions)),
        (_("Spending"), bool(p.spending_power and p.spending_preferences)),
        (_("Competitors"), bool(p.competitors and p.differentiation)),
        (_("Social apps"), bool(p.social_apps)),
        (_("Shopping platforms"), bool(p.shopping_platforms)),
        (_("Interest tags"), bool(p.interest_tags)),
        (_("Staff view and endorser"), bool(p.staff_impressions and p.ideal_endorser)),
        (_("Future positioning"), bool(p.future_positioning)),
        (_("E-commerce reviews"), bool(p.reviews.strip())),
    ])


# --- input normalisation ----------------------------------------------------------------------

def _text(value: str | None, limit: int) -> str:
    return (value or "").strip()[:limit]


def _items(values: Iterable[str] | None, field_name: str, max_chars: int, errors: dict[str, list[str]]) -> list[str]:
    """Strip, drop blanks and repeats (order kept); too many or too long items are explained."""
    seen: list[str] = []
    for raw in values or []:
        item = (raw or "").strip()
        if item and item not in seen:
            seen.append(item)
    if len(seen) > TAG_MAX_ITEMS:
        errors.setdefault(field_name, []).append(
            _("At most %(n)s entries, please.") % {"n": TAG_MAX_ITEMS})
    too_long = [item for item in seen if len(item) > max_chars]
    if too_long:
        errors.setdefault(field_name, []).append(
            _("Keep each entry within %(n)s characters: “%(item)s” is longer.") % {"n": max_chars, "item": too_long[0]})
    return seen


def _choices(values: Iterable[str] | None, allowed: list[str], field_name: str, errors: dict[str, list[str]]) -> list[str]:
    chosen = [v for v in allowed if v in set(values or [])]  # canonical order, no repeats
    if set(values or []) - set(allowed):
        errors.setdefault(field_name, []).append(_("Choose from the listed options."))
    return chosen


# --- avatars ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CheckedAvatar:
    content: bytes
    extension: str
    width: int
    height: int


def check_avatar(upload: File) -> CheckedAvatar:
    """A real JPG, PNG or WebP picture of at most 2 MB, decoded once with Pillow to prove it."""
    too_big = ValidationError({"avatar": _("The avatar is larger than 2 MB. Upload a smaller picture.")})
    if upload.size is not None and upload.size > AVATAR_MAX_BYTES:
        raise too_big
    upload.seek(0)
    content = upload.read(AVATAR_MAX_BYTES + 1)
    if len(content) > AVATAR_MAX_BYTES:
        raise too_big
    not_an_image = ValidationError(
        {"avatar": _("This file is not a picture we can read. Upload a JPG, PNG or WebP image.")})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content)) as probe:
                image_format, (width, height) = probe.format, probe.size
                if width > AVATAR_MAX_SIDE or height > AVATAR_MAX_SIDE:
                    raise ValidationError({"avatar": _(
                        "The avatar is %(w)s×%(h)s pixels; keep each side within %(max)s pixels."
                    ) % {"w": width, "h": height, "max": AVATAR_MAX_SIDE}})
                probe.verify()
            with Image.open(io.BytesIO(content)) as image:
                image.load()  # verify() skips pixel data; a truncated file fails here
    except ValidationError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning,
            OSError, SyntaxError, ValueError) as exc:
        raise not_an_image from exc
    if image_format not in AVATAR_FORMATS:
        raise ValidationError({"avatar": _(
            "Upload the avatar as JPG, PNG or WebP; this file is %(format)s.") % {"format": image_format}})
    return CheckedAvatar(content, AVATAR_FORMATS[image_format], width, height)


def stored_image(image: FieldFile) -> tuple[File, str]:
    """An uploaded picture (a persona's or an account's avatar), opened, and its content type."""
    extension = image.name.rsplit(".", 1)[-1].lower() if image.name else ""
    return image.open("rb"), AVATAR_CONTENT_TYPES.get(extension, "application/octet-stream")


def avatar_file(workspace: Workspace, membership: Membership | None, persona_id: int) -> tuple[File, str]:
    """The stored avatar of one of this brand's personas and its content type."""
    persona = get_persona(workspace, membership, persona_id)
    if not persona.avatar.name:
        raise Persona.DoesNotExist("persona has no avatar")
    return stored_image(persona.avatar)


# --- personas -----------------------------------------------------------------------------------

@dataclass
class PersonaInput:
    """The persona form's answers, as the console and the API hand them to `save_persona`."""

    name: str = ""
    gender: str = ""
    company_role: str = ""
    generation: str = ""
    value_offered: str = ""
    slogan: str = ""
    social_identity: str = ""
    tone: str = ""
    catchphrases: list[str] = field(default_factory=list)
    interests: list[str] = field(default_factory=list)
    tone_markers: list[str] = field(default_factory=list)
    forbidden_words: list[str] = field(default_factory=list)
    zodiac: str = ""
    story: str = ""
    archetype: str = ""
    expertise: str = ""
    level: str = MatrixLevel.FRONTLINE
    parent_id: int | None = None


@dataclass(frozen=True)
class PersonaCard:
    persona: Persona
    completeness: Completeness


def list_personas(workspace: Workspace, membership: Membership | None) -> list[PersonaCard]:
    require(role_of(membership), Module.IP, Action.VIEW)
    personas = Persona.objects.for_workspace(workspace).select_related("parent")
    return [PersonaCard(p, persona_completeness(p)) for p in personas]


def get_persona(workspace: Workspace, membership: Membership | None, persona_id: int) -> Persona:
    """One persona of this brand; another brand's id is simply not found."""
    require(role_of(membership), Module.IP, Action.VIEW)
    return Persona.objects.for_workspace(workspace).select_related("parent").get(pk=persona_id)


def persona_for_editing(workspace: Workspace, membership: Membership | None, persona_id: int | None) -> Persona | None:
    require(role_of(membership), Module.IP, Action.EDIT)
    if persona_id is None:
        return None
    return Persona.objects.for_workspace(workspace).get(pk=persona_id)


def parent_options(workspace: Workspace, membership: Membership | None, persona: Persona | None = None) -> list[Persona]:
    """Personas that may be chosen as a parent: this brand's, not the persona itself."""
    require(role_of(membership), Module.IP, Action.VIEW)
    options = Persona.objects.for_workspace(workspace)
    if persona is not None and persona.pk:
        options = options.exclude(pk=persona.pk)
    return sorted(options, key=lambda p: (LEVEL_RANK[MatrixLevel(p.level)], p.name))


def _required_errors(data: PersonaInput, persona: Persona, avatar: File | None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not data.name:
        errors["name"] = [_("Give the persona a name, short and easy to remember.")]
    if avatar is None and not persona.avatar:
        errors["avatar"] = [_("Upload an avatar: a clear, friendly picture.")]
    if data.gender not in Gender.values:
        errors["gender"] = [_("Choose the persona's gender.")]
    if not data.company_role:
        errors["company_role"] = [_("Give the persona's role in the company, e.g. beauty consultant.")]
    if data.generation not in Generation.values:
        errors["generation"] = [_("Choose the persona's age group, e.g. 90后.")]
    if not data.value_offered:
        errors["value_offered"] = [_("Say what a customer gets from adding this persona.")]
    return errors


def _matrix_errors(workspace: Workspace, persona: Persona, level: str, parent_id: int | None) -> dict[str, list[str]]:
    """The matrix stays a tree: one main brand IP at the top, parents of this brand only, no
    parent lower in the matrix than its child, and no loops."""
    errors: dict[str, list[str]] = {}
    personas = Persona.objects.for_workspace(workspace)
    if level == MatrixLevel.MAIN:
        current_main = personas.filter(level=MatrixLevel.MAIN).exclude(pk=persona.pk).first()
        if current_main is not None:
            errors["level"] = [_("“%(name)s” is already the main brand IP; a brand has only one.")
                               % {"name": current_main.name}]
        if parent_id is not None:
            errors["parent"] = [_("The main brand IP is the top of the matrix and reports to no one.")]
            return errors
    if persona.pk:
        higher_children = [c.name for c in personas.filter(parent=persona)
                           if LEVEL_RANK[MatrixLevel(c.level)] < LEVEL_RANK[MatrixLevel(level)]]
        if higher_children:
            errors.setdefault("level", []).append(
                _("“%(name)s” reports to this persona and sits higher in the matrix; move it first.")
                % {"name": higher_children[0]})
    if parent_id is None:
        return errors
    parent = personas.filter(pk=parent_id).first()
    if parent is None:
        errors["parent"] = [_("Choose a persona of this brand.")]
    elif persona.pk and parent.pk == persona.pk:
        errors["parent"] = [_("A persona cannot report to itself.")]
    elif LEVEL_RANK[MatrixLevel(parent.level)] > LEVEL_RANK[MatrixLevel(level)]:
        errors["parent"] = [_("“%(parent)s” is a %(parent_level)s and cannot lead a %(level)s.") % {
            "parent": parent.name, "parent_level": MatrixLevel(parent.level).label,
            "level": MatrixLevel(level).label}]
    elif persona.pk and _reports_to(parent.pk, persona.pk, workspace):
        errors["parent"] = [_("“%(parent)s” already reports to this persona; that would make a loop.")
                            % {"parent": parent.name}]
    return errors


def _reports_to(start_id: int, ancestor_id: int, workspace: Workspace) -> bool:
    """Whether `ancestor_id` is on the chain of parents above `start_id` (one query)."""
    parents = dict(Persona.objects.for_workspace(workspace).values_list("pk", "parent_id"))
    seen: set[int] = set()
    current: int | None = start_id
    while current is not None and current not in seen:
        if current == ancestor_id:
            return True
        seen.add(current)
        current = parents.get(current)
    return False


# What the audit log compares when a persona is saved.
AUDITED_PERSONA_FIELDS = (
    "name", "avatar", "gender", "company_role", "generation", "value_offered", "slogan", "social_identity", "tone",
    "catchphrases", "interests", "zodiac", "story", "archetype", "expertise", "level", "parent",
    "tone_markers", "forbidden_words",
)
AUDITED_PORTRAIT_FIELDS = (
    "female_share", "age_bands", "occupations", "regions", "spending_power", "spending_preferences", "competitors",
    "differentiation", "social_apps", "shopping_platforms", "interest_tags", "staff_impressions", "ideal_endorser",
    "future_positioning", "reviews",
)


def save_persona(
    workspace: Workspace,
    membership: Seat | None,
    data: PersonaInput,
    avatar: File | None = None,
    persona_id: int | None = None,
) -> Persona:
    """Create a persona (no `persona_id`) or update one. Every problem is reported at once,
    each on its own field; nothing is saved unless all is well."""
    require(role_of(membership), Module.IP, Action.EDIT)
    personas = Persona.objects.for_workspace(workspace)
    persona = personas.get(pk=persona_id) if persona_id is not None else Persona(workspace=workspace)
    before = snapshot(persona, AUDITED_PERSONA_FIELDS)
    data.name = _text(data.name, 40)
    data.company_role = _text(data.company_role, 60)
    data.value_offered = _text(data.value_offered, 200)
    data.expertise = _text(data.expertise, 60)

    errors = _required_errors(data, persona, avatar)
    checked: CheckedAvatar | None = None
    if avatar is not None:
        try:
            checked = check_avatar(avatar)
        except ValidationError as exc:
            errors.setdefault("avatar", []).extend(exc.message_dict["avatar"])
    if data.name and personas.filter(name=data.name).exclude(pk=persona.pk).exists():
        errors.setdefault("name", []).append(_("This brand already has a persona named “%(name)s”.") % {"name": data.name})
    if data.archetype and data.archetype not in Archetype.values:
        errors["archetype"] = [_("Choose one of the archetypes.")]
    if data.archetype == Archetype.CONSULTANT and not data.expertise:
        errors["expertise"] = [_("A consultant needs a field of expertise, e.g. skincare or home decoration.")]
    if data.zodiac and data.zodiac not in Zodiac.values:
        errors["zodiac"] = [_("Choose one of the twelve signs.")]
    if data.level not in MatrixLevel.values:
        errors["level"] = [_("Choose a level of the IP matrix.")]
    else:
        for key, messages in _matrix_errors(workspace, persona, data.level, data.parent_id).items():
            errors.setdefault(key, []).extend(messages)
    catchphrases = _items(data.catchphrases, "catchphrases", CATCHPHRASE_MAX_CHARS, errors)
    interests = _items(data.interests, "interests", TAG_MAX_CHARS, errors)
    tone_markers = _items(data.tone_markers, "tone_markers", TAG_MAX_CHARS, errors)
    forbidden_words = _items(data.forbidden_words, "forbidden_words", TAG_MAX_CHARS, errors)
    if errors:
        raise ValidationError(errors)

    created = persona.pk is None
    persona.name, persona.gender, persona.company_role = data.name, data.gender, data.company_role
    persona.generation, persona.value_offered = data.generation, data.value_offered
    persona.slogan = _text(data.slogan, 120)
    persona.social_identity = _text(data.social_identity, 120)
    persona.tone = _text(data.tone, 120)
    persona.catchphrases, persona.interests = catchphrases, interests
    persona.tone_markers, persona.forbidden_words = tone_markers, forbidden_words
    persona.zodiac, persona.story = data.zodiac, (data.story or "").strip()
    persona.archetype = data.archetype
    persona.expertise = data.expertise if data.archetype == Archetype.CONSULTANT else ""
    persona.level, persona.parent_id = data.level, data.parent_id
    if created:
        persona.created_by = _user(membership)
    old_avatar = persona.avatar.name if persona.avatar else ""
    if checked is not None:
        persona.avatar.save(f"{uuid.uuid4().hex}.{checked.extension}", ContentFile(checked.content), save=False)
        persona.avatar_width, persona.avatar_height = checked.width, checked.height
    try:
        with transaction.atomic():
            persona.save()
            events.publish(workspace, PersonaSaved(persona_id=persona.pk, created=created))
            audit_change(workspace, membership, AuditAction.CREATED if created else AuditAction.UPDATED,
                         module="ip", subject=gettext_lazy("persona"), name=persona.name,
                         changes=None if created else model_changes(before, persona, AUDITED_PERSONA_FIELDS))
    except IntegrityError as exc:
        # Two planners racing: the database's constraints are the last word.
        if checked is not None and persona.avatar.name:
            persona.avatar.storage.delete(persona.avatar.name)
        raise ValidationError({"name": _("Another persona was saved at the same time with the same name "
                                         "or as the main brand IP. Reload and try again.")}) from exc
    if checked is not None and old_avatar:
        storage = persona.avatar.storage
        transaction.on_commit(lambda: storage.delete(old_avatar))
    return persona


# --- the IP matrix --------------------------------------------------------------------------------

@dataclass
class MatrixNode:
    """A persona in the IP matrix with the personas that report to it and the active staff
    accounts (企微号) that embody it."""

    persona: Persona
    completeness: Completeness
    depth: int = 0
    children: list[MatrixNode] = field(default_factory=list)
    accounts: list[StaffAccount] = field(default_factory=list)


def _order(persona: Persona) -> tuple[int, str, int]:
    return LEVEL_RANK[MatrixLevel(persona.level)], persona.name, persona.pk


def ip_matrix(workspace: Workspace, membership: Membership | None) -> list[MatrixNode]:
    """The matrix as a forest: the main brand IP first, then other top-level personas; under
    each, its reports ordered by level then name, and its active accounts by name. Two queries."""
    require(role_of(membership), Module.IP, Action.VIEW)
    # Accounts (the layer above) point at personas; they are read through that relation.
    with workspace_context(workspace):  # the prefetch reads accounts through their own scoped manager
        personas = sorted(Persona.objects.for_workspace(workspace).prefetch_related("accounts"), key=_order)
    nodes = {p.pk: MatrixNode(p, persona_completeness(p)) for p in personas}
    for persona in personas:
        nodes[persona.pk].accounts = [a for a in persona.accounts.all() if a.active]  # by name
    roots: list[MatrixNode] = []
    for p in personas:
        if p.parent_id in nodes:
            nodes[p.parent_id].children.append(nodes[p.pk])
        else:
            roots.append(nodes[p.pk])
    placed: set[int] = set()

    def place(node: MatrixNode, depth: int) -> None:
        placed.add(node.persona.pk)
        node.depth = depth
        node.children = [c for c in node.children if c.persona.pk not in placed]
        for child in node.children:
            place(child, depth + 1)

    for root in roots:
        place(root, 0)
    # Rows that never hang from a root (only possible if the data were edited by hand into a
    # loop) are still shown, at the top level, rather than silently hidden.
    for p in personas:
        if p.pk not in placed:
            for parent in nodes.values():
                parent.children = [c for c in parent.children if c.persona.pk != p.pk]
            roots.append(nodes[p.pk])
            place(nodes[p.pk], 0)
    return roots


def flatten(nodes: list[MatrixNode]) -> list[MatrixNode]:
    """Depth-first order, for pages that draw the tree as indented rows."""
    rows: list[MatrixNode] = []
    for node in nodes:
        rows.append(node)
        rows.extend(flatten(node.children))
    return rows


# --- the brand self-portrait ------------------------------------------------------------------------

@dataclass
class PortraitInput:
    female_share: int | None = None
    age_bands: list[str] = field(default_factory=list)
    occupations: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    spending_power: str = ""
    spending_preferences: str = ""
    competitors: str = ""
    differentiation: str = ""
    social_apps: list[str] = field(default_factory=list)
    shopping_platforms: list[str] = field(default_factory=list)
    interest_tags: list[str] = field(default_factory=list)
    staff_impressions: str = ""
    ideal_endorser: str = ""
    future_positioning: str = ""
    reviews: str = ""


def portrait_of(workspace: Workspace, membership: Membership | None) -> BrandPortrait:
    """The brand's self-portrait; an empty, unsaved one until someone fills it in."""
    require(role_of(membership), Module.IP, Action.VIEW)
    return BrandPortrait.objects.for_workspace(workspace).first() or BrandPortrait(workspace=workspace)


def save_portrait(workspace: Workspace, membership: Seat | None, data: PortraitInput) -> BrandPortrait:
    require(role_of(membership), Module.IP, Action.EDIT)
    errors: dict[str, list[str]] = {}
    if data.female_share is not None and not 0 <= data.female_share <= 100:
        errors["female_share"] = [_("Give a percentage between 0 and 100.")]
    if data.spending_power and data.spending_power not in SpendingPower.values:
        errors["spending_power"] = [_("Choose from the listed options.")]
    values: dict[str, Any] = {
        "female_share": data.female_share,
        "age_bands": _choices(data.age_bands, AgeBand.values, "age_bands", errors),
        "occupations": _items(data.occupations, "occupations", TAG_MAX_CHARS, errors),
        "regions": _items(data.regions, "regions", TAG_MAX_CHARS, errors),
        "spending_power": data.spending_power,
        "spending_preferences": data.spending_preferences.strip(),
        "competitors": data.competitors.strip(),
        "differentiation": data.differentiation.strip(),
        "social_apps": _choices(data.social_apps, SocialApp.values, "social_apps", errors),
        "shopping_platforms": _choices(data.shopping_platforms, ShoppingPlatform.values, "shopping_platforms", errors),
        "interest_tags": _items(data.interest_tags, "interest_tags", TAG_MAX_CHARS, errors),
        "staff_impressions": data.staff_impressions.strip(),
        "ideal_endorser": _text(data.ideal_endorser, 80),
        "future_positioning": data.future_positioning.strip(),
        "reviews": data.reviews.strip(),
        "updated_by": _user(membership),
    }
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        portrait = BrandPortrait.objects.for_workspace(workspace).select_for_update().first()
        before = snapshot(portrait, AUDITED_PORTRAIT_FIELDS) if portrait is not None else {}
        if portrait is None:
            portrait = BrandPortrait.objects.create(workspace=workspace, **values)
        else:
            for key, value in values.items():
                setattr(portrait, key, value)
            portrait.save()
        audit_change(workspace, membership, AuditAction.UPDATED, module="ip", subject=gettext_lazy("brand portrait"),
                     name="", changes=model_changes(before, portrait, AUDITED_PORTRAIT_FIELDS))
    return portrait


def review_count(portrait: BrandPortrait) -> int:
    """Pasted reviews, one per non-empty line."""
    return sum(1 for line in portrait.reviews.splitlines() if line.strip())

