"""Link opens: a link material is sent as a tracked address carrying a signed token; the public
redirect counts the open and sends the reader on. A forged or altered token is not found."""

from __future__ import annotations

from django.core import signing
from django.db.models import F
from django.urls import reverse

from siyu.content.models import Material, MaterialKind
from siyu.core.models import Workspace

SALT = "siyu.content.link-open"


def tracked_path(material: Material) -> str:
    """The path of the tracked address (`/content/o/<token>/`) of a link material."""
    if material.kind != MaterialKind.LINK:
        raise ValueError("only link materials have a tracked address")
    token = signing.dumps([material.workspace_id, material.pk], salt=SALT, compress=True)
    return reverse("content:open", args=[token])


def tracked_url(material: Material, base_url: str) -> str:
    """The tracked address under the console's public base (e.g. `https://scrm.example.com`)."""
    return base_url.rstrip("/") + tracked_path(material)


def open_link(token: str) -> str:
    """Count one open of the link the token names and give its address. Raises
    `Material.DoesNotExist` for a bad, forged or stale token (the material was deleted)."""
    try:
        workspace_id, material_id = signing.loads(token, salt=SALT)
        workspace_id, material_id = int(workspace_id), int(material_id)
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise Material.DoesNotExist("bad token") from exc
    found = Material.unscoped.filter(workspace_id=workspace_id, pk=material_id, kind=MaterialKind.LINK)
    url = found.values_list("url", flat=True).first()
    if not url:
        raise Material.DoesNotExist("no such link")
    found.update(open_count=F("open_count") + 1)
    return url


def opens(workspace: Workspace, material_id: int) -> int:
    return Material.objects.for_workspace(workspace).values_list("open_count", flat=True).get(pk=material_id)
