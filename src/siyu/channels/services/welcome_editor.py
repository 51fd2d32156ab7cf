"""The welcome-message editor (欢迎语编辑器) of a channel code: what its live preview needs,
pictures uploaded for its attachments, and a test send to a staff member's phone.

A test send goes out as WeCom application messages (`message/send`, 应用消息, WECOM.md §10)
from the brand's connected app, since a welcome message itself can only answer a real add
(`send_welcome_msg` takes the add's one-time welcome code, §3). The text comes with its
variables filled with sample values, cut into pieces of at most 2,048 bytes (longer notice text
is cut by WeCom); uploaded images follow as image messages and links as text cards.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files import File
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from siyu.accounts.models import StaffAccount
from siyu.channels.models import MAX_ATTACHMENTS, ChannelAccount, ChannelCode, Welfare, WelfareKind
from siyu.channels.services import welcome_media
from siyu.channels.services.welcome import (
    MAX_TEXT_BYTES,
    VARIABLES,
    render_welcome,
    validate_welcome,
)
from siyu.channels.services.welcome_templates import TemplateOption, template_options
from siyu.core.models import AuditAction, Membership, Workspace
from siyu.core.permissions import Action, Module, allows, require, role_of
from siyu.core.services import audit_change, fact
from siyu.wecom.client import NoticeCard, StaffNoticeSpec, WeComError, WeComUnavailable
from siyu.wecom.services import NotConnected, client_for

NOTICE_MAX_BYTES = 2048  # WECOM.md §10: message/send text content <= 2048 bytes; WeCom cuts the rest
CARD_TITLE_MAX_BYTES = 128  # WECOM.md §10: textcard title <= 128 bytes, description <= 512 bytes
CARD_DESCRIPTION_MAX_BYTES = 512
SAMPLE_COUPON = "WELCOME-8888"

VARIABLE_LABELS = {
    "customer_nickname": gettext_lazy("Customer nickname"),
    "persona_name": gettext_lazy("Persona name"),
    "staff_name": gettext_lazy("Staff name"),
    "welfare": gettext_lazy("Welfare"),
}


# --- what the preview needs ----------------------------------------------------------------------

@dataclass(frozen=True)
class Sender:
    """The account a new friend's welcome comes from, as the preview's chat shows it."""

    account_id: int
    staff_name: str
    persona_name: str
    avatar_url: str


@dataclass(frozen=True)
class EditorData:
    """Everything the editor's script needs, handed to it as JSON (`as_json`)."""

    senders: list[Sender]
    default_sender: int | None
    welfare_samples: dict[int, str]
    recipients: list[StaffAccount]
    default_recipient: int | None
    can_send: bool
    variables: list[tuple[str, str]] = field(default_factory=list)
    templates: list[TemplateOption] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "maxBytes": MAX_TEXT_BYTES, "maxAttachments": MAX_ATTACHMENTS,
            "variables": [{"name": name, "label": label} for name, label in self.variables],
            "sampleNickname": sample_nickname(),
            "senders": {str(s.account_id): {"staff": s.staff_name, "persona": s.persona_name, "avatar": s.avatar_url}
                        for s in self.senders},
            "defaultSender": self.default_sender,
            "welfare": {str(pk): text for pk, text in self.welfare_samples.items()},
            "pictureUrl": reverse("channels:welcome_picture"),
            "voiceUrl": reverse("channels:welcome_voice"),
            "templates": {str(t.template_id): t.as_json() for t in self.templates},
            "words": {
                "bytes": _("bytes"), "attachments": _("attachments"), "webImage": _("Web picture"),
                "noPicture": _("No picture yet"), "miniprogram": _("Mini-program"), "uploading": _("Uploading…"),
                "uploaded": _("Picture uploaded."), "failed": _("Upload failed"), "cover": _("Cover"),
                "voiceOf": _("Voice of %(persona)s"), "noPersona": _("No persona: WeCom's limits only"),
                "toneMarkers": _("Tone markers"), "forbiddenWords": _("Forbidden words"),
                "voiceFine": _("Fits the persona's voice and WeCom's limits."),
                "unfillable": _("A welcome cannot fill %(names)s: replace it before saving."),
                "materials": _("The template's %(n)s attachments are not copied: add them below."),
                "filled": _("Filled from the template “%(name)s”."),
            },
        }


def sample_nickname() -> str:
    return _("Wang Xiaoyu")


def welfare_sample(welfare: Welfare | None) -> str:
    """What `{welfare}` becomes for this offer, with a made-up coupon code."""
    if welfare is None:
        return ""
    if welfare.kind == WelfareKind.COUPON:
        return f"{welfare.description} {SAMPLE_COUPON}".strip()
    return " ".join(p for p in (welfare.description or welfare.name, welfare.link_url) if p)


def _sender(account: StaffAccount, show_avatar: bool) -> Sender:
    persona = account.persona
    avatar = ""
    if persona is not None and persona.avatar.name and show_avatar:
        avatar = reverse("ip:avatar", args=[persona.pk])
    return Sender(account.pk, account.name or account.userid, persona.name if persona else "", avatar)


def editor_data(workspace: Workspace, membership: Membership | None, code: ChannelCode | None) -> EditorData:
    """The senders the preview may show (each account with its persona and avatar; the code's
    first regular seat by default), each welfare's sample, and who may get a test send (the
    member's own account first), and the brand's welcome templates to start from (one more)."""
    role = role_of(membership)
    require(role, Module.CHANNELS, Action.VIEW)
    assert role is not None  # noqa: S101 - require refused None
    accounts = list(StaffAccount.objects.for_workspace(workspace).filter(active=True).select_related("persona"))
    show_avatar = allows(role, Module.IP, Action.VIEW)  # avatars are served by the IP studio
    default_sender = None
    if code is not None:
        default_sender = (ChannelAccount.objects.for_workspace(workspace).filter(code=code, is_backup=False)
                          .order_by("pk").values_list("account_id", flat=True).first())
    if default_sender is None and accounts:
        default_sender = accounts[0].pk
    own = next((a.pk for a in accounts if membership is not None and a.operator_id == membership.pk), None)
    return EditorData(
        senders=[_sender(a, show_avatar) for a in accounts], default_sender=default_sender,
        welfare_samples={w.pk: welfare_sample(w) for w in Welfare.objects.for_workspace(workspace).filter(active=True)},
        recipients=accounts, default_recipient=own or default_sender,
        can_send=allows(role, Module.CHANNELS, Action.EDIT),
        variables=[(name, str(VARIABLE_LABELS[name])) for name in VARIABLES],
        templates=template_options(workspace, membership),
    )


# --- pictures ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class UploadedPicture:
    file: str
    media_id: str
    media_at: str
    url: str


def upload_welcome_picture(workspace: Workspace, membership: Membership | None, content: bytes) -> UploadedPicture:
    """Keep a picture for a welcome attachment and get WeCom's media id for it at once, so a
    picture WeCom will not take is refused now rather than at a customer's add. A brand not yet
    connected keeps the picture; the sender uploads it when it first sends."""
    require(role_of(membership), Module.CHANNELS, Action.EDIT)
    extension = welcome_media.check_picture(content)
    name = welcome_media.store_picture(workspace, content, extension)
    media_id = media_at = ""
    try:
        with client_for(workspace) as client:
            stored = welcome_media.upload_picture(workspace, client, name)
            media_id, media_at = stored.media_id, stored.media_at
    except NotConnected:
        pass
    except WeComError as exc:
        raise ValidationError({"file": _("WeCom refused the picture (error %(errcode)s: %(errmsg)s).")
                               % {"errcode": exc.errcode, "errmsg": exc.errmsg}}) from exc
    return UploadedPicture(name, media_id, media_at, picture_url(name))


def picture_url(name: str) -> str:
    return f"{reverse('channels:welcome_picture')}?name={name}"


def welcome_picture(workspace: Workspace, membership: Membership | None, name: str) -> tuple[File, str]:
    """A picture uploaded for this brand's welcome messages, for the editor's preview."""
    require(role_of(membership), Module.CHANNELS, Action.VIEW)
    return welcome_media.picture_file(workspace, name)


# --- the test send ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class TrialSent:
    """A test send that WeCom took: to whom, the text as filled, how many messages."""

    recipient: StaffAccount
    text: str
    messages: int


def _pieces(text: str, max_bytes: int) -> list[str]:
    """The text in pieces of at most `max_bytes` UTF-8 bytes, cut between characters."""
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for char in text:
        width = len(char.encode("utf-8"))
        if size + width > max_bytes:
            pieces.append("".join(current))
            current, size = [], 0
        current.append(char)
        size += width
    if current:
        pieces.append("".join(current))
    return pieces


def _cut(text: str, max_bytes: int) -> str:
    return text.encode("utf-8")[:max_bytes].decode("utf-8", errors="ignore")


def _attachment_line(number: int, item: dict[str, Any]) -> str:
    kind = item.get("type")
    if kind == "image":
        return _("Attachment %(n)s: image") % {"n": number}
    if kind == "link":
        return _("Attachment %(n)s: link “%(title)s” %(url)s") % {"n": number, "title": item.get("title", ""),
                                                                  "url": item.get("url", "")}
    if kind == "miniprogram":
        return _("Attachment %(n)s: mini-program “%(title)s” (%(appid)s, %(page)s)") % {
            "n": number, "title": item.get("title", ""), "appid": item.get("appid", ""), "page": item.get("page", "")}
    return _("Attachment %(n)s: %(kind)s") % {"n": number, "kind": kind}


def send_trial_welcome(workspace: Workspace, membership: Membership | None, *, recipient_id: int | None,
                       text: str, attachments: Sequence[dict[str, Any]] | None, sender_id: int | None = None,
                       welfare_id: int | None = None, code_name: str = "") -> TrialSent:
    """Send the welcome message as written in the editor (saved or not) to a staff member as
    WeCom application messages, its variables filled with sample values: the nickname made
    up, the persona and staff name of the sending account (`sender_id`, else the recipient's),
    the welfare's description with a sample coupon code. Refused, with the reason on its field,
    when the message is not one the code could save, the recipient is not an active account of
    this brand, the brand is not connected, or WeCom refuses. `attachments` is None when the
    page's attachment rows could not be read."""
    require(role_of(membership), Module.CHANNELS, Action.EDIT)
    if attachments is None:
        raise ValidationError({"welcome_attachments": [_("The attachments could not be read; reload the page.")]})
    text = (text or "").strip()
    attachments = list(attachments)
    errors: dict[str, list[str]] = {}
    for key, found in (("welcome_text", validate_welcome(text, [])),
                       ("welcome_attachments", validate_welcome("", attachments, workspace))):
        if found:
            errors[key] = [str(m) for m in found]
    if not text and not attachments and not errors:
        errors["welcome_text"] = [_("Write the welcome message or add an attachment first.")]
    accounts = StaffAccount.objects.for_workspace(workspace).filter(active=True).select_related("persona")
    recipient = accounts.filter(pk=recipient_id).first() if recipient_id is not None else None
    if recipient is None:
        errors["recipient"] = [_("Choose one of this brand's staff accounts to send the test to.")]
    if errors:
        raise ValidationError(errors)
    assert recipient is not None  # noqa: S101 - refused above
    sender = (accounts.filter(pk=sender_id).first() if sender_id is not None else None) or recipient
    welfare = Welfare.objects.for_workspace(workspace).filter(pk=welfare_id).first() if welfare_id else None
    filled = render_welcome(text, {
        "customer_nickname": sample_nickname(), "persona_name": sender.persona.name if sender.persona else "",
        "staff_name": sender.name or sender.userid, "welfare": welfare_sample(welfare)})
    heading = _("[Welcome message test] %(name)s") % {"name": code_name or _("new channel code")}
    lines = [heading, filled, *(_attachment_line(n, item) for n, item in enumerate(attachments, start=1))]
    notices = [StaffNoticeSpec(touser=[recipient.userid], content=piece)
               for piece in _pieces("\n\n".join(line for line in lines if line), NOTICE_MAX_BYTES)]
    try:
        with client_for(workspace) as client:
            fresh, _changed = welcome_media.fresh_media(workspace, client, attachments)
            for item in fresh:
                if item.get("type") == "image" and item.get("media_id"):
                    notices.append(StaffNoticeSpec(touser=[recipient.userid], msgtype="image", media_id=item["media_id"]))
                elif item.get("type") == "link":
                    notices.append(StaffNoticeSpec(touser=[recipient.userid], msgtype="textcard", textcard=NoticeCard(
                        title=_cut(item["title"], CARD_TITLE_MAX_BYTES),
                        description=_cut(item.get("desc") or item["url"], CARD_DESCRIPTION_MAX_BYTES),
                        url=item["url"])))
            for notice in notices:
                answer = client.send_notice(notice)
                if recipient.userid.lower() in answer.invalid_users:
                    raise ValidationError({"recipient": [
                        _("WeCom does not know %(name)s (%(userid)s) as a member any more; sync the accounts.")
                        % {"name": recipient.name or recipient.userid, "userid": recipient.userid}]})
    except NotConnected as exc:
        raise ValidationError(str(exc)) from exc
    except WeComUnavailable as exc:
        raise ValidationError(_("No answer from WeCom (%(error)s); try the test again.")
                              % {"error": exc.errmsg[:120]}) from exc
    except WeComError as exc:
        raise ValidationError(_("WeCom refused the test message (error %(errcode)s: %(errmsg)s).")
                              % {"errcode": exc.errcode, "errmsg": exc.errmsg}) from exc
    audit_change(workspace, membership, AuditAction.CREATED, module="channels",
                 subject=gettext_lazy("welcome message test"), name=code_name or str(_("new channel code")),
                 facts=[fact(gettext_lazy("sent to"), f"{recipient.name or recipient.userid} ({recipient.userid})"),
                        fact(gettext_lazy("text"), filled),
                        fact(gettext_lazy("attachments"), len(attachments))])
    return TrialSent(recipient, filled, len(notices))
