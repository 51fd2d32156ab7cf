"""What a 群发 says: its text and attachments in WeCom's shapes (WECOM.md §5: text <= 4,000
bytes, <= 9 attachments of image media_id, link or mini-program). The content app's templates
will fill these later through `MassMessage.template_ref`."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

TEXT_MAX_BYTES = 4000  # WECOM.md §5
ATTACHMENTS_MAX = 9  # WECOM.md §5
REQUIRED = {"image": ("media_id",), "link": ("title", "url"), "miniprogram": ("title", "pic_media_id", "appid", "page")}
OPTIONAL = {"image": (), "link": ("picurl", "desc"), "miniprogram": ()}
FIELD_MAX_CHARS = 500


def _attachment(raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        return None
    kind = raw.get("msgtype")
    body = raw.get(kind) if isinstance(kind, str) else None
    if kind not in REQUIRED or not isinstance(body, dict):
        return None
    cleaned: dict[str, str] = {}
    for key in REQUIRED[kind] + OPTIONAL[kind]:
        value = body.get(key, "")
        if not isinstance(value, str) or len(value) > FIELD_MAX_CHARS or "\x00" in value:
            return None
        if key in REQUIRED[kind] and not value.strip():
            return None
        if value:
            cleaned[key] = value.strip()
    if kind == "link" and not cleaned["url"].startswith(("https://", "http://")):
        return None
    return {"msgtype": kind, kind: cleaned}


def clean_content(text: str, attachments: list[Any]) -> tuple[str, list[dict[str, Any]]]:
    """The text and attachments as WeCom takes them, or a ValidationError naming what is wrong."""
    errors: dict[str, str] = {}
    text = (text or "").strip()
    if "\x00" in text:
        errors["text"] = _("The text holds a character WeCom cannot send.")
    elif len(text.encode()) > TEXT_MAX_BYTES:
        errors["text"] = _("WeCom takes at most %(n)s bytes of text (a Chinese character is 3 bytes).") % {
            "n": TEXT_MAX_BYTES}
    cleaned = [_attachment(a) for a in attachments or []]
    if len(cleaned) > ATTACHMENTS_MAX:
        errors["attachments"] = _("At most %(n)s attachments.") % {"n": ATTACHMENTS_MAX}
    elif any(a is None for a in cleaned):
        errors["attachments"] = _("An attachment is not an image, a link (title and web address) or a mini-program.")
    if not text and not cleaned and "text" not in errors:
        errors["text"] = _("Write a text or add an attachment.")
    if errors:
        raise ValidationError(errors)
    return text, [a for a in cleaned if a is not None]
