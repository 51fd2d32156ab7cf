"""临时素材 — media uploaded to the twin: `media/upload` (images, voice, video and files for
messages) and `media/upload_attachment` (moments, WECOM.md §6). A `media_id` lasts
`media_ttl_seconds` (3 days) on the twin's clock; an unknown or expired one answers 40007.
"""

from __future__ import annotations

import email.parser
import email.policy
from dataclasses import dataclass
from typing import Any

from siyu.simulator.params import Body, Query
from siyu.simulator.world import INVALID_MEDIA_ID, INVALID_PARAMETER, ApiError, World

INVALID_MEDIA_TYPE = 40004
INVALID_MEDIA_SIZE = 40006
ATTACHMENT_TYPES = ("image", "video", "file")
# media/upload: the kinds and their size limits in WeCom's documentation (every file > 5 bytes).
UPLOAD_LIMITS = {
    "image": 10 * 1024 * 1024,
    "voice": 2 * 1024 * 1024,
    "video": 10 * 1024 * 1024,
    "file": 20 * 1024 * 1024,
}
MIN_BYTES = 5


@dataclass
class Media:
    media_id: str
    type: str
    size: int
    created_at: float
    filename: str = ""


def _file_part(content: bytes, content_type: str) -> tuple[str, bytes]:
    """The uploaded file of a multipart/form-data body (field `media`), or the whole body."""
    if not content_type.startswith("multipart/"):
        return "", content
    head = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + content)
    for part in message.iter_parts() if message.is_multipart() else []:
        filename = part.get_filename()
        if filename is not None or part.get_param("name", header="content-disposition") == "media":
            payload = part.get_payload(decode=True)
            return filename or "", payload if isinstance(payload, bytes) else b""
    return "", b""


def _store(world: World, media_type: str, filename: str, data: bytes) -> dict[str, Any]:
    now = world.clock.now()
    media = Media(world.new_id("3", 60), media_type, len(data), now, filename)
    world.media[media.media_id] = media
    return {"type": media_type, "media_id": media.media_id, "created_at": str(int(now))}


def upload(world: World, query: Query, body: Body) -> dict[str, Any]:
    """`media/upload?type=image|voice|video|file` (multipart, field `media`)."""
    media_type = query.get("type", "")
    if media_type not in UPLOAD_LIMITS:
        raise ApiError(INVALID_MEDIA_TYPE, "invalid media type")
    filename, data = _file_part(body.get("content") or b"", str(body.get("content_type") or ""))
    if not MIN_BYTES < len(data) <= UPLOAD_LIMITS[media_type]:
        raise ApiError(INVALID_MEDIA_SIZE, "invalid media size")
    return _store(world, media_type, filename, data)


def upload_attachment(world: World, query: Query, body: Body) -> dict[str, Any]:
    """`media/upload_attachment?media_type=&attachment_type=1` for moments (WECOM.md §6)."""
    media_type = query.get("media_type", "")
    if media_type not in ATTACHMENT_TYPES:
        raise ApiError(INVALID_PARAMETER, "invalid media_type")
    content = body.get("content") or b""
    if not content:
        raise ApiError(INVALID_PARAMETER, "empty media")
    return _store(world, media_type, "", content)


def check_media(world: World, media_id: Any, kind: str) -> None:
    """40007 unless `media_id` is a live upload of this kind: WeCom's media last 3 days."""
    media = world.media.get(str(media_id or ""))
    if (
        media is None
        or media.type != kind
        or world.clock.now() > media.created_at + world.config.media_ttl_seconds
    ):
        raise ApiError(INVALID_MEDIA_ID, "invalid media_id")
