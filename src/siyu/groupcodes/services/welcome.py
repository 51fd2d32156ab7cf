"""入群欢迎语 — a group code's welcome, kept as a WeCom group welcome template
(`group_welcome_template/add|edit|del`, WECOM.md §10): text plus at most one of an image, a link
or a mini-program. WeCom sends it to whoever joins a group whose owner picked the template in
their client; `notify` tells the owners when it changes.

An image is sent by its web address (`pic_url`); a mini-program's cover must be an uploaded image
(`pic_media_id`), so its address is downloaded and uploaded when the template is saved.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from siyu.groupcodes.models import GroupCode, WelcomeKind
from siyu.wecom.client import (
    DownloadFailed,
    GroupWelcome,
    GroupWelcomeMissing,
    WeComClient,
    download,
)

MAX_TEXT_BYTES = 4000  # WECOM.md §10: text.content <= 4000 bytes, as for other welcomes
MAX_COVER_BYTES = 2 * 1024 * 1024  # WeCom's image limit for media/upload
FIELDS: dict[str, tuple[tuple[str, bool], ...]] = {  # kind -> (field, required)
    WelcomeKind.IMAGE: (("pic_url", True),),
    WelcomeKind.LINK: (("title", True), ("url", True), ("picurl", False), ("desc", False)),
    WelcomeKind.MINIPROGRAM: (("title", True), ("appid", True), ("page", True), ("pic_url", True)),
}
URL_FIELDS = ("pic_url", "url", "picurl")
MAX_FIELD_CHARS = {"title": 64, "desc": 128, "appid": 32, "page": 200}


@dataclass
class WelcomeInput:
    text: str = ""
    kind: str = WelcomeKind.NONE
    attachment: dict[str, str] = field(default_factory=dict)
    notify: bool = True

    @property
    def empty(self) -> bool:
        return not self.text.strip() and not self.kind


def welcome_errors(data: WelcomeInput) -> dict[str, list[str]]:
    """Every problem with the welcome, on its field: `welcome_text`, `welcome_kind` or
    `welcome_<field>` of the attachment."""
    errors: dict[str, list[str]] = {}
    if len(data.text.encode("utf-8")) > MAX_TEXT_BYTES:
        errors["welcome_text"] = [_("The welcome text is at most %(n)d bytes (about 1,300 Chinese characters).")
                                  % {"n": MAX_TEXT_BYTES}]
    if data.kind not in WelcomeKind.values:
        errors["welcome_kind"] = [_("Choose text only, an image, a link or a mini-program.")]
        return errors
    for name, needed in FIELDS.get(data.kind, ()):
        value = data.attachment.get(name, "").strip()
        if needed and not value:
            errors[f"welcome_{name}"] = [_("Required for this attachment.")]
        elif value and name in URL_FIELDS and urlsplit(value).scheme not in ("http", "https"):
            errors[f"welcome_{name}"] = [_("Enter a web address starting with http:// or https://.")]
        elif len(value) > MAX_FIELD_CHARS.get(name, 500):
            errors[f"welcome_{name}"] = [_("At most %(n)d characters.") % {"n": MAX_FIELD_CHARS.get(name, 500)}]
    return errors


def clean_attachment(kind: str, attachment: dict[str, str]) -> dict[str, str]:
    """Only the kind's own fields, trimmed, without empty ones."""
    return {name: attachment[name].strip() for name, _needed in FIELDS.get(kind, ())
            if attachment.get(name, "").strip()}


def _cover_media_id(client: WeComClient, url: str) -> str:
    try:
        body = download(url, max_bytes=MAX_COVER_BYTES, timeout_seconds=10.0, max_redirects=3)
    except DownloadFailed as exc:
        raise ValidationError({"welcome_pic_url": [_("The cover image could not be fetched (%(why)s).")
                                                   % {"why": exc.problem}]}) from exc
    return client.upload_media("image", "cover.png", body).media_id


def template_of(client: WeComClient, code: GroupCode) -> GroupWelcome:
    """The code's welcome in WeCom's shape."""
    a = code.welcome_attachment
    template = GroupWelcome(text={"content": code.welcome_text} if code.welcome_text else None,
                            notify=1 if code.welcome_notify else 0)
    if code.welcome_kind == WelcomeKind.IMAGE:
        template.image = {"pic_url": a["pic_url"]}
    elif code.welcome_kind == WelcomeKind.LINK:
        template.link = {k: a[k] for k in ("title", "url", "picurl", "desc") if a.get(k)}
    elif code.welcome_kind == WelcomeKind.MINIPROGRAM:
        template.miniprogram = {"title": a["title"], "appid": a["appid"], "page": a["page"],
                                "pic_media_id": _cover_media_id(client, a["pic_url"])}
    return template


def sync_template(client: WeComClient, code: GroupCode) -> str:
    """Make WeCom's template match the code's welcome and return its template_id ("" when the code
    has no welcome: the template goes). A template deleted outside Siyu is made again."""
    if not code.welcome_text.strip() and not code.welcome_kind:
        if code.welcome_template_id:
            drop_template(client, code.welcome_template_id)
        return ""
    template = template_of(client, code)
    if code.welcome_template_id:
        try:
            client.edit_group_welcome(code.welcome_template_id, template)
            return code.welcome_template_id
        except GroupWelcomeMissing:
            pass
    return client.add_group_welcome(template)


def drop_template(client: WeComClient, template_id: str) -> None:
    with contextlib.suppress(GroupWelcomeMissing):  # already gone at WeCom
        client.delete_group_welcome(template_id)
