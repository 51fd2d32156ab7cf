"""Planning moment posts: create, edit and delete drafts and scheduled posts, with WeCom's rules
(WECOM.md §6: text ≤ 2,000 characters; up to 9 images, or 1 video, or 1 link, never mixed)
checked before anything reaches WeCom."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from siyu.accounts.models import StaffAccount
from siyu.content.models import Material, MaterialKind
from siyu.core.auditing import audit_change, fact, model_changes, snapshot
from siyu.core.models import AuditAction, Workspace
from siyu.core.permissions import Seat
from siyu.ip.models import Persona
from siyu.moments.models import MAX_IMAGES, MAX_TEXT_CHARS, MomentPost, PostStatus
from siyu.moments.services.common import MODULE, SUBJECT, require_edit, require_view
from siyu.tags.models import Tag

# How a material goes into a moment (a poster is an image).
ATTACHMENT_KIND = {MaterialKind.IMAGE: "image", MaterialKind.POSTER: "image", MaterialKind.VIDEO: "video",
                   MaterialKind.LINK: "link"}
EDITABLE = (PostStatus.DRAFT, PostStatus.SCHEDULED)
DELETABLE = (PostStatus.DRAFT, PostStatus.SCHEDULED, PostStatus.FAILED)
AUDITED = ("planned_at", "text", "material_ids", "sender_ids", "tag_ids", "status")


@dataclass
class PostInput:
    persona_id: int
    planned_at: dt.datetime | None
    text: str = ""
    material_ids: list[int] = field(default_factory=list)
    sender_ids: list[int] = field(default_factory=list)
    tag_ids: list[int] = field(default_factory=list)
    schedule: bool = True  # False keeps it a draft


def get_post(workspace: Workspace, membership: Seat | None, post_id: int) -> MomentPost:
    require_view(membership)
    return MomentPost.objects.for_workspace(workspace).select_related("persona").get(pk=post_id)


def post_materials(workspace: Workspace, post: MomentPost) -> list[Material]:
    """The post's attachments in its order (a material deleted since is left out)."""
    by_id = Material.objects.for_workspace(workspace).in_bulk(post.material_ids)
    return [by_id[i] for i in post.material_ids if i in by_id]


def check_attachments(materials: list[Material]) -> list[str]:
    """Errors of WeCom's attachment rule, in words."""
    kinds = [ATTACHMENT_KIND.get(MaterialKind(m.kind)) for m in materials]
    errors = [_("“%(title)s” cannot go into a moment: use images, a video or a link.") % {"title": m.title}
              for m, k in zip(materials, kinds, strict=True) if k is None]
    found = {k for k in kinds if k}
    if len(found) > 1:
        errors.append(_("A moment takes images, or one video, or one link — not a mix."))
    elif found == {"image"} and len(kinds) > MAX_IMAGES:
        errors.append(_("A moment takes at most %(n)d images.") % {"n": MAX_IMAGES})
    elif found and found != {"image"} and len(kinds) > 1:
        errors.append(_("A moment takes only one video or one link."))
    return errors


def _clean(workspace: Workspace, data: PostInput, now: dt.datetime) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not Persona.objects.for_workspace(workspace).filter(pk=data.persona_id).exists():
        errors["persona"] = [_("Choose a persona of this brand.")]
    if len(data.text) > MAX_TEXT_CHARS:
        errors["text"] = [_("WeCom takes at most %(max)d characters; this text has %(n)d.")
                          % {"max": MAX_TEXT_CHARS, "n": len(data.text)}]
    by_id = Material.objects.for_workspace(workspace).in_bulk(data.material_ids)
    if len(by_id) != len(set(data.material_ids)):
        errors["material_ids"] = [_("A chosen material no longer exists.")]
    elif problems := check_attachments([by_id[i] for i in data.material_ids]):
        errors["material_ids"] = problems
    if not data.text.strip() and not data.material_ids:
        errors.setdefault("text", []).append(_("Write a text or choose an attachment."))
    accounts = StaffAccount.objects.for_workspace(workspace).filter(pk__in=data.sender_ids, active=True)
    if accounts.count() != len(set(data.sender_ids)):
        errors["sender_ids"] = [_("A chosen staff account is not active in this brand.")]
    if Tag.objects.for_workspace(workspace).filter(pk__in=data.tag_ids).count() != len(set(data.tag_ids)):
        errors["tag_ids"] = [_("A chosen tag no longer exists.")]
    if data.schedule and data.planned_at is None:
        errors["planned_at"] = [_("Choose when to post it.")]
    elif data.schedule and data.planned_at is not None and data.planned_at < now - dt.timedelta(minutes=5):
        errors["planned_at"] = [_("This time has passed; choose a time from now on.")]
    return errors


def _apply(post: MomentPost, data: PostInput) -> None:
    post.persona_id = data.persona_id
    post.planned_at = data.planned_at or post.planned_at or timezone.now()
    post.text = data.text
    post.material_ids = [int(i) for i in dict.fromkeys(data.material_ids)]
    post.sender_ids = sorted({int(i) for i in data.sender_ids})
    post.tag_ids = sorted({int(i) for i in data.tag_ids})
    post.status = PostStatus.SCHEDULED if data.schedule else PostStatus.DRAFT


def save_post(workspace: Workspace, membership: Seat | None, data: PostInput, post_id: int | None = None,
              now: dt.datetime | None = None) -> MomentPost:
    """Create a post, or edit a draft or scheduled one. Raises ValidationError with field errors."""
    require_edit(membership)
    now = now or timezone.now()
    if errors := _clean(workspace, data, now):
        raise ValidationError(errors)
    with transaction.atomic():
        if post_id is None:
            post = MomentPost(workspace=workspace, created_by=getattr(membership, "user", None))
            before = None
        else:
            post = MomentPost.objects.for_workspace(workspace).select_for_update().get(pk=post_id)
            if post.status not in EDITABLE:
                raise ValidationError({"status": _("Only a draft or scheduled post can be edited.")})
            before = snapshot(post, AUDITED)
        _apply(post, data)
        post.save()
        if before is None:
            audit_change(workspace, membership, AuditAction.CREATED, module=MODULE, subject=SUBJECT, name=str(post),
                         facts=[fact(MomentPost._meta.get_field("planned_at").verbose_name, post.planned_at),
                                fact(MomentPost._meta.get_field("status").verbose_name, post.get_status_display())],
                         data={"post": post.pk})
        else:
            audit_change(workspace, membership, AuditAction.UPDATED, module=MODULE, subject=SUBJECT, name=str(post),
                         changes=model_changes(before, post, AUDITED), data={"post": post.pk})
    return post


def delete_post(workspace: Workspace, membership: Seat | None, post_id: int) -> None:
    """Delete a post that WeCom has not got (a draft, scheduled or failed one)."""
    require_edit(membership)
    with transaction.atomic():
        post = MomentPost.objects.for_workspace(workspace).select_for_update().get(pk=post_id)
        if post.status not in DELETABLE:
            raise ValidationError({"status": _("A post that is in WeCom cannot be deleted here.")})
        name, pk = str(post), post.pk
        post.delete()
        audit_change(workspace, membership, AuditAction.DELETION, module=MODULE, subject=SUBJECT, name=name,
                     data={"post": pk})
