"""What the audit log records of channel codes: the settings people change, named as the form
names them (accounts, tags and the welfare by name, not by id)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop, pgettext_lazy

from siyu.channels.models import ChannelAccount, ChannelCode
from siyu.core.models import Workspace
from siyu.core.services import snapshot, worded
from siyu.tags.models import Tag

CODE_FIELDS = ("name", "touchpoint", "promoter_name", "strategy", "skip_verify", "welcome_text", "welfare",
               "group_chat_id", "group_code_id", "group", "expires_on", "poster_headline")
CODE_LABELS: dict[str, Any] = {
    "name": pgettext_lazy("audit field", "name"),
    "touchpoint": _("touchpoint"),
    "promoter_name": _("promoter"),
    "strategy": _("routing"),
    "skip_verify": _("add without confirmation"),
    "welcome_text": _("welcome message"),
    "welcome_attachments": _("welcome attachments"),
    "welfare": _("add-friend welfare"),
    "auto_tags": _("auto-tags"),
    "group_chat_id": _("group to invite to"),
    "group_code_id": _("group code"),
    "seats": _("staff accounts"),
    "group": pgettext_lazy("channel code", "code group"),
    "expires_on": _("expires after"),
    "poster_headline": _("poster headline"),
}


def _seat_text(seat: ChannelAccount) -> Any:
    name = str(seat.account) + (f" ≤{seat.daily_cap}" if seat.daily_cap else "")
    return worded(gettext_noop("%(account)s (backup)"), account=name) if seat.is_backup else name


def _tag_names(workspace: Workspace, wecom_tag_ids: Iterable[str]) -> list[str]:
    ids = [str(i) for i in wecom_tag_ids or []]
    if not ids:
        return []
    names = dict(Tag.objects.for_workspace(workspace).filter(wecom_tag_id__in=ids).values_list("wecom_tag_id", "name"))
    return [names.get(i, i) for i in ids]


def code_values(workspace: Workspace, code: ChannelCode, seats: Iterable[ChannelAccount] | None = None) -> dict[str, Any]:
    """The code's settings as the audit log compares them. Without `seats`, the saved ones."""
    if seats is None:
        seats = ChannelAccount.objects.for_workspace(workspace).filter(code=code).select_related("account") \
            if code.pk else []
    values = snapshot(code, CODE_FIELDS)
    values["welcome_attachments"] = len(code.welcome_attachments or [])
    values["auto_tags"] = _tag_names(workspace, code.auto_tag_ids)
    values["seats"] = [_seat_text(s) for s in seats]
    return values
