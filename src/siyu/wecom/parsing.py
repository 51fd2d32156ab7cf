"""From a decrypted callback's XML to a dedupe key and a typed domain event."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET

from siyu.wecom import events as ev

CONTACT_TYPES: dict[str, type[ev.ContactEvent]] = {
    "add_external_contact": ev.FriendAdded,
    "add_half_external_contact": ev.FriendHalfAdded,
    "edit_external_contact": ev.ContactEdited,
    "del_external_contact": ev.StaffDeletedCustomer,
    "del_follow_user": ev.CustomerDeletedStaff,
    "transfer_fail": ev.TransferFailed,
}


class MalformedCallback(ValueError):
    """The decrypted XML is not a callback we can read."""


@dataclass(frozen=True)
class Callback:
    kind: str  # "Event/ChangeType", e.g. "change_external_contact/add_external_contact"
    fields: dict[str, Any]
    dedupe_key: str


def _fields(root: Element) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for child in root:
        items = [item.text or "" for item in child.findall("Item")]
        fields[child.tag] = (
            items if items or child.tag.endswith("List") else (child.text or "").strip()
        )
    return fields


def read_callback(xml: bytes) -> Callback:
    try:
        root = SafeET.fromstring(xml, forbid_dtd=True)
    except Exception as exc:  # defusedxml raises several types for hostile or broken input
        raise MalformedCallback(f"unreadable XML: {exc}") from exc
    if root.tag != "xml":
        raise MalformedCallback("root element is not <xml>")
    fields = _fields(root)
    event = fields.get("Event") or fields.get("MsgType") or "unknown"
    kind = f"{event}/{fields['ChangeType']}" if fields.get("ChangeType") else str(event)
    return Callback(kind=kind, fields=fields, dedupe_key=dedupe_key(fields, xml))


def dedupe_key(fields: dict[str, Any], xml: bytes) -> str:
    """WECOM.md §2: external-contact events have FromUserName=sys, so the key is built from
    (Event, ChangeType, UserID, ExternalUserID or ChatId or tag Id, CreateTime); group updates
    add the detail and member version, which tell apart two changes in the same second."""
    event = fields.get("Event", "")
    if event in (
        "change_external_contact",
        "change_external_chat",
        "change_external_tag",
    ) and fields.get("CreateTime"):
        subject = fields.get("ExternalUserID") or fields.get("ChatId") or fields.get("Id") or ""
        parts = [
            event,
            fields.get("ChangeType", ""),
            fields.get("UserID", ""),
            subject,
            fields["CreateTime"],
            fields.get("UpdateDetail", ""),
            fields.get("CurMemVer", ""),
        ]
        key = "|".join(str(p) for p in parts)
        if len(key) <= 200:
            return key
    # Anything else: the same delivery carries the same bytes.
    return "sha256|" + hashlib.sha256(xml).hexdigest()


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def to_domain_event(callback: Callback) -> ev.WeComEvent | None:
    """The typed event for a callback, or None for a kind we do not model (kept, shown, not dropped)."""
    f = callback.fields
    created = _int(f.get("CreateTime"))
    if created is None:
        raise MalformedCallback("CreateTime is missing or not a number")
    at = dt.datetime.fromtimestamp(created, tz=dt.UTC)
    event, change = f.get("Event"), f.get("ChangeType", "")
    if event == "change_external_contact" and change in CONTACT_TYPES:
        if not f.get("UserID") or not f.get("ExternalUserID"):
            raise MalformedCallback("UserID and ExternalUserID are required")
        extra = {
            "add_external_contact": {
                "state": f.get("State", ""),
                "welcome_code": f.get("WelcomeCode", ""),
            },
            "add_half_external_contact": {
                "state": f.get("State", ""),
                "welcome_code": f.get("WelcomeCode", ""),
            },
            "del_external_contact": {"source": f.get("Source", "")},
            "transfer_fail": {"fail_reason": f.get("FailReason", "")},
        }.get(change, {})
        return CONTACT_TYPES[change](
            occurred_at=at, staff_userid=f["UserID"], external_userid=f["ExternalUserID"], **extra
        )
    if event == "change_external_chat" and change in ("create", "update", "dismiss"):
        if not f.get("ChatId"):
            raise MalformedCallback("ChatId is required")
        if change == "create":
            return ev.GroupCreated(occurred_at=at, chat_id=f["ChatId"])
        if change == "dismiss":
            return ev.GroupDismissed(occurred_at=at, chat_id=f["ChatId"])
        changes = f.get("MemChangeList") or []
        return ev.GroupUpdated(
            occurred_at=at,
            chat_id=f["ChatId"],
            update_detail=f.get("UpdateDetail", ""),
            join_scene=_int(f.get("JoinScene")),
            quit_scene=_int(f.get("QuitScene")),
            member_change_count=_int(f.get("MemChangeCnt")) or 0,
            member_changes=changes if isinstance(changes, list) else [changes],
            last_member_version=f.get("LastMemVer", ""),
            current_member_version=f.get("CurMemVer", ""),
        )
    if event == "change_external_tag" and change in ("create", "update", "delete", "shuffle"):
        return ev.CorpTagChanged(
            occurred_at=at,
            change_type=change,
            tag_id=f.get("Id", ""),
            tag_type=f.get("TagType", ""),
            strategy_id=f.get("StrategyId", ""),
        )
    return None
