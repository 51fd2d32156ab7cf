"""Stored progress counters of a 群发 (`MassTally`): how many recipients are in each state.

Every change of a recipient's state goes through `shift` in the transaction that makes it, so
the detail page reads eight rows instead of counting up to a million `MassRecipient` rows on
every refresh. `rewrite` sets them from the ledger when a plan is (re)written.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.db.models import Count, F

from siyu.messaging.models import MassMessage, MassTally, RecipientStatus
from siyu.messaging.services.recipients import table_of


def rewrite(message: MassMessage) -> dict[str, int]:
    """Count the ledger once (after planning) and store a row per state, zeros included, so
    later shifts are plain UPDATEs that never race to create a row."""
    table = table_of(message)
    counts = dict(table.rows(message).values("status").order_by()
                  .annotate(n=Count(table.key)).values_list("status", "n"))
    MassTally.unscoped.filter(message=message).delete()
    MassTally.unscoped.bulk_create([
        MassTally(workspace_id=message.workspace_id, message=message, status=status, count=counts.get(status, 0))
        for status in RecipientStatus.values])
    return counts


def shift(message: MassMessage, moved: Mapping[str, int], to: str) -> None:
    """`moved[status]` recipients left `status` for `to`; call inside the moving transaction."""
    total = 0
    for status, n in moved.items():
        if n and status != to:
            MassTally.unscoped.filter(message=message, status=status).update(count=F("count") - n)
            total += n
    if total:
        MassTally.unscoped.filter(message=message, status=to).update(count=F("count") + total)


def counts(message: MassMessage) -> dict[str, int]:
    """State → how many recipients are in it (states nobody is in are left out)."""
    return {s: n for s, n in MassTally.unscoped.filter(message=message).values_list("status", "count") if n}
