"""Console endpoints of the welcome-message editor (欢迎语编辑器): its pictures, the voice check of
its text and its test send.
The editor itself is part of the channel-code form (`channels/_welcome_editor.html`)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from siyu.channels.forms import AttachmentFormSet
from siyu.channels.models import ChannelCode
from siyu.channels.services import welcome_editor, welcome_templates
from siyu.channels.services.welcome_media import PICTURE_MAX_BYTES
from siyu.core.bounds import parse_id
from siyu.core.uploads import read_upload
from siyu.web import MemberRequest, member_page, private_file


@member_page
@require_GET
def welcome_picture(request: MemberRequest) -> FileResponse:
    """A picture uploaded for a welcome message, private to its brand like persona avatars."""
    handle, content_type = welcome_editor.welcome_picture(request.workspace, request.membership,
                                                          request.GET.get("name", ""))
    return private_file(handle, content_type)


@member_page
@require_POST
def welcome_picture_upload(request: MemberRequest) -> JsonResponse:
    """The editor's picture upload: the stored name and media id for the attachment row, or the
    reasons it was refused (422)."""
    upload = request.FILES.get("file")
    try:
        content = b"" if upload is None else read_upload(upload, max_bytes=PICTURE_MAX_BYTES)
        picture = welcome_editor.upload_welcome_picture(request.workspace, request.membership, content)
    except ValidationError as exc:
        return JsonResponse({"errors": exc.messages}, status=422)
    return JsonResponse({"file": picture.file, "media_id": picture.media_id, "media_at": picture.media_at,
                         "url": picture.url})


def _optional_id(value: str | None) -> int | None:
    return parse_id(value) if value else None


@member_page
@require_POST
def welcome_test_send(request: MemberRequest) -> HttpResponse:
    """The test send, posted by the editor (htmx) with the whole code form: answers the outcome
    as a fragment that replaces the editor's status line."""
    code_id = _optional_id(request.POST.get("welcome_code_id"))
    code_name = (request.POST.get("name") or "").strip()
    if code_id is not None and not code_name:
        code_name = ChannelCode.objects.for_workspace(request.workspace).filter(pk=code_id).values_list(
            "name", flat=True).first() or ""
    attachments = AttachmentFormSet(request.POST, prefix="attachments")
    errors: list[str] = []
    sent = None
    try:
        sent = welcome_editor.send_trial_welcome(
            request.workspace, request.membership,
            recipient_id=_optional_id(request.POST.get("test_recipient")),
            sender_id=_optional_id(request.POST.get("welcome_sender") or request.POST.get("seats-0-account")),
            welfare_id=_optional_id(request.POST.get("welfare")), text=request.POST.get("welcome_text", ""),
            attachments=attachments.to_items() if attachments.is_valid() else None, code_name=code_name)
    except ValidationError as exc:
        errors = exc.messages
    return render(request, "channels/_welcome_test_result.html", {"sent": sent, "errors": errors})


@member_page
@require_POST
def welcome_voice(request: MemberRequest) -> JsonResponse:
    """The voice check of the text as typed, against the sending account's persona (JSON)."""
    report = welcome_templates.welcome_voice(
        request.workspace, request.membership, text=request.POST.get("text", "")[:20_000],
        sender_id=_optional_id(request.POST.get("sender")),
        attachments=parse_id(request.POST.get("attachments") or 0) or 0)
    return JsonResponse(report.as_json())
