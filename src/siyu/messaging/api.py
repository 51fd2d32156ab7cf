"""群发 API: plan a mass message and see its preview, confirm, remind, cancel, follow its
progress; the brand's receive-limit settings. Thin: the services check roles and input."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import F
from ninja import Router, Schema, Status
from ninja.pagination import paginate

from siyu.messaging import services
from siyu.messaging.models import MassMessage, TargetKind
from siyu.web import MemberRequest, NumberedPages

router = Router(tags=["messaging"])


class MessageIn(Schema):
    name: str
    target_kind: str
    segment_id: int | None = None
    tag_ids: list[int] = []
    customer_ids: list[int] = []
    text: str = ""
    attachments: list[dict[str, Any]] = []
    allow_select: bool = False
    send_at: dt.datetime | None = None
    template_ref: int | None = None  # a content template of context "mass"


class MessageOut(Schema):
    id: int
    name: str
    status: str
    source: str  # "mass" from the console, else the app that sent it (sop, fission, community)
    template_ref: int | None
    target_kind: str
    segment_id: int | None
    text: str
    attachments: list[dict[str, Any]]
    allow_select: bool
    send_at: dt.datetime | None
    planned_count: int
    refused_count: int
    created_at: dt.datetime
    sent_at: dt.datetime | None
    finished_at: dt.datetime | None


class SenderOut(Schema):
    userid: str
    recipients: int
    batches: int


class PreviewOut(Schema):
    targeted: int
    planned: int
    refused: int
    unreachable: int
    limit: int
    period_start: dt.date
    senders: list[SenderOut]


class RefusedOut(Schema):
    customer_id: int | None = None
    external_userid: str = ""
    group_id: int | None = None  # a group 群发: the group refused, and its chat_id
    chat_id: str = ""
    sender_userid: str


class SenderProgressOut(Schema):
    userid: str
    status: str
    recipients: int
    sent: int
    reminders: int


class ProgressOut(Schema):
    counts: dict[str, int]
    total: int
    done: int
    percent: int
    senders: list[SenderProgressOut]


class RescheduleIn(Schema):
    send_at: dt.datetime | None = None


class SettingsIn(Schema):
    budget_rule: str
    reminder_minutes: list[int] = []


class SettingsOut(Schema):
    budget_rule: str
    reminder_minutes: list[int]


class RemindedOut(Schema):
    reminded: int


def _ctx(request: MemberRequest) -> tuple[Any, Any]:
    return request.workspace, request.membership


@router.get("/", response=list[MessageOut])
@paginate(NumberedPages)
def messages(request: MemberRequest) -> Any:
    return services.list_messages(*_ctx(request))


@router.post("/", response={201: MessageOut})
def plan(request: MemberRequest, body: MessageIn) -> Status:
    return Status(201, services.plan_message(*_ctx(request), services.MessageInput(**body.dict())))


@router.get("/settings", response=SettingsOut)
def settings(request: MemberRequest) -> Any:
    return services.get_settings(*_ctx(request))


@router.put("/settings", response=SettingsOut)
def update_settings(request: MemberRequest, body: SettingsIn) -> Any:
    return services.update_settings(*_ctx(request), budget_rule=body.budget_rule,
                                    reminder_minutes=body.reminder_minutes)


@router.get("/{message_id}", response=MessageOut)
def message(request: MemberRequest, message_id: int) -> MassMessage:
    return services.get_message(*_ctx(request), message_id)


@router.get("/{message_id}/preview", response=PreviewOut)
def preview(request: MemberRequest, message_id: int) -> dict[str, Any]:
    found = services.get_message(*_ctx(request), message_id)
    shown = services.summary(*_ctx(request), found)
    return {**shown.__dict__, "senders": [{"userid": s.account.userid, "recipients": s.recipients,
                                           "batches": s.batches} for s in shown.senders]}


@router.get("/{message_id}/refused", response=list[RefusedOut])
@paginate(NumberedPages)
def refused(request: MemberRequest, message_id: int) -> Any:
    found = services.get_message(*_ctx(request), message_id)
    if found.target_kind == TargetKind.GROUPS:
        return (services.refused_rows(*_ctx(request), found).annotate(sender_userid=F("sender__userid"))
                .values("group_id", "chat_id", "sender_userid"))
    return (services.refused_rows(*_ctx(request), found)
            .annotate(external_userid=F("customer__external_userid"), sender_userid=F("sender__userid"))
            .values("customer_id", "external_userid", "sender_userid"))


@router.get("/{message_id}/progress", response=ProgressOut)
def progress(request: MemberRequest, message_id: int) -> dict[str, Any]:
    found = services.get_message(*_ctx(request), message_id)
    shown = services.progress(*_ctx(request), found)
    return {"counts": shown.counts, "total": shown.total, "done": shown.done, "percent": shown.percent,
            "senders": [{"userid": s.account.userid, "status": s.status, "recipients": s.recipients,
                         "sent": s.sent, "reminders": s.reminders} for s in shown.senders]}


@router.post("/{message_id}/reschedule", response=MessageOut)
def reschedule(request: MemberRequest, message_id: int, body: RescheduleIn) -> MassMessage:
    return services.reschedule(*_ctx(request), message_id, body.send_at)


@router.post("/{message_id}/confirm", response=MessageOut)
def confirm(request: MemberRequest, message_id: int) -> MassMessage:
    return services.confirm_message(*_ctx(request), message_id)


@router.post("/{message_id}/remind", response=RemindedOut)
def remind(request: MemberRequest, message_id: int) -> dict[str, int]:
    return {"reminded": services.remind_message(*_ctx(request), message_id)}


@router.post("/{message_id}/cancel", response=MessageOut)
def cancel(request: MemberRequest, message_id: int) -> MassMessage:
    return services.cancel_message(*_ctx(request), message_id)
