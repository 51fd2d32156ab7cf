"""Typed domain events the connector publishes from WeCom callbacks (WECOM.md §3, §4).

Every `change_external_contact` ChangeType, every `change_external_chat` kind and
`change_external_tag` has a type here; the rest of the platform never sees WeCom's XML.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from siyu.core.events import DomainEvent


class WeComEvent(DomainEvent):
    occurred_at: dt.datetime


# --- customer contact: Event=change_external_contact ------------------------------------------


class ContactEvent(WeComEvent):
    staff_userid: str
    external_userid: str


class FriendAdded(ContactEvent):
    """add_external_contact: a customer added a staff account (State carries the channel code)."""

    name = "wecom.friend_added"
    state: str = ""
    welcome_code: str = ""


class FriendHalfAdded(ContactEvent):
    """add_half_external_contact: added a skip-verify account, not yet confirmed by staff."""

    name = "wecom.friend_half_added"
    state: str = ""
    welcome_code: str = ""


class ContactEdited(ContactEvent):
    """edit_external_contact: staff edited the customer's remark or tags in the client."""

    name = "wecom.contact_edited"


class StaffDeletedCustomer(ContactEvent):
    """del_external_contact: staff deleted the customer (Source=DELETE_BY_TRANSFER in transfers)."""

    name = "wecom.staff_deleted_customer"
    source: str = ""


class CustomerDeletedStaff(ContactEvent):
    """del_follow_user: the customer deleted the staff account — churn (流失)."""

    name = "wecom.customer_deleted_staff"


class TransferFailReason(StrEnum):
    """Why a transfer failed (transfer_fail FailReason, §3)."""

    CUSTOMER_REFUSED = "customer_refused"
    TAKEOVER_FULL = "customer_limit_exceed"  # the takeover member is over the customer limit


class TransferFailed(ContactEvent):
    """transfer_fail: customer_refused or customer_limit_exceed (a `TransferFailReason`)."""

    name = "wecom.transfer_failed"
    fail_reason: str = ""


# --- customer groups: Event=change_external_chat -------------------------------------------


class GroupCreated(WeComEvent):
    name = "wecom.group_created"
    chat_id: str


class GroupUpdated(WeComEvent):
    """update: UpdateDetail is add_member, del_member, change_owner, change_name or change_notice."""

    name = "wecom.group_updated"
    chat_id: str
    update_detail: str
    join_scene: int | None = None  # 0 invited or link, 3 QR code
    quit_scene: int | None = None  # 0 left, 1 removed
    member_change_count: int = 0
    member_changes: list[str] = []
    last_member_version: str = ""
    current_member_version: str = ""


class GroupDismissed(WeComEvent):
    name = "wecom.group_dismissed"
    chat_id: str


# --- corp tags: Event=change_external_tag --------------------------------------------------


class CorpTagChanged(WeComEvent):
    """create, update, delete (a tag or a tag group) or shuffle (reordered)."""

    name = "wecom.corp_tag_changed"
    change_type: str
    tag_id: str = ""
    tag_type: str = ""  # tag | tag_group
    strategy_id: str = ""
