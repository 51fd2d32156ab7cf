"""活码分组 — code groups: folders the ops team files channel codes in (by campaign, region, …).
A code is in at most one group; deleting a group keeps its codes, in no group."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from siyu.channels.models import GROUP_NAME_MAX_CHARS, ChannelCode, CodeGroup
from siyu.core import bounds
from siyu.core.models import AuditAction, Workspace
from siyu.core.permissions import Action, Module, Seat, require, role_of
from siyu.core.services import audit_change, change, fact

SUBJECT = pgettext_lazy("channel code", "code group")
NO_GROUP = "none"  # a filter's value for codes in no group
GroupFilter = int | str | None  # a `CodeGroup` id, `NO_GROUP`, or None for every code


def parse_group(value: str | None) -> GroupFilter:
    """A page's `?group=`: a group id, "none" for codes in no group, or nothing (all)."""
    if value == NO_GROUP:
        return NO_GROUP
    return bounds.parse_id(value) if value else None


def in_group(codes: QuerySet[ChannelCode], group: GroupFilter) -> QuerySet[ChannelCode]:
    """`codes` narrowed to one group's (a `CodeGroup` id) or to those in none (`NO_GROUP`)."""
    if group == NO_GROUP:
        return codes.filter(group__isnull=True)
    if isinstance(group, int):
        return codes.filter(group_id=group)
    return codes


def list_groups(workspace: Workspace, membership: Seat | None) -> list[CodeGroup]:
    """The brand's groups by name, each with `code_count` (one query)."""
    require(role_of(membership), Module.CHANNELS, Action.VIEW)
    return list(CodeGroup.objects.for_workspace(workspace).annotate(code_count=Count("codes")))


def _clean_name(workspace: Workspace, name: str, group: CodeGroup | None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": _("Give the group a name.")})
    if len(name) > GROUP_NAME_MAX_CHARS:
        raise ValidationError({"name": _("Keep the group name within %(max)s characters.")
                                       % {"max": GROUP_NAME_MAX_CHARS}})
    others = CodeGroup.objects.for_workspace(workspace)
    if group is not None:
        others = others.exclude(pk=group.pk)
    if others.filter(name=name).exists():
        raise ValidationError({"name": _("This brand already has a group named “%(name)s”.") % {"name": name}})
    return name


def _taken(name: str) -> ValidationError:
    return ValidationError({"name": _("This brand already has a group named “%(name)s”.") % {"name": name}})


def create_group(workspace: Workspace, membership: Seat | None, name: str) -> CodeGroup:
    require(role_of(membership), Module.CHANNELS, Action.EDIT)
    name = _clean_name(workspace, name, None)
    try:
        with transaction.atomic():
            group = CodeGroup.objects.for_workspace(workspace).create(workspace=workspace, name=name)
            audit_change(workspace, membership, AuditAction.CREATED, module="channels", subject=SUBJECT, name=name)
    except IntegrityError as exc:  # two people making the same group at once
        raise _taken(name) from exc
    return group


def rename_group(workspace: Workspace, membership: Seat | None, group_id: int, name: str) -> CodeGroup:
    require(role_of(membership), Module.CHANNELS, Action.EDIT)
    group = CodeGroup.objects.for_workspace(workspace).get(pk=group_id)
    name = _clean_name(workspace, name, group)
    if name == group.name:
        return group
    before, group.name = group.name, name
    try:
        with transaction.atomic():
            group.save(update_fields=["name"])
            audit_change(workspace, membership, AuditAction.UPDATED, module="channels", subject=SUBJECT, name=name,
                         changes=[change(pgettext_lazy("audit field", "name"), before, name)])
    except IntegrityError as exc:
        raise _taken(name) from exc
    return group


def delete_group(workspace: Workspace, membership: Seat | None, group_id: int) -> int:
    """Delete a group; its codes stay, in no group. Answers how many codes it held."""
    require(role_of(membership), Module.CHANNELS, Action.EDIT)
    group = CodeGroup.objects.for_workspace(workspace).get(pk=group_id)
    with transaction.atomic():
        held = ChannelCode.objects.for_workspace(workspace).filter(group=group).count()
        group.delete()  # ChannelCode.group is SET_NULL
        audit_change(workspace, membership, AuditAction.DELETION, module="channels", subject=SUBJECT,
                     name=group.name, facts=[fact(gettext_lazy("codes moved out of the group"), held)])
    return held
