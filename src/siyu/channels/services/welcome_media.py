"""Pictures of the welcome message (欢迎语图片): an image attachment or a mini-program cover
uploaded in the editor.

WeCom sends a welcome image by `media_id` (or a `pic_url`) and a mini-program card by
`pic_media_id`, and a media id from `media/upload` lasts only 3 days (WECOM.md §3, §10). So the
picture itself is kept here, private to its brand (`welcome/<brand>/<sha256>.<ext>`), beside the
last media id WeCom gave for it and when (`media_at`); the sender uploads it again once that id
is older than `MEDIA_FRESH_FOR`, and stores the new one on the code.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from siyu.core.models import Workspace
from siyu.wecom.client import WeComClient

# WECOM.md §10, media/upload: an image is JPG or PNG of at most 10 MB, and its id lasts 3 days.
PICTURE_MAX_BYTES = 10 * 1024 * 1024
PICTURE_MAX_SIDE = 8000  # larger pictures are refused before Pillow decodes them
MEDIA_FRESH_FOR = dt.timedelta(days=2)  # a day's margin before WeCom forgets the id
FORMATS = {"JPEG": "jpg", "PNG": "png"}
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png"}
FOLDER = "welcome"
UPLOADED_FILE = re.compile(r"^welcome/(?P<workspace>\d+)/[0-9a-f]{64}\.(?:jpg|png)$")


@dataclass(frozen=True)
class StoredPicture:
    """An uploaded picture as an attachment row keeps it."""

    file: str
    media_id: str
    media_at: str


def check_picture(content: bytes) -> str:
    """The picture's extension (jpg or png) once Pillow has decoded it; a ValidationError on
    `file` with the reason otherwise."""
    if len(content) > PICTURE_MAX_BYTES:
        raise ValidationError({"file": _("The picture is larger than 10 MB, WeCom's limit for images.")})
    not_a_picture = ValidationError({"file": _("This file is not a picture we can read. Upload a JPG or PNG image.")})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content)) as probe:
                image_format, (width, height) = probe.format, probe.size
                if width > PICTURE_MAX_SIDE or height > PICTURE_MAX_SIDE:
                    raise ValidationError({"file": _("The picture is %(w)s×%(h)s pixels; keep each side within "
                                                     "%(max)s pixels.") % {"w": width, "h": height,
                                                                          "max": PICTURE_MAX_SIDE}})
                probe.verify()
            with Image.open(io.BytesIO(content)) as image:
                image.load()  # verify() skips pixel data; a truncated file fails here
    except ValidationError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning,
            OSError, SyntaxError, ValueError) as exc:
        raise not_a_picture from exc
    if image_format not in FORMATS:
        raise ValidationError({"file": _("WeCom sends JPG and PNG pictures; this file is %(format)s.")
                               % {"format": image_format}})
    return FORMATS[image_format]


def store_picture(workspace: Workspace, content: bytes, extension: str) -> str:
    """Keep the picture under a name made of its hash: the same picture is stored once."""
    name = f"{FOLDER}/{workspace.pk}/{hashlib.sha256(content).hexdigest()}.{extension}"
    if not default_storage.exists(name):
        saved = default_storage.save(name, ContentFile(content))
        assert saved == name, saved  # noqa: S101 - a hash name never collides with another picture
    return name


def owned_by(workspace: Workspace, name: str) -> bool:
    """Whether `name` is a picture stored for this brand (not another's, not a path outside)."""
    match = UPLOADED_FILE.match(name)
    return bool(match and int(match["workspace"]) == workspace.pk and default_storage.exists(name))


def picture_file(workspace: Workspace, name: str) -> tuple[File, str]:
    """A stored welcome picture of this brand, opened, and its content type; another brand's
    picture or a made-up name is simply not found."""
    if not owned_by(workspace, name):
        raise ObjectDoesNotExist(name)
    return default_storage.open(name, "rb"), CONTENT_TYPES[name.rsplit(".", 1)[-1]]


def file_problems(workspace: Workspace, attachments: Sequence[Any]) -> list[str]:
    """Attachments naming a picture this brand does not have (the shapes are checked by
    `validate_welcome`)."""
    problems = []
    for number, item in enumerate(attachments, start=1):
        name = item.get("file") if isinstance(item, dict) else None
        if isinstance(name, str) and name and not owned_by(workspace, name):
            problems.append(_("Attachment %(n)s: %(problem)s") % {
                "n": number, "problem": _("the picture is not one uploaded here; upload it again.")})
    return problems


# The ids had in this process, so the welcome lane's threads upload a stale picture once.
_uploaded: dict[tuple[int, str], tuple[str, dt.datetime]] = {}
_upload_lock = threading.Lock()


def _media_key(item: dict[str, Any]) -> str:
    return "pic_media_id" if item.get("type") == "miniprogram" else "media_id"


def _fresh(at: str, now: dt.datetime) -> bool:
    when = parse_datetime(at) if at else None
    return when is not None and now - when < MEDIA_FRESH_FOR


def upload_picture(workspace: Workspace, client: WeComClient, name: str, now: dt.datetime | None = None
                   ) -> StoredPicture:
    """Upload a stored picture to WeCom (`media/upload`, image) for a new media id."""
    now = now or timezone.now()
    with default_storage.open(name, "rb") as handle:
        content = handle.read()
    media = client.upload_media("image", name.rsplit("/", 1)[-1], content)
    return StoredPicture(name, media.media_id, now.isoformat())


def fresh_media(workspace: Workspace, client: WeComClient, items: Sequence[dict[str, Any]],
                now: dt.datetime | None = None) -> tuple[list[dict[str, Any]], bool]:
    """The attachments with every uploaded picture's media id younger than `MEDIA_FRESH_FOR`,
    uploading again those that are not; and whether any changed (to store on the code).
    WeCom's errors propagate: the caller decides what a failed upload means."""
    now = now or timezone.now()
    out: list[dict[str, Any]] = []
    changed = False
    for item in items:
        name = item.get("file") or ""
        key = _media_key(item)
        if not name or (item.get(key) and _fresh(str(item.get("media_at") or ""), now)):
            out.append(dict(item))
            continue
        with _upload_lock:
            cached = _uploaded.get((workspace.pk, name))
            if cached is None or now - cached[1] >= MEDIA_FRESH_FOR:
                picture = upload_picture(workspace, client, name, now)
                cached = (picture.media_id, now)
                _uploaded[(workspace.pk, name)] = cached
        out.append({**item, key: cached[0], "media_at": cached[1].isoformat()})
        changed = True
    return out, changed
