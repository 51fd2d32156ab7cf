"""标签库 — the brand's tag groups and tags, kept in two-way sync with WeCom's corp tags
(企业客户标签, WECOM.md §3).

From WeCom: a full sync (`get_corp_tag_list`; nightly, on connect and on demand) and the
`change_external_tag` callbacks, each of which re-fetches what it names and applies it, so a
replay or an out-of-order delivery ends in WeCom's current state. To WeCom: groups and tags are
created, renamed, reordered and deleted at WeCom first and recorded here only once WeCom
accepted (WECOM.md §0: API changes fire no callback, so nobody else will record them). A WeCom
refusal is raised as a ValidationError carrying WeCom's message; nothing changes here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias, TypedDict

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from siyu.core import events
from siyu.core.models import AuditAction, Membership, Workspace
from siyu.core.permissions import Action, Module, Seat, allows, require, role_of
from siyu.core.services import OPERATOR, audit_change, change, changes, fact
from siyu.customers import services as customers
from siyu.tags.events import RequiredGroupsChanged
from siyu.tags.models import CustomerTag, Tag, TagGroup, TagSync
from siyu.tags.services import completeness
from siyu.wecom.client import NewTag, WeComClient, WeComError
from siyu.wecom.client import TagGroup as WeComTagGroup
from siyu.wecom.services import NotConnected, client_for

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

logger = logging.getLogger("siyu.tags")

MAX_NAME_CHARS = 30  # WECOM.md §3: group_name and tag names <= 30


# --- reading ----------------------------------------------------------------------------------

def can_edit(membership: Membership | None) -> bool:
    role = role_of(membership)
    return role is not None and allows(role, Module.CUSTOMERS, Action.EDIT)


class _LiveTags(TypedDict):
    live_tags: list[Tag]


LiveGroup: TypeAlias = "WithAnnotations[TagGroup, _LiveTags]"  # a group with its live tags


def live_groups(workspace: Workspace, membership: Seat | None) -> list[LiveGroup]:
    """The brand's live tag groups, each with `live_tags` (its live tags) and `customers`
    (how many customers carry each tag, as `tag.customers`)."""
    require(role_of(membership), Module.CUSTOMERS, Action.VIEW)
    from django.db.models import Prefetch

    tags = Tag.objects.for_workspace(workspace).filter(deleted_at__isnull=True).order_by("-order", "id")
    groups = list(TagGroup.objects.for_workspace(workspace).filter(deleted_at__isnull=True)
                  .prefetch_related(Prefetch("tags", queryset=tags, to_attr="live_tags")).order_by("-order", "id"))
    counts = completeness.tag_counts(workspace)
    for group in groups:
        for tag in group.live_tags:
            tag.customers = counts.get(tag.pk, 0)  # type: ignore[attr-defined]  # a figure shown with it
    return groups


def live_tags(workspace: Workspace) -> QuerySet[Tag]:
    return (Tag.objects.for_workspace(workspace).filter(deleted_at__isnull=True, group__deleted_at__isnull=True)
            .select_related("group").order_by("-group__order", "group_id", "-order", "id"))


def last_sync(workspace: Workspace) -> TagSync | None:
    return TagSync.objects.for_workspace(workspace).first()


# --- applying WeCom's state -------------------------------------------------------------------

@dataclass
class Applied:
    created: int = 0
    updated: int = 0
    deleted: int = 0


def _apply_groups(workspace: Workspace, groups: list[WeComTagGroup], *, whole_groups: bool) -> Applied:
    """Upsert WeCom's groups and tags by their WeCom ids (name, order; a row deleted here comes
    back if WeCom lists it). With `whole_groups`, each listed group's answer is complete, so
    its tags WeCom no longer lists are marked deleted. `required` is ours and is kept."""
    now = timezone.now()
    applied = Applied()
    gone_tags: list[int] = []
    with transaction.atomic():
        for wgroup in groups:
            if wgroup.deleted:
                continue
            group = TagGroup.objects.for_workspace(workspace).filter(wecom_group_id=wgroup.group_id).first()
            if group is None:
                group = TagGroup.objects.create(workspace=workspace, wecom_group_id=wgroup.group_id,
                                                name=wgroup.group_name[:MAX_NAME_CHARS], order=wgroup.order,
                                                synced_at=now)
                applied.created += 1
            elif (group.name, group.order, group.deleted_at) != (wgroup.group_name, wgroup.order, None):
                TagGroup.unscoped.filter(pk=group.pk).update(name=wgroup.group_name[:MAX_NAME_CHARS],
                                                             order=wgroup.order, deleted_at=None, synced_at=now)
                applied.updated += 1
            else:
                TagGroup.unscoped.filter(pk=group.pk).update(synced_at=now)
            seen = set()
            for wtag in wgroup.tag:
                if wtag.deleted:
                    continue
                seen.add(wtag.id)
                tag = Tag.objects.for_workspace(workspace).filter(wecom_tag_id=wtag.id).first()
                if tag is None:
                    Tag.objects.create(workspace=workspace, group=group, wecom_tag_id=wtag.id,
                                       name=wtag.name[:MAX_NAME_CHARS], order=wtag.order)
                    applied.created += 1
                elif (tag.group_id, tag.name, tag.order, tag.deleted_at) != (group.pk, wtag.name, wtag.order, None):
                    Tag.unscoped.filter(pk=tag.pk).update(group=group, name=wtag.name[:MAX_NAME_CHARS],
                                                          order=wtag.order, deleted_at=None)
                    applied.updated += 1
            if whole_groups:
                gone_tags += list(Tag.objects.for_workspace(workspace).filter(group=group, deleted_at__isnull=True)
                                  .exclude(wecom_tag_id="").exclude(wecom_tag_id__in=seen)
                                  .values_list("pk", flat=True))
        applied.deleted += _mark_deleted(workspace, tag_ids=gone_tags)
    completeness.forget_figures(workspace)
    return applied


def _mark_deleted(workspace: Workspace, *, tag_ids: Sequence[int] = (), group_ids: Sequence[int] = ()) -> int:
    """Mark groups and tags deleted (WeCom deleted them), taking their tags off customers as
    WeCom did; completeness, segments and lifecycle are told. Call inside a transaction."""
    now = timezone.now()
    groups = TagGroup.objects.for_workspace(workspace)
    tag_ids = list(tag_ids) + list(Tag.objects.for_workspace(workspace).filter(
        group_id__in=list(group_ids), deleted_at__isnull=True).values_list("pk", flat=True))
    count = Tag.objects.for_workspace(workspace).filter(pk__in=tag_ids, deleted_at__isnull=True).update(deleted_at=now)
    # A group left with no live tag is gone at WeCom too (WeCom keeps no empty group).
    emptied = (groups.filter(deleted_at__isnull=True, tags__pk__in=tag_ids)
               .exclude(tags__deleted_at__isnull=True).values_list("pk", flat=True))
    gone_group_ids = set(group_ids) | set(emptied)
    required_gone = groups.filter(pk__in=gone_group_ids, deleted_at__isnull=True, required=True).exists()
    count += groups.filter(pk__in=gone_group_ids, deleted_at__isnull=True).update(deleted_at=now)
    completeness.forget_figures(workspace)
    links = CustomerTag.objects.for_workspace(workspace).filter(tag_id__in=tag_ids)
    affected = list(links.values_list("customer_id", flat=True).distinct()) if tag_ids else []
    if affected:
        links.delete()
    if required_gone:
        _publish_required_changed(workspace)
    elif affected:
        completeness.recompute_for(workspace, affected)
    if affected:
        customers.customers_changed(workspace, affected, "tags")
    return count


def _publish_required_changed(workspace: Workspace) -> None:
    events.publish(workspace, RequiredGroupsChanged(at=timezone.now()))


@contextmanager
def _wecom(workspace: Workspace) -> Iterator[WeComClient]:
    """The brand's WeCom client; WeCom's refusal or no connection becomes a ValidationError
    with a message for the user."""
    try:
        with client_for(workspace) as client:
            yield client
    except NotConnected as exc:
        raise ValidationError(str(exc)) from exc
    except WeComError as exc:
        raise ValidationError(_("WeCom refused: %(code)s %(message)s") % {
            "code": exc.errcode, "message": exc.errmsg}) from exc


def sync_tags(workspace: Workspace, membership: Seat | None) -> TagSync:
    """全量同步 — fetch every corp tag from WeCom and make ours match: groups and tags upserted
    by WeCom id, ours that WeCom no longer has marked deleted (their links removed), `required`
    kept. The run is recorded (`TagSync`) with its counts, or WeCom's error."""
    require(role_of(membership), Module.CUSTOMERS, Action.EDIT)
    run = TagSync.objects.create(workspace=workspace, started_by=getattr(membership, "user", None))
    try:
        with _wecom(workspace) as client:
            groups = client.get_corp_tags()
    except ValidationError as exc:
        run.error = " ".join(exc.messages)[:300]
        run.finished_at = timezone.now()
        run.save(update_fields=["error", "finished_at"])
        return run
    groups = [g for g in groups if not g.deleted]
    with transaction.atomic():
        applied = _apply_groups(workspace, groups, whole_groups=True)
        known = {g.group_id for g in groups}
        gone = list(TagGroup.objects.for_workspace(workspace).filter(deleted_at__isnull=True)
                    .exclude(wecom_group_id="").exclude(wecom_group_id__in=known).values_list("pk", flat=True))
        applied.deleted += _mark_deleted(workspace, group_ids=gone)
    run.groups_seen, run.tags_seen = len(groups), sum(len(g.tag) for g in groups)
    run.created, run.updated, run.deleted = applied.created, applied.updated, applied.deleted
    run.finished_at = timezone.now()
    run.save()
    return run


def apply_tag_change(workspace: Workspace, *, change_type: str, wecom_id: str, tag_type: str) -> Applied:
    """One `change_external_tag` callback: re-fetch what it names and apply WeCom's current
    state (idempotent). A shuffle, or an event without an id, re-syncs everything."""
    is_group = tag_type == "tag_group"
    if change_type == "shuffle" or not wecom_id:
        run = sync_tags(workspace, OPERATOR)
        if run.error:
            raise ValidationError(run.error)
        return Applied(run.created, run.updated, run.deleted)
    with _wecom(workspace) as client:
        groups = client.get_corp_tags(group_ids=[wecom_id]) if is_group else client.get_corp_tags(tag_ids=[wecom_id])
    if is_group:
        groups = [g for g in groups if g.group_id == wecom_id and not g.deleted]
        present = bool(groups)
    else:
        groups = [g.model_copy(update={"tag": [t for t in g.tag if t.id == wecom_id and not t.deleted]})
                  for g in groups if not g.deleted]
        groups = [g for g in groups if g.tag]
        present = bool(groups)
    with transaction.atomic():
        if present:
            return _apply_groups(workspace, groups, whole_groups=is_group)
        # WeCom no longer has it: deleted (a delete event, or a create we saw too late).
        if is_group:
            ids = list(TagGroup.objects.for_workspace(workspace).filter(wecom_group_id=wecom_id)
                       .values_list("pk", flat=True))
            return Applied(deleted=_mark_deleted(workspace, group_ids=ids))
        ids = list(Tag.objects.for_workspace(workspace).filter(wecom_tag_id=wecom_id).values_list("pk", flat=True))
        return Applied(deleted=_mark_deleted(workspace, tag_ids=ids))


def learn_tags(workspace: Workspace, wecom_tag_ids: list[str]) -> int:
    """Fetch and record tags WeCom knows and we do not yet (seen on a customer before their
    create callback arrived). Returns how many were recorded."""
    known = set(Tag.objects.for_workspace(workspace).filter(wecom_tag_id__in=wecom_tag_ids)
                .values_list("wecom_tag_id", flat=True))
    unknown = [t for t in wecom_tag_ids if t and t not in known]
    if not unknown:
        return 0
    with _wecom(workspace) as client:
        groups = client.get_corp_tags(tag_ids=unknown)
    return _apply_groups(workspace, [g for g in groups if not g.deleted], whole_groups=False).created


# --- our changes, made at WeCom first ---------------------------------------------------------

def _name(value: str, field: str) -> str:
    name = (value or "").strip()
    if not name:
        raise ValidationError({field: [_("Enter a name.")]})
    if len(name) > MAX_NAME_CHARS:
        raise ValidationError({field: [_("At most %(n)s characters.") % {"n": MAX_NAME_CHARS}]})
    return name


def _group(workspace: Workspace, group_id: int) -> TagGroup:
    return TagGroup.objects.for_workspace(workspace).get(pk=group_id, deleted_at__isnull=True)


def _tag(workspace: Workspace, tag_id: int) -> Tag:
    return Tag.objects.for_workspace(workspace).select_related("group").get(pk=tag_id, deleted_at__isnull=True)


def create_group(
    workspace: Workspace,
    membership: Seat | None,
    name: str,
    tag_names: list[str],
    *,
    order: int = 0,
    required: bool = False,
) -> TagGroup:
    """A new tag group with its first tags (WeCom keeps no empty group), created at WeCom
    (`add_corp_tag` with group_name) and then recorded with WeCom's ids."""
    require(role_of(membership), Module.CUSTOMERS, Action.EDIT)
    name = _name(name, "name")
    names = [n.strip() for n in tag_names if n and n.strip()]
    if not names:
        raise ValidationError({"tag_names": [_("A group needs at least one tag.")]})
    if len(set(names)) != len(names):
        raise ValidationError({"tag_names": [_("Each tag in a group needs its own name.")]})
    for tag_name in names:
        _name(tag_name, "tag_names")
    # WeCom adds to an existing group of the same name rather than refusing: refuse here.
    if TagGroup.objects.for_workspace(workspace).filter(name=name, deleted_at__isnull=True).exists():
        raise ValidationError({"name": [_("A tag group with this name exists.")]})
    with _wecom(workspace) as client:
        made = client.add_corp_tags([NewTag(name=n) for n in names], group_name=name, order=order)
    with transaction.atomic():
        _apply_groups(workspace, [made], whole_groups=False)
        group = TagGroup.objects.for_workspace(workspace).get(wecom_group_id=made.group_id)
        if required:
            TagGroup.unscoped.filter(pk=group.pk).update(required=True)
            group.required = True
            _publish_required_changed(workspace)
        audit_change(workspace, membership, AuditAction.CREATED, module="tags", subject=gettext_lazy("tag group"),
                     name=group.name, facts=[fact(gettext_lazy("tags"), names)])
    return group


def create_tag(workspace: Workspace, membership: Membership | None, group_id: int, name: str, *,
               order: int = 0) -> Tag:
    """A new tag in a group, created at WeCom (`add_corp_tag` with group_id) then recorded."""
    require(role_of(membership), Module.CUSTOMERS, Action.EDIT)
    group = _group(workspace, group_id)
    name = _name(name, "name")
    if Tag.objects.for_workspace(workspace).filter(group=group, name=name, deleted_at__isnull=True).exists():
        raise ValidationError({"name": [_("This group already has a tag with this name.")]})
    with _wecom(workspace) as client:
        made = client.add_corp_tags([NewTag(name=name, order=order)], group_id=group.wecom_group_id)
    _apply_groups(workspace, [made], whole_groups=False)
    audit_change(workspace, membership, AuditAction.CREATED, module="tags", subject=gettext_lazy("tag"), name=name,
                 facts=[fact(gettext_lazy("tag group"), group.name)])
    return Tag.objects.for_workspace(workspace).get(wecom_tag_id=made.tag[0].id)


def edit_group(workspace: Workspace, membership: Membership | None, group_id: int, *,
               name: str | None = None, order: int | None = None) -> TagGroup:
    """Rename or reorder a group at WeCom (`edit_corp_tag`), then here."""
    require(role_of(membership), Module.CUSTOMERS, Action.EDIT)
    group = _group(workspace, group_id)
    if name is not None:
        name = _name(name, "name")
        if TagGroup.objects.for_workspace(workspace).filter(name=name, deleted_at__isnull=True).exclude(
                pk=group.pk).exists():
            raise ValidationError({"name": [_("A tag group with this name exists.")]})
    with _wecom(workspace) as client:
        client.edit_corp_tag(group.wecom_group_id, name=name, order=order)
    before = {"name": group.name, "order": group.order}
    group.name = name if name is not None else group.name
    group.order = order if order is not None else group.order
    group.save(update_fields=["name", "order"])
    audit_change(workspace, membership, AuditAction.UPDATED, module="tags", subject=gettext_lazy("tag group"), name=group.name,
                 changes=changes(before, {"name": group.name, "order": group.order}, ORDER_LABELS))
    return group


def edit_tag(workspace: Workspace, membership: Membership | None, tag_id: int, *,
             name: str | None = None, order: int | None = None) -> Tag:
    """Rename or reorder a tag at WeCom (`edit_corp_tag`), then here."""
    require(role_of(membership), Module.CUSTOMERS, Action.EDIT)
    tag = _tag(workspace, tag_id)
    if name is not None:
        name = _name(name, "name")
        if Tag.objects.for_workspace(workspace).filter(group=tag.group, name=name, deleted_at__isnull=True).exclude(
                pk=tag.pk).exists():
            raise ValidationError({"name": [_("This group already has a tag with this name.")]})
    with _wecom(workspace) as client:
        client.edit_corp_tag(tag.wecom_tag_id, name=name, order=order)
    before = {"name": tag.name, "order": tag.order}
    tag.name = name if name is not None else tag.name
    tag.order = order if order is not None else tag.order
    tag.save(update_fields=["name", "order"])
    audit_change(workspace, membership, AuditAction.UPDATED, module="tags", subject=gettext_lazy("tag"), name=tag.name,
                 changes=changes(before, {"name": tag.name, "order": tag.order}, ORDER_LABELS))
    return tag


ORDER_LABELS = {"name": pgettext_lazy("audit field", "name"), "order": gettext_lazy("order")}


def delete_group(workspace: Workspace, membership: Membership | None, group_id: int) -> TagGroup:
    """Delete a group and its tags at WeCom (`del_corp_tag`), then here: its tags come off
    every customer (as at WeCom)."""
    require(role_of(membership), Module.CUSTOMERS, Action.EDIT)
    group = _group(workspace, group_id)
    if group.wecom_group_id:
        with _wecom(workspace) as client:
            client.delete_corp_tags(group_ids=[group.wecom_group_id])
    with transaction.atomic():
        _mark_deleted(workspace, group_ids=[group.pk])
    _audit_deletion(workspace, membership, gettext_lazy("tag group"), group.name)
    return group


def delete_tag(workspace: Workspace, membership: Membership | None, tag_id: int) -> Tag:
    """Delete a tag at WeCom (`del_corp_tag`), then here: it comes off every customer."""
    require(role_of(membership), Module.CUSTOMERS, Action.EDIT)
    tag = _tag(workspace, tag_id)
    if tag.wecom_tag_id:
        with _wecom(workspace) as client:
            client.delete_corp_tags(tag_ids=[tag.wecom_tag_id])
    with transaction.atomic():
        _mark_deleted(workspace, tag_ids=[tag.pk])
    _audit_deletion(workspace, membership, gettext_lazy("tag"), tag.name)
    return tag


def _audit_deletion(workspace: Workspace, membership: Membership | None, subject: Any, name: str) -> None:
    audit_change(workspace, membership, AuditAction.DELETION, module="tags", subject=subject, name=name)


def set_required(workspace: Workspace, membership: Membership | None, group_id: int, required: bool) -> TagGroup:
    """Mark a group as counting toward tag completeness (ours only; WeCom has no such flag).
    Every customer's completeness is then recomputed in the background."""
    require(role_of(membership), Module.CUSTOMERS, Action.EDIT)
    group = _group(workspace, group_id)
    with transaction.atomic():
        if TagGroup.unscoped.filter(pk=group.pk).exclude(required=required).update(required=required):
            _publish_required_changed(workspace)
            completeness.forget_figures(workspace)
            audit_change(workspace, membership, AuditAction.UPDATED, module="tags", subject=gettext_lazy("tag group"),
                         name=group.name, changes=[change(gettext_lazy("required for completeness"), not required, required)])
    group.required = required
    return group
