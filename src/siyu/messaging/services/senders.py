"""群发 on behalf of another app (SOP, fission, community): no console member plans it.

`send_to_customers` plans and confirms a message in one call. The calling app checked its own
roles; the budget is reserved under its `source`; the call is idempotent on (brand, source,
ref), so a job that runs twice (a retry, a second worker) sends once. The message shows in the
console's list with its source, and is audited as the system.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy

from siyu.core.auditing import audit_change, fact
from siyu.core.models import AuditAction, Workspace
from siyu.customers.models import Customer
from siyu.messaging.models import MassMessage, TargetKind
from siyu.messaging.services.budget import Source
from siyu.messaging.services.planning import (
    MODULE,
    NAME_MAX_CHARS,
    SUBJECT,
    GroupTarget,
    MessageInput,
    clean_input,
    create_plan,
)
from siyu.messaging.services.sending import schedule


def _existing(workspace: Workspace, source: str, ref: str) -> MassMessage | None:
    return MassMessage.objects.for_workspace(workspace).filter(source=source, ref=ref).first()


def _ids(workspace: Workspace, customer_ids: Sequence[int] | QuerySet[Any, Any]) -> list[int]:
    if isinstance(customer_ids, QuerySet):  # ids or customers: read once, scoped to the brand
        return list(Customer.objects.for_workspace(workspace).filter(pk__in=customer_ids)
                    .order_by("pk").values_list("pk", flat=True))
    return [int(i) for i in customer_ids]  # an unknown id is refused by `clean_input`


def send_to_customers(workspace: Workspace, *, source: Source | str, ref: str, name: str,
                      customer_ids: Sequence[int] | QuerySet[Any, Any], text: str,
                      attachments: Sequence[dict[str, Any]] = (), send_at: dt.datetime | None = None,
                      now: dt.datetime | None = None) -> MassMessage:
    """Plan and confirm a 群发 to these customers for `source` (e.g. "sop"), at `send_at` or now.

    Returns the message; a second call with the same `ref` returns the first one and sends
    nothing again. Customers over the receive limit are left out (`refused_count`); a bad
    input (no customers, unknown ones, text too long) raises a ValidationError."""
    return _send(workspace, source, ref, now, send_at, lambda at: MessageInput(
        name=name.strip()[:NAME_MAX_CHARS], target_kind=TargetKind.CUSTOMERS,
        customer_ids=_ids(workspace, customer_ids), text=text, attachments=list(attachments), send_at=at))


def send_to_groups(workspace: Workspace, *, source: Source | str, ref: str, name: str,
                   groups: Sequence[GroupTarget], text: str, attachments: Sequence[dict[str, Any]] = (),
                   send_at: dt.datetime | None = None, now: dt.datetime | None = None) -> MassMessage:
    """Plan and confirm a group 群发 (客户群群发) to these groups, each sent by its owner, for
    `source` (e.g. "sop", "community"). Idempotent on `ref` like `send_to_customers`; groups over
    their receive limit are refused, groups whose owner is not an active staff account are left
    out (not planned)."""
    return _send(workspace, source, ref, now, send_at, lambda at: MessageInput(
        name=name.strip()[:NAME_MAX_CHARS], target_kind=TargetKind.GROUPS, groups=list(groups), text=text,
        attachments=list(attachments), send_at=at))


def _send(workspace: Workspace, source: Source | str, ref: str, now: dt.datetime | None,
          send_at: dt.datetime | None, data: Callable[[dt.datetime | None], MessageInput]) -> MassMessage:
    source = Source(source)
    if source == Source.MASS or not ref:
        raise ValueError("a system sender gives its own source and a ref")
    if (found := _existing(workspace, source, ref)) is not None:
        return found
    now = now or timezone.now()
    if send_at is not None and send_at <= now:
        send_at = None  # a time already past means now
    values = clean_input(workspace, data(send_at), now)
    try:
        with transaction.atomic():
            message = create_plan(workspace, values, now, source=source, ref=ref)
            schedule(workspace, message, now)
            audit_change(workspace, None, AuditAction.CREATED, module=MODULE, subject=SUBJECT, name=message.name,
                         facts=[fact(gettext_lazy("source"), source.value),
                                fact(gettext_lazy("recipients"), message.planned_count),
                                fact(gettext_lazy("refused by the limit"), message.refused_count)],
                         data={"message": message.pk, "source": source.value, "ref": ref})
    except IntegrityError:  # another worker made it between our look and our insert
        if (found := _existing(workspace, source, ref)) is None:
            raise
        return found
    return message
