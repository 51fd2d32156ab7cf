"""A 群发's progress (counts by state, per sender), its results as a workbook, and the brand's
messaging settings (the receive-limit rule and the reminder ladder)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from siyu.accounts.models import StaffAccount
from siyu.core.auditing import audit, audit_change, model_changes, snapshot
from siyu.core.exports import Sheet, xlsx_bytes
from siyu.core.models import AuditAction, Workspace
from siyu.core.permissions import Action, Seat, require, role_of
from siyu.messaging.models import (
    BatchStatus,
    MassBatch,
    MassGroupRecipient,
    MassMessage,
    MassRecipient,
    MessagingSettings,
    RecipientStatus,
)
from siyu.messaging.services import tally
from siyu.messaging.services.planning import MODULE, require_edit, require_view
from siyu.messaging.services.recipients import GROUPS, table_of

SHANGHAI = ZoneInfo("Asia/Shanghai")
MAX_REMINDERS = 3  # WECOM.md §5: remind_groupmsg_send at most 3 times per message in 24 h
AUDITED_SETTINGS = ("budget_rule", "reminder_minutes")


@dataclass(frozen=True)
class SenderProgress:
    account: StaffAccount
    status: str  # pending (some batch waits), sent, cancelled, failed
    recipients: int
    sent: int
    reminders: int


@dataclass(frozen=True)
class Progress:
    counts: dict[str, int]  # recipient status → how many
    total: int  # everyone planned to be sent it (not the refused)
    done: int  # no longer waiting
    senders: list[SenderProgress]

    @property
    def by_state(self) -> list[tuple[str, Any, int]]:
        """(status, label, how many) for each state someone is in, in the states' order."""
        return [(value, label, self.counts[value]) for value, label in RecipientStatus.choices if self.counts.get(value)]

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else 100


def progress(workspace: Workspace, membership: Seat | None, message: MassMessage) -> Progress:
    require_view(membership)
    counts = tally.counts(message)  # stored: never a count over a million recipient rows
    waiting = counts.get(RecipientStatus.PLANNED, 0) + counts.get(RecipientStatus.PENDING, 0)
    total = sum(counts.values()) - counts.get(RecipientStatus.REFUSED, 0)
    rows = (MassBatch.unscoped.filter(message=message).values("sender_id").order_by("sender_id")
            .annotate(size=Sum("size"), sent=Sum("sent_count"), open=Count("pk", filter=Q(status__in=(
                BatchStatus.NEW, BatchStatus.CREATING, BatchStatus.PENDING))),
                cancelled=Count("pk", filter=Q(status=BatchStatus.CANCELLED)),
                failed=Count("pk", filter=Q(status=BatchStatus.FAILED))))
    reminders: dict[int, int] = {}
    for sender_id, reminded in MassBatch.unscoped.filter(message=message).values_list("sender_id", "reminded_at"):
        reminders[sender_id] = max(reminders.get(sender_id, 0), len(reminded or []))
    accounts = StaffAccount.unscoped.in_bulk([r["sender_id"] for r in rows])
    senders = []
    for r in rows:
        state = ("pending" if r["open"] else "cancelled" if r["cancelled"] else "failed"
                 if r["failed"] and not r["sent"] else "sent")
        senders.append(SenderProgress(accounts[r["sender_id"]], state, r["size"] or 0, r["sent"] or 0,
                                      reminders.get(r["sender_id"], 0)))
    return Progress(counts, total, total - waiting, senders)


def export_results(workspace: Workspace, membership: Seat | None, message: MassMessage) -> bytes:
    """Every recipient's result as .xlsx; the export is audit-logged."""
    require(role_of(membership), MODULE, Action.EXPORT)
    groups = table_of(message) is GROUPS
    rows = (MassGroupRecipient.unscoped.filter(message=message).order_by("group_id")
            .values_list("name", "chat_id", "sender__name", "sender__userid", "status", "sent_at") if groups else
            MassRecipient.unscoped.filter(message=message).order_by("customer_id")
            .values_list("customer__name", "customer__external_userid", "sender__name", "sender__userid",
                         "status", "sent_at"))
    labels = dict(RecipientStatus.choices)

    def lines() -> Iterator[list[Any]]:
        yield ([_("Customer group"), _("Chat ID")] if groups else [_("Customer"), _("External user ID")]) + [
            _("Sender"), _("Sender's WeCom ID"), _("Result"), _("Sent at")]
        for name, external, sender, userid, status, sent_at in rows.iterator(chunk_size=5000):
            when = sent_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if sent_at else ""
            yield [name, external, sender, userid, str(labels.get(status, status)), when]

    data = xlsx_bytes([Sheet(_("Results"), lines(), widths=(20, 32, 16, 20, 24, 18))])
    audit(workspace, membership, AuditAction.EXPORT, message.name, {
        "subject": "mass message results", "name": message.name, "rows": rows.count()}, module=MODULE)
    return data


# --- settings -------------------------------------------------------------------------------------


def get_settings(workspace: Workspace, membership: Seat | None) -> MessagingSettings:
    require_view(membership)
    found = MessagingSettings.objects.for_workspace(workspace).first()
    return found or MessagingSettings(workspace=workspace)


def clean_ladder(minutes: list[Any]) -> list[int]:
    try:
        ladder = [int(m) for m in minutes]
    except (TypeError, ValueError) as exc:
        raise ValidationError({"reminder_minutes": _("Give the reminders as minutes, e.g. 30, 120, 360.")}) from exc
    if len(ladder) > MAX_REMINDERS:
        raise ValidationError({"reminder_minutes": _("WeCom allows at most 3 reminders a day.")})
    if any(not 1 <= m <= 24 * 60 for m in ladder) or ladder != sorted(set(ladder)):
        raise ValidationError({"reminder_minutes": _(
            "Each reminder is 1 to 1,440 minutes after sending, each later than the one before.")})
    return ladder


def update_settings(workspace: Workspace, membership: Seat | None, *, budget_rule: str,
                    reminder_minutes: list[Any]) -> MessagingSettings:
    require_edit(membership)
    from siyu.messaging.models import BudgetRule

    if budget_rule not in BudgetRule.values:
        raise ValidationError({"budget_rule": _("Choose one of the rules.")})
    ladder = clean_ladder(reminder_minutes)
    with transaction.atomic():
        found, _created = MessagingSettings.objects.get_or_create(workspace=workspace)
        before = snapshot(found, AUDITED_SETTINGS)
        found.budget_rule, found.reminder_minutes = budget_rule, ladder
        found.save()
        audit_change(workspace, membership, AuditAction.SETTINGS_CHANGED, module=MODULE,
                     subject=gettext_lazy("mass message settings"), name=str(_("Mass messages")),
                     changes=model_changes(before, found, AUDITED_SETTINGS))
    return found
