"""Planning a 群发: whom it reaches, through which staff account, in which WeCom batch, and who the
receive limit refuses — written as one `MassRecipient` row per customer with set-based SQL.

The sender of each customer: the staff account that follows them, picked deterministically when
several do — the persona account (an account with a persona) whose follow came through one of the
brand's channel codes (the channel that brought them), else the earliest follow; ties by follow id.
Lost or deleted follows and accounts that left the corp never send.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db import connection, transaction
from django.db.models import Count, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from siyu.accounts.models import StaffAccount
from siyu.channels.models import ChannelCode
from siyu.core.auditing import audit_change, change, fact
from siyu.core.models import AuditAction, Workspace
from siyu.core.permissions import Action, Seat, require, role_of
from siyu.customers.models import Customer, FollowRelation
from siyu.messaging.models import (
    MassBatch,
    MassGroupRecipient,
    MassMessage,
    MassRecipient,
    MassStatus,
    ReceiveCount,
    RecipientKind,
    RecipientStatus,
    TargetKind,
)
from siyu.messaging.services import budget, tally
from siyu.messaging.services.content import clean_content
from siyu.messaging.services.recipients import GROUPS, table_of
from siyu.messaging.services.templates import template_problems
from siyu.segments.models import Segment
from siyu.segments.services import segment_members
from siyu.tags.models import CustomerTag, Tag

MODULE = "messaging"
BATCH_SIZE = 10_000  # WECOM.md §5: add_msg_template takes <= 10,000 external_userids
NAME_MAX_CHARS = 60
REFUSED_PAGE_SIZE = 50
SCHEDULE_AHEAD = dt.timedelta(days=90)
SUBJECT = gettext_lazy("mass message")


@dataclass(frozen=True)
class GroupTarget:
    """A customer group (客户群) to send to, as the community app knows it: its key, its WeCom
    chat_id, its owner's staff account (the sender; None when unknown) and its name."""

    group_id: int
    chat_id: str
    owner_id: int | None
    name: str = ""


@dataclass
class MessageInput:
    name: str
    target_kind: str
    segment_id: int | None = None
    tag_ids: list[int] = field(default_factory=list)  # Siyu tag ids; grouped by tag group
    customer_ids: list[int] = field(default_factory=list)
    groups: list[GroupTarget] = field(default_factory=list)  # target_kind "groups": given by the caller
    text: str = ""
    attachments: list[dict[str, Any]] = field(default_factory=list)
    allow_select: bool = False
    send_at: dt.datetime | None = None
    template_ref: int | None = None


@dataclass(frozen=True)
class SenderPlan:
    account: StaffAccount
    recipients: int
    batches: int


@dataclass(frozen=True)
class PlanSummary:
    targeted: int  # customers the target selects
    planned: int  # who will be sent it
    refused: int  # refused by the receive limit
    unreachable: int  # no active follow of an active account
    limit: int
    period_start: dt.date
    senders: list[SenderPlan]


def require_edit(membership: Seat | None) -> None:
    require(role_of(membership), MODULE, Action.EDIT)


def require_view(membership: Seat | None) -> None:
    require(role_of(membership), MODULE, Action.VIEW)


# --- the target ----------------------------------------------------------------------------------


def tag_filter_of(workspace: Workspace, tag_ids: list[int]) -> list[list[int]]:
    """Tag ids grouped by tag group: WeCom's `tag_filter` (OR within a group, AND across groups)."""
    tags = Tag.objects.for_workspace(workspace).filter(pk__in=tag_ids, deleted_at__isnull=True)
    groups: dict[int, list[int]] = {}
    for tag_id, group_id in tags.order_by("group__order", "group_id", "order", "pk").values_list("pk", "group_id"):
        groups.setdefault(group_id, []).append(tag_id)
    return list(groups.values())


def target_query(workspace: Workspace, message: MassMessage) -> QuerySet[Any, Any]:
    """The targeted customers' ids, as a subquery (never loaded into Python)."""
    if message.target_kind == TargetKind.SEGMENT:
        if message.segment is None:
            return Customer.objects.for_workspace(workspace).none().values("pk")
        return segment_members(workspace, message.segment).values("customer_id")
    customers = Customer.objects.for_workspace(workspace)
    if message.target_kind == TargetKind.TAGS:
        for group in message.tag_filter:
            links = CustomerTag.objects.for_workspace(workspace).filter(tag_id__in=group)
            customers = customers.filter(pk__in=links.values("customer_id"))
        return customers.values("pk")
    if message.target_kind == TargetKind.CUSTOMERS:
        return customers.filter(pk__in=message.customer_ids).values("pk")
    return customers.none().values("pk")


def bulk_work_memory(cursor: Any) -> None:
    """PostgreSQL: sort a million rows in memory rather than on disk, for this transaction only."""
    if connection.vendor == "postgresql":
        cursor.execute("SET LOCAL work_mem = '256MB'")


def _sql_of(query: QuerySet[Any, Any]) -> tuple[str, list[Any]]:
    query = query.order_by()
    sql, params = query.query.get_compiler(using=query.db).as_sql()
    return sql, list(params)


def _write_group_plan(workspace: Workspace, message: MassMessage, at: dt.datetime) -> None:
    """Replace a group 群发's ledger: one row per group whose owner is an active staff account
    (the sender, WeCom's rule for group messages), batched per owner (<= 2,000 chats each, in
    group order), planned or refused by the group's own receive limit (WECOM.md §5)."""
    targets = [GroupTarget(int(g), str(c), int(o) if o is not None else None, str(n))
               for g, c, o, n in message.group_targets]
    active = set(StaffAccount.objects.for_workspace(workspace).filter(
        pk__in={t.owner_id for t in targets if t.owner_id is not None}, active=True).values_list("pk", flat=True))
    reachable = sorted((t for t in targets if t.owner_id in active), key=lambda t: (t.owner_id or 0, t.group_id))
    refused = budget.preview(workspace, GROUPS.budget([t.group_id for t in reachable]), at).refused
    rows: list[MassGroupRecipient] = []
    counters: dict[int, int] = {}
    planned, refused_status = RecipientStatus.PLANNED, RecipientStatus.REFUSED
    for target in reachable:
        assert target.owner_id is not None  # reachable: its owner is an active account
        if target.group_id in refused:
            number, status = -1, refused_status
        else:
            n = counters.get(target.owner_id, 0)
            counters[target.owner_id] = n + 1
            number, status = n // GROUPS.batch_size, planned
        rows.append(MassGroupRecipient(workspace=workspace, message=message, group_id=target.group_id,
                                       chat_id=target.chat_id, name=target.name[:200], sender_id=target.owner_id,
                                       batch_number=number, status=status))
    with transaction.atomic():
        MassBatch.unscoped.filter(message=message).delete()
        MassGroupRecipient.unscoped.filter(message=message).delete()
        MassGroupRecipient.unscoped.bulk_create(rows, batch_size=2000)
        sizes: dict[tuple[int, int], int] = {}
        for row in rows:
            if row.status == planned:
                sizes[(row.sender_id, row.batch_number)] = sizes.get((row.sender_id, row.batch_number), 0) + 1
        MassBatch.unscoped.bulk_create([MassBatch(workspace=workspace, message=message, sender_id=sender, number=number,
                                                  size=size) for (sender, number), size in sorted(sizes.items())])
        totals = tally.rewrite(message)
        message.planned_count = totals.get(planned, 0)
        message.refused_count = totals.get(refused_status, 0)
        message.save(update_fields=["planned_count", "refused_count"])


def _write_plan(workspace: Workspace, message: MassMessage, at: dt.datetime) -> None:
    """Replace the message's ledger: one row per reachable customer with its sender, its batch
    (per sender, <= BATCH_SIZE in customer order) and planned or refused by the receive limit."""
    if message.target_kind == TargetKind.GROUPS:
        _write_group_plan(workspace, message, at)
        return
    period = budget.period_of(budget.rule_of(workspace), at)
    target_sql, target_params = _sql_of(target_query(workspace, message))
    follows, accounts = FollowRelation._meta.db_table, StaffAccount._meta.db_table
    codes, counts = ChannelCode._meta.db_table, ReceiveCount._meta.db_table
    recipients, batches = MassRecipient._meta.db_table, MassBatch._meta.db_table
    planned, refused = RecipientStatus.PLANNED.value, RecipientStatus.REFUSED.value
    pairs = (  # one follow per customer, the preferred one first (see the module's docstring)
        f"SELECT f.customer_id, f.account_id, ROW_NUMBER() OVER (PARTITION BY f.customer_id ORDER BY "  # noqa: S608 - model tables
        f"CASE WHEN ch.id IS NOT NULL AND a.persona_id IS NOT NULL THEN 0 ELSE 1 END, f.added_at, f.id) AS rn "
        f"FROM {follows} f JOIN {accounts} a ON a.id = f.account_id "
        f"LEFT JOIN {codes} ch ON ch.workspace_id = f.workspace_id AND ch.state = f.state AND f.state <> '' "
        f"WHERE f.workspace_id = %s AND f.deleted_at IS NULL AND a.active AND f.customer_id IN ({target_sql})")
    judged = (
        f"SELECT p.customer_id, p.account_id, "  # noqa: S608
        f"CASE WHEN rc.count IS NOT NULL AND rc.count >= %s THEN 1 ELSE 0 END AS refused "
        f"FROM ({pairs}) p LEFT JOIN {counts} rc ON rc.workspace_id = %s AND rc.kind = %s "
        f"AND rc.recipient_id = p.customer_id AND rc.span = %s AND rc.period_start = %s WHERE p.rn = 1")
    insert = (  # table names from the models; values are parameters
        f"INSERT INTO {recipients} (workspace_id, message_id, customer_id, sender_id, batch_number, status) "  # noqa: S608
        f"SELECT %s, %s, j.customer_id, j.account_id, "
        f"CASE WHEN j.refused = 1 THEN -1 ELSE (ROW_NUMBER() OVER (PARTITION BY j.account_id, j.refused "
        f"ORDER BY j.customer_id) - 1) / %s END, "
        f"CASE WHEN j.refused = 1 THEN %s ELSE %s END FROM ({judged}) j")
    params = [workspace.pk, message.pk, BATCH_SIZE, refused, planned, period.limit,
              workspace.pk, *target_params,
              workspace.pk, RecipientKind.CUSTOMER.value, period.span, period.start]
    with transaction.atomic(), connection.cursor() as cursor:
        bulk_work_memory(cursor)
        MassBatch.unscoped.filter(message=message).delete()
        MassRecipient.unscoped.filter(message=message).delete()
        cursor.execute(insert, params)
        cursor.execute(
            f"INSERT INTO {batches} (workspace_id, message_id, sender_id, number, size, sent_count, status, msgid, "  # noqa: S608
            f"checks, ladder_step, reminded_at, error) "
            f"SELECT %s, %s, sender_id, batch_number, COUNT(*), 0, %s, '', 0, 0, '[]', '' FROM {recipients} "
            f"WHERE message_id = %s AND status = %s GROUP BY sender_id, batch_number",
            [workspace.pk, message.pk, "new", message.pk, planned])
        totals = tally.rewrite(message)
        message.planned_count = totals.get(planned, 0)
        message.refused_count = totals.get(refused, 0)
        message.save(update_fields=["planned_count", "refused_count"])


# --- plan, preview, reschedule -------------------------------------------------------------------


def _send_at_problem(send_at: dt.datetime | None, now: dt.datetime) -> str | None:
    if send_at is None:
        return None
    if timezone.is_naive(send_at):
        return _("Give the time with its time zone.")
    if send_at < now - dt.timedelta(minutes=1):
        return _("Choose a time in the future, or leave it empty to send at once.")
    if send_at > now + SCHEDULE_AHEAD:
        return _("Schedule it at most 90 days ahead.")
    return None


def clean_input(workspace: Workspace, data: MessageInput, now: dt.datetime) -> dict[str, Any]:
    """The model values of `data`, or a ValidationError naming each field that is wrong."""
    errors: dict[str, str] = {}
    name = data.name.strip()
    if not name:
        errors["name"] = _("Give the mass message a name.")
    elif len(name) > NAME_MAX_CHARS:
        errors["name"] = _("At most %(n)s characters.") % {"n": NAME_MAX_CHARS}
    values: dict[str, Any] = {"name": name, "target_kind": data.target_kind, "segment": None,
                              "tag_filter": [], "customer_ids": [], "group_targets": []}
    if data.target_kind == TargetKind.SEGMENT:
        segment = (Segment.objects.for_workspace(workspace).filter(pk=data.segment_id).first()
                   if data.segment_id is not None else None)
        if segment is None:
            errors["segment"] = _("Choose one of the brand's segments.")
        values["segment"] = segment
    elif data.target_kind == TargetKind.TAGS:
        groups = tag_filter_of(workspace, data.tag_ids)
        known = {t for g in groups for t in g}
        if not data.tag_ids:
            errors["tags"] = _("Choose at least one tag.")
        elif unknown := sorted(set(data.tag_ids) - known):
            errors["tags"] = _("Unknown tags: %(ids)s") % {"ids": ", ".join(map(str, unknown))}
        values["tag_filter"] = groups
    elif data.target_kind == TargetKind.CUSTOMERS:
        ids = sorted({int(i) for i in data.customer_ids})
        found = set(Customer.objects.for_workspace(workspace).filter(pk__in=ids).values_list("pk", flat=True))
        if not ids:
            errors["customers"] = _("Choose at least one customer.")
        elif missing := [i for i in ids if i not in found]:
            errors["customers"] = _("Unknown customers: %(ids)s") % {"ids": ", ".join(map(str, missing[:20]))}
        values["customer_ids"] = ids
    elif data.target_kind == TargetKind.GROUPS:
        unique = {t.group_id: t for t in data.groups}
        if not unique:
            errors["target_kind"] = _("Choose the customer groups on the community pages (社群), then send to them.")
        values["group_targets"] = [[t.group_id, t.chat_id, t.owner_id, t.name] for t in
                                   sorted(unique.values(), key=lambda t: t.group_id)]
    else:
        errors["target_kind"] = _("Choose whom to send to.")
    try:
        values["text"], values["attachments"] = clean_content(data.text, data.attachments)
    except ValidationError as exc:
        errors.update({k: " ".join(v) for k, v in exc.message_dict.items()})
    if (problem := _send_at_problem(data.send_at, now)) is not None:
        errors["send_at"] = problem
    problems = (template_problems(workspace, data.template_ref, values.get("text", ""),
                                  len(values.get("attachments", [])))
                if data.template_ref is not None and "text" not in errors else [])
    if problems:  # planned from a template: one it may send, in the persona's voice
        errors["text"] = " ".join(problems)
    if errors:
        raise ValidationError(errors)
    values |= {"allow_select": data.allow_select, "send_at": data.send_at, "template_ref": data.template_ref}
    return values


def plan_message(workspace: Workspace, membership: Seat | None, data: MessageInput,
                 now: dt.datetime | None = None) -> MassMessage:
    """A draft 群发 with its ledger planned: nothing is reserved or sent until `confirm_message`."""
    require_edit(membership)
    now = now or timezone.now()
    values = clean_input(workspace, data, now)
    with transaction.atomic():
        message = create_plan(workspace, values, now, created_by=getattr(membership, "user", None))
        audit_change(workspace, membership, AuditAction.CREATED, module=MODULE, subject=SUBJECT,
                     name=message.name, facts=[fact(gettext_lazy("recipients"), message.planned_count)],
                     data={"message": message.pk})
    return message


def create_plan(workspace: Workspace, values: dict[str, Any], now: dt.datetime, *, created_by: Any = None,
                source: str = budget.Source.MASS, ref: str = "") -> MassMessage:
    """A draft from cleaned values (`clean_input`), its ledger planned; no role check, no audit: the
    caller does both (the console's `plan_message`, a system sender's `send_to_customers`)."""
    message = MassMessage.objects.create(workspace=workspace, created_by=created_by, source=source, ref=ref,
                                         **values)
    _write_plan(workspace, message, message.send_at or now)
    return message


def get_message(workspace: Workspace, membership: Seat | None, message_id: int) -> MassMessage:
    require_view(membership)
    return MassMessage.objects.for_workspace(workspace).select_related("segment").get(pk=message_id)


def list_messages(workspace: Workspace, membership: Seat | None) -> QuerySet[MassMessage]:
    require_view(membership)
    return MassMessage.objects.for_workspace(workspace).select_related("created_by")


def summary(workspace: Workspace, membership: Seat | None, message: MassMessage,
            now: dt.datetime | None = None) -> PlanSummary:
    """The preview: how many are targeted, planned, refused by the limit, unreachable; per sender."""
    require_view(membership)
    period = budget.period_of(budget.rule_of(workspace), message.budget_at or message.send_at or now or timezone.now())
    if message.target_kind == TargetKind.GROUPS:
        targeted = len(message.group_targets)
    else:
        target_sql, params = _sql_of(target_query(workspace, message))
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM ({target_sql}) t", params)  # noqa: S608
            targeted = int(cursor.fetchone()[0])
    rows = (MassBatch.unscoped.filter(message=message).values("sender_id").order_by("sender_id")
            .annotate(n=Sum("size"), batches=Count("pk")))
    accounts = StaffAccount.unscoped.in_bulk([r["sender_id"] for r in rows])
    senders = [SenderPlan(accounts[r["sender_id"]], r["n"] or 0, r["batches"]) for r in rows]
    reached = message.planned_count + message.refused_count
    return PlanSummary(targeted, message.planned_count, message.refused_count, max(targeted - reached, 0),
                       period.limit, period.start, senders)


def refused_rows(workspace: Workspace, membership: Seat | None, message: MassMessage) -> QuerySet[Any]:
    """The customers (or groups) the receive limit refuses, in their order."""
    require_view(membership)
    table = table_of(message)
    if table is GROUPS:
        return (MassGroupRecipient.unscoped.filter(workspace=workspace, message=message,
                                                   status=RecipientStatus.REFUSED)
                .select_related("sender").order_by("group_id"))
    return (MassRecipient.unscoped.filter(workspace=workspace, message=message, status=RecipientStatus.REFUSED)
            .select_related("customer", "sender").order_by("customer_id"))


def refused_page(workspace: Workspace, membership: Seat | None, message: MassMessage, page: int = 1) -> Page[Any]:
    return Paginator(refused_rows(workspace, membership, message), REFUSED_PAGE_SIZE).get_page(page)


def _draft(workspace: Workspace, message_id: int) -> MassMessage:
    message = MassMessage.objects.for_workspace(workspace).select_related("segment").get(pk=message_id)
    if message.status != MassStatus.DRAFT:
        raise ValidationError({"send_at": _("Only a draft can be changed.")})
    return message


def reschedule(workspace: Workspace, membership: Seat | None, message_id: int, send_at: dt.datetime | None,
               now: dt.datetime | None = None) -> MassMessage:
    """Move a draft to another time and plan it again: who the limit refuses may change."""
    require_edit(membership)
    now = now or timezone.now()
    message = _draft(workspace, message_id)
    if (problem := _send_at_problem(send_at, now)) is not None:
        raise ValidationError({"send_at": problem})
    before = message.send_at
    with transaction.atomic():
        message.send_at = send_at
        message.save(update_fields=["send_at"])
        _write_plan(workspace, message, send_at or now)
        audit_change(workspace, membership, AuditAction.UPDATED, module=MODULE, subject=SUBJECT, name=message.name,
                     changes=[change(gettext_lazy("send at"), before, send_at)], data={"message": message.pk})
    return message


def replan(workspace: Workspace, message: MassMessage, now: dt.datetime | None = None) -> None:
    """Plan a draft again at its time (the target or the ledger changed meanwhile)."""
    _write_plan(workspace, message, message.send_at or now or timezone.now())
