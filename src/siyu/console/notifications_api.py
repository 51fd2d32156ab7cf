"""The console shell's API: the caller's own notifications (站内通知). Mounted under /api/churn/
(`/api/churn/notifications`, where the first alerts, churn's, were served). Thin: the service is
`siyu.core.notifications`, scoped to the caller's workspace and seat."""

from __future__ import annotations

import datetime as dt

from ninja import Router, Schema
from ninja.pagination import paginate

from siyu.core import notifications
from siyu.web import MemberRequest, NumberedPages

router = Router(tags=["notifications"])


class NotificationOut(Schema):
    id: int
    kind: str
    title: str
    body: str
    url: str
    created_at: dt.datetime
    read_at: dt.datetime | None


class ReadIn(Schema):
    ids: list[int] | None = None  # None: all


class ReadOut(Schema):
    marked: int
    unread: int


@router.get("/notifications", response=list[NotificationOut])
@paginate(NumberedPages, page_size=notifications.PAGE_SIZE)
def my_notifications(request: MemberRequest, unread: bool = False):  # noqa: ANN201
    return notifications.list_for(request.workspace, request.membership, unread_only=unread)


@router.post("/notifications/read", response=ReadOut)
def read_notifications(request: MemberRequest, data: ReadIn) -> dict:
    marked = notifications.mark_read(request.workspace, request.membership, data.ids)
    return {"marked": marked, "unread": notifications.unread_count(request.workspace, request.membership)}
