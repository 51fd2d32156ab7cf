"""素材 — the material library: create and edit materials of every kind with their files
checked against WeCom's limits, search and filter them, and count what was sent."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from siyu.content.models import Category, Material, MaterialKind, MaterialMedia
from siyu.content.services.common import MODULE, clean_tags, clean_text, require_edit, require_view
from siyu.core.models import AuditAction, Workspace
from siyu.core.permissions import Seat
from siyu.core.services import audit_change, model_changes, snapshot
from siyu.core.uploads import read_upload

PAGE_SIZE = 20
TITLE_MAX_CHARS = 64
DESCRIPTION_MAX_CHARS = 200
TEXT_MAX_BYTES = 4000  # WECOM.md §5: a message's text <= 4000 bytes
MB = 1024 * 1024
# WECOM.md §5 / media/upload: image <= 10 MB (jpg, png), video <= 10 MB (mp4), file <= 20 MB.
IMAGE_MAX_BYTES = 10 * MB
VIDEO_MAX_BYTES = 10 * MB
FILE_MAX_BYTES = 20 * MB
MIN_BYTES = 6  # WeCom refuses files of 5 bytes or fewer
FILE_KINDS = {MaterialKind.IMAGE, MaterialKind.POSTER, MaterialKind.VIDEO, MaterialKind.FILE}
COVER_KINDS = {MaterialKind.LINK, MaterialKind.MINIPROGRAM}
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "mp4": "video/mp4"}
APPID = re.compile(r"^wx[0-9a-f]{16}$")
SAFE_NAME = re.compile(r"[^\w.\-\u4e00-\u9fff]+")
AUDITED_FIELDS = ("kind", "title", "category", "tags", "text", "description", "url", "appid", "page", "file", "cover")


@dataclass
class MaterialInput:
    kind: str = MaterialKind.TEXT
    title: str = ""
    category_id: int | None = None
    tags: list[str] = field(default_factory=list)
    text: str = ""
    description: str = ""
    url: str = ""
    appid: str = ""
    page: str = ""


@dataclass(frozen=True)
class CheckedFile:
    content: bytes
    extension: str
    name: str


def _image(content: bytes) -> str | None:
    if content.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    return None


def _original_name(upload: File) -> str:
    name = SAFE_NAME.sub("_", (upload.name or "file").rsplit("/", 1)[-1]).strip("._") or "file"
    return name[-100:]


def check_file(kind: str, upload: File, field_name: str = "file") -> CheckedFile:
    """An uploaded file checked for the material's kind: format by its first bytes, size by
    WeCom's limits. Refused with a reason on `field_name`."""
    limit = {MaterialKind.VIDEO: VIDEO_MAX_BYTES, MaterialKind.FILE: FILE_MAX_BYTES}.get(MaterialKind(kind),
                                                                                          IMAGE_MAX_BYTES)
    try:
        content = read_upload(upload, max_bytes=limit)
    except ValidationError as exc:
        raise ValidationError({field_name: exc.message_dict["file"]}) from exc
    if len(content) < MIN_BYTES:
        raise ValidationError({field_name: _("The file is empty.")})
    name = _original_name(upload)
    if kind in (MaterialKind.IMAGE, MaterialKind.POSTER) or field_name == "cover":
        extension = _image(content)
        if extension is None:
            raise ValidationError({field_name: _("Upload the picture as JPG or PNG.")})
    elif kind == MaterialKind.VIDEO:
        if content[4:8] != b"ftyp":
            raise ValidationError({field_name: _("Upload the video as MP4.")})
        extension = "mp4"
    else:
        extension = "bin"
    return CheckedFile(content, extension, name)


def _clean(workspace: Workspace, data: MaterialInput, material: Material, file: File | None,
           cover: File | None) -> tuple[dict[str, Any], CheckedFile | None, CheckedFile | None]:
    errors: dict[str, list[str]] = {}
    if data.kind not in MaterialKind.values:
        raise ValidationError({"kind": _("Choose one of the material kinds.")})
    kind = MaterialKind(data.kind)
    values: dict[str, Any] = {"kind": kind}
    values["title"] = clean_text(data.title, "title", TITLE_MAX_CHARS, errors,
                                 required_message=_("Give the material a title."))
    values["tags"] = clean_tags(data.tags, errors)
    values["category"] = None
    if data.category_id is not None:
        values["category"] = Category.objects.for_workspace(workspace).filter(pk=data.category_id).first()
        if values["category"] is None:
            errors["category"] = [_("Choose a category of this brand.")]
    text = (data.text or "").strip() if kind == MaterialKind.TEXT else ""
    if kind == MaterialKind.TEXT:
        if not text:
            errors["text"] = [_("Write the text.")]
        elif len(text.encode("utf-8")) > TEXT_MAX_BYTES:
            errors["text"] = [_("WeCom takes at most 4,000 bytes of text (about 1,300 Chinese characters).")]
        elif "\x00" in text:
            errors["text"] = [_("This text holds a character that cannot be stored.")]
    values["text"] = text
    values["description"] = clean_text(data.description, "description", DESCRIPTION_MAX_CHARS, errors)
    values["url"] = values["appid"] = values["page"] = ""
    if kind == MaterialKind.LINK:
        url = (data.url or "").strip()
        if not re.match(r"^https?://[^\s/]+\S*$", url) or len(url) > 500:
            errors["url"] = [_("Give the full web address, starting with https://.")]
        values["url"] = url
    if kind == MaterialKind.MINIPROGRAM:
        appid = (data.appid or "").strip()
        if not APPID.match(appid):
            errors["appid"] = [_("A mini-program AppID is “wx” and 16 hexadecimal characters.")]
        values["appid"] = appid
        values["page"] = clean_text(data.page, "page", 200, errors,
                                    required_message=_("Give the page to open, e.g. pages/index/index."))
        if not material.cover and cover is None:
            errors.setdefault("cover", []).append(_("A mini-program card needs a cover picture."))
    if kind in FILE_KINDS and file is None and not (material.file and material.kind == kind):
        errors.setdefault("file", []).append(_("Upload the file."))
    checked_file = checked_cover = None
    for name, upload in (("file", file if kind in FILE_KINDS else None),
                         ("cover", cover if kind in COVER_KINDS else None)):
        if upload is None:
            continue
        try:
            checked = check_file(kind, upload, name)
        except ValidationError as exc:
            errors.setdefault(name, []).extend(exc.message_dict[name])
            continue
        if name == "file":
            checked_file = checked
        else:
            checked_cover = checked
    if errors:
        raise ValidationError(errors)
    return values, checked_file, checked_cover


def save_material(workspace: Workspace, membership: Seat | None, data: MaterialInput, *,
                  file: File | None = None, cover: File | None = None, material_id: int | None = None) -> Material:
    """Create a material (no `material_id`) or change one; every problem reported at once. A
    new file makes WeCom's media ids of the old one stale, so they are dropped."""
    require_edit(membership)
    material = (Material.objects.for_workspace(workspace).select_related("category").get(pk=material_id)
                if material_id is not None else Material(workspace=workspace))
    created = material.pk is None
    before = snapshot(material, AUDITED_FIELDS) if not created else {}
    values, checked_file, checked_cover = _clean(workspace, data, material, file, cover)
    old_files: list[str | None] = []
    for key, value in values.items():
        setattr(material, key, value)
    material.tag_text = "".join(f"|{t}" for t in values["tags"]) + "|" if values["tags"] else ""
    if values["kind"] not in FILE_KINDS and material.file:
        old_files.append(material.file.name)
        material.file, material.file_name, material.file_size = "", "", 0
    if values["kind"] not in COVER_KINDS and material.cover:
        old_files.append(material.cover.name)
        material.cover = ""
    if checked_file is not None:
        if material.file:
            old_files.append(material.file.name)
        material.file.save(f"{uuid.uuid4().hex}.{checked_file.extension}", ContentFile(checked_file.content),
                           save=False)
        material.file_name, material.file_size = checked_file.name, len(checked_file.content)
    if checked_cover is not None:
        if material.cover:
            old_files.append(material.cover.name)
        material.cover.save(f"{uuid.uuid4().hex}.{checked_cover.extension}", ContentFile(checked_cover.content),
                            save=False)
    if created:
        material.created_by = getattr(membership, "user", None)
    with transaction.atomic():
        material.save()
        if checked_file is not None or checked_cover is not None:
            MaterialMedia.objects.for_workspace(workspace).filter(material=material).delete()
        audit_change(workspace, membership, AuditAction.CREATED if created else AuditAction.UPDATED, module=MODULE,
                     subject=gettext_lazy("material"), name=material.title,
                     changes=None if created else model_changes(before, material, AUDITED_FIELDS))
    _delete_after_commit(material.file.storage, old_files)
    return material


def _delete_after_commit(storage: Storage, names: list[str | None]) -> None:
    """Stored files go once the change is committed (a rolled-back change keeps them)."""
    def delete() -> None:
        for name in names:
            if name:
                storage.delete(name)
    if names:
        transaction.on_commit(delete)


def delete_material(workspace: Workspace, membership: Seat | None, material_id: int) -> None:
    require_edit(membership)
    material = Material.objects.for_workspace(workspace).get(pk=material_id)
    names: list[str | None] = [f.name for f in (material.file, material.cover) if f]
    storage = material.file.storage
    with transaction.atomic():
        material.delete()
        audit_change(workspace, membership, AuditAction.DELETION, module=MODULE, subject=gettext_lazy("material"),
                     name=material.title)
    _delete_after_commit(storage, names)


def get_material(workspace: Workspace, membership: Seat | None, material_id: int) -> Material:
    """One of this brand's materials; another brand's id is not found."""
    require_view(membership)
    return Material.objects.for_workspace(workspace).select_related("category").get(pk=material_id)


def _subtree(workspace: Workspace, category_id: int) -> list[int]:
    children: dict[int | None, list[int]] = {}
    for pk, parent in Category.objects.for_workspace(workspace).values_list("pk", "parent_id"):
        children.setdefault(parent, []).append(pk)
    found, todo = [], [category_id]
    while todo:
        current = todo.pop()
        if current in found:
            continue
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def search_materials(workspace: Workspace, membership: Seat | None, *, q: str = "", kind: str = "",
                     category_id: int | None = None, tag: str = "", page: int = 1,
                     page_size: int = PAGE_SIZE) -> Page[Material]:
    """A page of the brand's materials, newest first: `q` in the title, text, description or
    tags; of one kind; in a category or any of its subcategories; with a tag."""
    found = material_query(workspace, membership, q=q, kind=kind, category_id=category_id, tag=tag)
    return Paginator(found, page_size).get_page(page)


def material_query(workspace: Workspace, membership: Seat | None, *, q: str = "", kind: str = "",
                   category_id: int | None = None, tag: str = "") -> QuerySet[Material]:
    """The materials `search_materials` pages through, as a query (the API paginates it)."""
    require_view(membership)
    found = Material.objects.for_workspace(workspace).select_related("category")
    q = (q or "").strip()[:100]
    if q:
        found = found.filter(Q(title__icontains=q) | Q(text__icontains=q) | Q(description__icontains=q)
                             | Q(tag_text__icontains=q))
    if kind:
        found = found.filter(kind=kind)
    if category_id is not None:
        found = found.filter(category_id__in=_subtree(workspace, category_id))
    if tag:
        found = found.filter(tag_text__contains=f"|{tag.strip()}|")
    return found.order_by("-updated_at", "-id")


def all_tags(workspace: Workspace, membership: Seat | None) -> list[str]:
    """Every tag the brand's materials carry, for the filter."""
    require_view(membership)
    tags: set[str] = set()
    for values in Material.objects.for_workspace(workspace).exclude(tag_text="").values_list("tags", flat=True):
        tags.update(values)
    return sorted(tags)


def material_choices(workspace: Workspace, membership: Seat | None) -> list[Material]:
    """Materials to pick as attachments or script steps."""
    require_view(membership)
    return list(Material.objects.for_workspace(workspace).order_by("kind", "title", "pk"))


def material_file(workspace: Workspace, membership: Seat | None, material_id: int,
                  which: str = "file") -> tuple[File, str]:
    """A material's stored file or cover, opened, with its content type."""
    material = get_material(workspace, membership, material_id)
    stored = material.cover if which == "cover" else material.file
    if not stored:
        raise Material.DoesNotExist("no such file")
    extension = (stored.name or "").rsplit(".", 1)[-1]
    return stored.open("rb"), CONTENT_TYPES.get(extension, "application/octet-stream")


def record_sent(workspace: Workspace, material_ids: Iterable[int], times: int = 1) -> int:
    """Count that these materials were sent `times` more times (messaging, SOP, welcome call
    it after a send). Background work: no role, no audit entry. Unknown ids are skipped."""
    ids = sorted({int(i) for i in material_ids})
    if not ids or times <= 0:
        return 0
    return Material.objects.for_workspace(workspace).filter(pk__in=ids).update(sent_count=F("sent_count") + times)
