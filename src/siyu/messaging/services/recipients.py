"""Which ledger a 群发 keeps its recipients in: customers (`MassRecipient`, sent 1:1 by a staff
account that follows them) or customer groups (`MassGroupRecipient`, sent by each group's owner,
WeCom's `chat_type=group`). Sending, tracking and the budget read the message's table from here,
so one path serves both."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Model, QuerySet

from siyu.messaging.models import (
    MassGroupRecipient,
    MassMessage,
    MassRecipient,
    RecipientKind,
    TargetKind,
)
from siyu.messaging.services.budget import Recipients

CUSTOMER_BATCH = 10_000  # WECOM.md §5: add_msg_template takes <= 10,000 external_userids
GROUP_BATCH = 2_000  # and <= 2,000 chat_ids


@dataclass(frozen=True)
class RecipientTable:
    model: type[Model]
    key: str  # the recipient's id column: its key in the budget ledger
    wire: str  # the lookup of the id WeCom knows it by
    kind: RecipientKind
    chat_type: str  # add_msg_template's chat_type
    batch_size: int

    def rows(self, message: MassMessage) -> QuerySet[Any, Any]:
        return self.model.unscoped.filter(message=message)  # type: ignore[attr-defined]

    def budget(self, ids_or_query: Iterable[int] | QuerySet[Any, Any]) -> Recipients:
        if self.kind == RecipientKind.GROUP:
            return Recipients.groups(ids_or_query)
        return Recipients.customers(ids_or_query)


CUSTOMERS = RecipientTable(MassRecipient, "customer_id", "customer__external_userid", RecipientKind.CUSTOMER,
                           "single", CUSTOMER_BATCH)
GROUPS = RecipientTable(MassGroupRecipient, "group_id", "chat_id", RecipientKind.GROUP, "group", GROUP_BATCH)


def table_of(message: MassMessage) -> RecipientTable:
    return GROUPS if message.target_kind == TargetKind.GROUPS else CUSTOMERS
