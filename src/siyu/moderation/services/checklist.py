"""防骚扰 — WeCom's own anti-spam settings for customer groups (WECOM.md §10: auto-removal on
links or keywords, the group blacklist, keyword auto-reply live in the admin console and the
client). The console cannot read them, so it keeps a checklist the admin ticks, with who and when."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from siyu.core.auditing import audit_change, change
from siyu.core.models import AuditAction, Membership, Workspace
from siyu.core.permissions import Action, Seat, require, role_of
from siyu.moderation.models import ChecklistTick
from siyu.moderation.services.common import MODULE


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    label: Promise
    where: Promise


ITEMS: tuple[ChecklistItem, ...] = (
    ChecklistItem("links", gettext_lazy("Remove members who send links or mini-programs"),
                  gettext_lazy("Admin console: Customer contact → Customer groups → Anti-harassment")),
    ChecklistItem("qrcodes", gettext_lazy("Remove members who send QR codes or business cards"),
                  gettext_lazy("Admin console: Customer contact → Customer groups → Anti-harassment")),
    ChecklistItem("keywords", gettext_lazy("Remove members whose messages hold ad keywords"),
                  gettext_lazy("Admin console: anti-harassment rules, with the same words as the keyword list here")),
    ChecklistItem("flood", gettext_lazy("Warn or remove members who flood the group"),
                  gettext_lazy("Admin console: anti-harassment rules")),
    ChecklistItem("blacklist", gettext_lazy("Keep removed members from joining again (group blacklist)"),
                  gettext_lazy("Admin console: anti-harassment → apply to every group of the corp")),
    ChecklistItem("rename", gettext_lazy("Only the owner may rename the group"),
                  gettext_lazy("WeCom client: group settings, set by each owner")),
    ChecklistItem("confirm", gettext_lazy("Joins by invitation need the owner's confirmation"),
                  gettext_lazy("WeCom client: group settings, set by each owner")),
)
ITEM_KEYS = {i.key: i for i in ITEMS}


@dataclass(frozen=True)
class ChecklistLine:
    item: ChecklistItem
    tick: ChecklistTick | None


def checklist(workspace: Workspace, membership: Seat | None) -> list[ChecklistLine]:
    require(role_of(membership), MODULE, Action.VIEW)
    ticks = {t.item: t for t in ChecklistTick.objects.for_workspace(workspace).select_related("ticked_by__user")}
    return [ChecklistLine(item, ticks.get(item.key)) for item in ITEMS]


def tick(workspace: Workspace, membership: Seat | None, key: str, on: bool) -> ChecklistTick | None:
    """The admin says a setting is on (or no longer): stored per brand with who and when; audited."""
    require(role_of(membership), MODULE, Action.EDIT)
    item = ITEM_KEYS.get(key)
    if item is None:
        raise ValidationError({"item": [_("No such item.")]})
    with transaction.atomic():
        held = ChecklistTick.objects.for_workspace(workspace).filter(item=key).first()
        if (held is not None) == on:
            return held
        if on:
            result: ChecklistTick | None = ChecklistTick.objects.create(
                workspace=workspace, item=key, ticked_at=timezone.now(),
                ticked_by=membership if isinstance(membership, Membership) else None)
        else:
            assert held is not None
            held.delete()
            result = None
        audit_change(workspace, membership, AuditAction.SETTINGS_CHANGED, module="moderation",
                     subject=gettext_lazy("anti-spam checklist"), name=str(item.label),
                     changes=[change(item.label, not on, on)])
    return result
