"""人设包装 — the profile kit check: does each account look and speak like its persona?

Seed 001: an account's avatar, name, moments cover, signature and greeting must all match the
persona it embodies. The planner enters what the account shows (WeCom's API exposes none of
it); this module compares and lists every mismatch with a reason the planner can act on.

Avatars are compared by a perceptual difference hash (dHash): the picture shrunk to 9×8 grey
pixels, one bit per neighbouring pair (is the left one brighter?), 64 bits in all. Re-encoding,
resizing or light compression (what WeCom does to an uploaded avatar) changes a few bits; a
different picture changes about half of them. Two avatars match when at most
`AVATAR_MATCH_MAX_DISTANCE` bits differ (Hamming distance). The hash sees shapes and shading,
not hue: a recoloured copy of the same drawing still matches.
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from PIL import Image

from siyu.accounts.models import StaffAccount
from siyu.core.models import Membership, Workspace
from siyu.core.permissions import Action, Module, require, role_of
from siyu.ip.models import Persona

logger = logging.getLogger("siyu.accounts")

AVATAR_MATCH_MAX_DISTANCE = 10  # of 64 bits; see the module docstring


def avatar_hash(content: bytes) -> str:
    """The 64-bit difference hash of a picture, as 16 hex digits."""
    with Image.open(io.BytesIO(content)) as image:
        grey = image.convert("L").resize((9, 8), Image.Resampling.LANCZOS)
    pixels = grey.tobytes()  # one byte per grey pixel, row by row
    bits = 0
    for row in range(8):
        for col in range(8):
            left, right = pixels[row * 9 + col], pixels[row * 9 + col + 1]
            bits = (bits << 1) | (1 if left > right else 0)
    return f"{bits:016x}"


def hash_distance(a: str, b: str) -> int:
    """How many of the 64 bits differ."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


def avatars_match(a: str, b: str) -> bool:
    return hash_distance(a, b) <= AVATAR_MATCH_MAX_DISTANCE


@dataclass(frozen=True)
class KitIssue:
    """One mismatch: which part of the kit (`avatar`, `name`, `moments_cover`, `signature`,
    `greeting` or `persona`) and why, in words for the planner."""

    part: str
    reason: str


@dataclass
class KitReport:
    account: StaffAccount
    issues: list[KitIssue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.issues


def _persona_hash(persona: Persona) -> str | None:
    if not persona.avatar:
        return None
    try:
        with persona.avatar.open("rb") as handle:
            return avatar_hash(handle.read())
    except (OSError, ValueError):
        logger.warning("avatar of persona %s could not be read", persona.pk, exc_info=True)
        return None


def check_account_kit(account: StaffAccount, persona_hash: str | None) -> KitReport:
    """Compare one account's kit with its persona (`persona_hash`: the persona avatar's dHash)."""
    report = KitReport(account)
    persona = account.persona
    if persona is None:
        report.issues.append(KitIssue("persona", _(
            "Assign a persona to this account; the kit is checked against it.")))
        return report
    add = report.issues.append
    example = f"{persona.name}01"
    if not re.fullmatch(re.escape(persona.name) + r"\d+", account.name.strip()):
        add(KitIssue("name", _(
            "The display name “%(name)s” should be the persona's name with a number, e.g. %(example)s.")
            % {"name": account.name, "example": example}))
    if not account.kit_avatar_hash:
        add(KitIssue("avatar", _("Upload the avatar as the account shows it, so it can be compared "
                                 "with the persona's.")))
    elif persona_hash is None:
        add(KitIssue("avatar", _("The persona “%(persona)s” has no readable avatar to compare with.")
                     % {"persona": persona.name}))
    elif not avatars_match(account.kit_avatar_hash, persona_hash):
        add(KitIssue("avatar", _("The avatar is not the persona's avatar; use the picture of “%(persona)s”.")
                     % {"persona": persona.name}))
    if not account.moments_cover.strip():
        add(KitIssue("moments_cover", _("Set a moments cover in the persona's style.")))
    slogan = persona.slogan.strip()
    if not slogan:
        add(KitIssue("signature", _("The persona “%(persona)s” has no slogan yet; give it one in the "
                                    "Brand IP studio, then use it as the signature.") % {"persona": persona.name}))
    elif slogan not in account.signature:
        add(KitIssue("signature", _("The signature should be the persona's slogan: “%(slogan)s”.")
                     % {"slogan": slogan}))
    if not account.greeting.strip():
        add(KitIssue("greeting", _("Write a greeting that introduces %(persona)s.") % {"persona": persona.name}))
    elif persona.name not in account.greeting:
        add(KitIssue("greeting", _("The greeting should mention the persona's name, %(persona)s.")
                     % {"persona": persona.name}))
    return report


def kit_check(workspace: Workspace, membership: Membership | None) -> list[KitReport]:
    """Every active account of the brand with its mismatches, mismatched accounts first.
    Two queries; each persona's avatar is read once, account avatars not at all (their hash
    is stored with the upload)."""
    require(role_of(membership), Module.CHANNELS, Action.VIEW)
    accounts = list(StaffAccount.objects.for_workspace(workspace).filter(active=True).select_related("persona"))
    hashes: dict[int, str | None] = {}
    for account in accounts:
        persona = account.persona
        if persona is not None and persona.pk not in hashes:
            hashes[persona.pk] = _persona_hash(persona)
    reports = [check_account_kit(a, hashes.get(a.persona_id) if a.persona_id else None) for a in accounts]
    return sorted(reports, key=lambda r: (r.ok, r.account.name, r.account.userid))
