"""临时素材 — WeCom media ids for materials. WeCom keeps an uploaded media 3 days and answers
40007 after (WECOM.md §5–6), so an id is uploaded on demand, kept per (material, corp, purpose)
with its expiry, and uploaded again once less than `REFRESH_MARGIN` is left."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from siyu.content.models import Material, MaterialKind, MaterialMedia, MediaPurpose
from siyu.core.models import Workspace
from siyu.wecom.services import NotConnected, client_for, connection_of

MEDIA_TTL = dt.timedelta(days=3)  # WECOM.md §5–6
# Long enough that a message queued now is still sent inside the window (群发 wait for staff
# to confirm for hours), short enough that an id is not re-uploaded on every call.
REFRESH_MARGIN = dt.timedelta(hours=12)

MediaType = Literal["image", "video", "file"]
MESSAGE_TYPES: dict[str, MediaType] = {
    MaterialKind.IMAGE: "image", MaterialKind.POSTER: "image", MaterialKind.VIDEO: "video",
    MaterialKind.FILE: "file", MaterialKind.MINIPROGRAM: "image",  # a mini-program card's cover: pic_media_id
}
# WECOM.md §6: moments take images, a video or a link (a link's cover goes by URL).
MOMENT_TYPES: dict[str, MediaType] = {
    MaterialKind.IMAGE: "image", MaterialKind.POSTER: "image", MaterialKind.VIDEO: "video",
}


def _payload(material: Material) -> tuple[str, bytes]:
    stored = material.cover if material.kind == MaterialKind.MINIPROGRAM else material.file
    if not stored:
        raise ValidationError({"file": _("“%(title)s” has no file to upload.") % {"title": material.title}})
    with stored.open("rb") as handle:
        content = handle.read()
    extension = (stored.name or "").rsplit(".", 1)[-1]
    name = material.file_name if material.kind == MaterialKind.FILE and material.file_name else \
        f"{material.pk}.{extension}"
    return name, content


def media_id_for(workspace: Workspace, material: Material, purpose: str = MediaPurpose.MESSAGE,
                 now: dt.datetime | None = None) -> str:
    """A media_id of `material` in the brand's WeCom corp that is valid for at least
    `REFRESH_MARGIN`: the stored one, or a fresh upload (`media/upload` for messages,
    `media/upload_attachment` for moments). Called by the apps that send (welcome, 群发, SOP,
    moments); it checks no role, as background sends have none.

    Raises `ValidationError` for a material WeCom takes no media of (text, a link), `NotConnected`
    without a connection, and the client's typed `WeComError`s when WeCom refuses."""
    if material.workspace_id != workspace.pk:
        raise Material.DoesNotExist("material of another brand")
    now = now or timezone.now()
    types = MOMENT_TYPES if purpose == MediaPurpose.MOMENT else MESSAGE_TYPES
    if purpose not in MediaPurpose.values or material.kind not in types:
        raise ValidationError({"material": _("WeCom takes no media of “%(title)s” (%(kind)s) for this use.")
                               % {"title": material.title, "kind": MaterialKind(material.kind).label}})
    connection = connection_of(workspace)
    if connection is None:
        raise NotConnected(_("Connect this brand to WeCom first (Settings → WeCom connector)."))
    stored = MaterialMedia.objects.for_workspace(workspace).filter(
        material=material, corp_id=connection.corp_id, purpose=purpose).first()
    if stored is not None and stored.expires_at - REFRESH_MARGIN > now:
        return stored.media_id
    name, content = _payload(material)
    with client_for(workspace) as client:
        if purpose == MediaPurpose.MOMENT:
            uploaded = client.upload_attachment(types[material.kind], name, content)
        else:
            uploaded = client.upload_media(types[material.kind], name, content)
    # The expiry counts from WeCom's own timestamp when it gives one.
    uploaded_at = now
    if uploaded.created_at.isdigit():
        uploaded_at = min(now, dt.datetime.fromtimestamp(int(uploaded.created_at), tz=dt.UTC))
    MaterialMedia.objects.for_workspace(workspace).update_or_create(
        workspace=workspace, material=material, corp_id=connection.corp_id, purpose=purpose,
        defaults={"media_id": uploaded.media_id, "uploaded_at": uploaded_at, "expires_at": uploaded_at + MEDIA_TTL})
    return uploaded.media_id


def forget_media(workspace: Workspace, material: Material) -> int:
    """Drop the stored media ids of a material (e.g. after WeCom refused one as invalid), so
    the next `media_id_for` uploads again."""
    return MaterialMedia.objects.for_workspace(workspace).filter(material=material).delete()[0]
