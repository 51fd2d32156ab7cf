"""客诉工单 — raising a complaint and working it on two lines (明暗两条线).

- The **visible line** (明线): a task for the group's owner to acknowledge in the group within
  minutes (`ACK_MINUTES`, `VIP_ACK_MINUTES`), with a script: a 话术 from the content library
  when one fits (an after-sale script titled for complaints), else a template. Without a group
  (a fan's or a staff member's 1:1 complaint) the acknowledgement is a 1:1 reply.
- The **hidden line** (暗线): a private 1:1 follow-up task for the customer's own staff account
  until it is resolved; its `breach_at` is the resolve SLA, so the task centre's escalation job
  (`sop.escalate`) tells the ops leads once it is breached.

WeCom has no server API to post in a customer group (WECOM.md §10), so both lines are tasks.
A task done in the task centre moves the complaint on (`sync_from_tasks`, every 5 minutes and
on opening the pages); so do the complaint page's own buttons.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_lazy, gettext_noop
from django.utils.translation import gettext as _

from siyu.accounts.models import StaffAccount
from siyu.community.models import CustomerGroup, GroupMember, GroupType
from siyu.complaints.models import Channel, Complaint, Priority, Status
from siyu.content.models import Scenario, Script
from siyu.core.auditing import audit_change, change, fact
from siyu.core.models import AuditAction, Workspace
from siyu.core.permissions import Action, Seat, allows, require, role_of
from siyu.customers.models import Customer, FollowRelation
from siyu.sop.models import StaffTask, TaskKind, TaskPriority, TaskState
from siyu.sop.services import tell_assignees
from siyu.tags.models import CustomerTag

MODULE = "community"  # a section of 社群, answering to its column
SOURCE = "complaints"
ACK_MINUTES, VIP_ACK_MINUTES = 15, 5
RESOLVE_HOURS, VIP_RESOLVE_HOURS = 24, 4
VIP_TAG_WORDS = ("vip", "会员")  # a customer tagged with one of these is a VIP
MAX_TEXT_CHARS = 1000
COMPLAINT_WORDS = ("投诉", "客诉", "道歉", "抱歉", "安抚")

ACK_TEMPLATE = gettext_noop("Thank you for telling us, and sorry for the trouble. We have asked a colleague to "
                            "contact you privately right away and will keep you posted here.")
VISIBLE_GROUP_TEXT = gettext_noop("Acknowledge %(customer)s's complaint in group “%(group)s” now (明线), with: "
                                  "%(script)s")
VISIBLE_DIRECT_TEXT = gettext_noop("Reply to %(customer)s's complaint now (明线), with: %(script)s")
HIDDEN_TEXT = gettext_noop("Follow up %(customer)s's complaint privately until it is solved (暗线): %(text)s")


def worded(msgid: str, **params: object) -> str:
    """A task's text in the console's language (staff read it there and in the sidebar)."""
    with translation.override(settings.LANGUAGE_CODE):
        return gettext(msgid) % params if params else gettext(msgid)


def require_view(membership: Seat | None) -> None:
    require(role_of(membership), MODULE, Action.VIEW)


def can_edit(membership: Seat | None) -> bool:
    return allows(role_of(membership) or "", MODULE, Action.EDIT)


def is_vip(workspace: Workspace, customer: Customer | None, group: CustomerGroup | None) -> bool:
    """A complaint from a VIP group, or by a customer with a VIP tag, comes first."""
    if group is not None and group.type == GroupType.VIP:
        return True
    if customer is None:
        return False
    words = Q()
    for word in VIP_TAG_WORDS:
        words |= Q(tag__name__icontains=word)
    return CustomerTag.objects.for_workspace(workspace).filter(words, customer=customer,
                                                               tag__deleted_at__isnull=True).exists()


def script_for(workspace: Workspace) -> str:
    """The public acknowledgement: the text of an after-sale 话术 titled for complaints, else
    the template (in the console's language)."""
    titled = Q()
    for word in COMPLAINT_WORDS:
        titled |= Q(title__contains=word)
    script = (Script.objects.for_workspace(workspace).filter(titled, folder__scenario=Scenario.AFTER_SALE).first()
              or Script.objects.for_workspace(workspace).filter(titled).first())
    if script is not None:
        texts = [str(s["text"]) for s in script.steps if isinstance(s, dict) and s.get("text")]
        if texts:
            return "\n".join(texts)[:1000]
    return worded(ACK_TEMPLATE)


def _follower(workspace: Workspace, customer: Customer | None) -> FollowRelation | None:
    if customer is None:
        return None
    return (FollowRelation.objects.for_workspace(workspace).filter(customer=customer, deleted_at__isnull=True)
            .select_related("account").order_by("-added_at").first())


@dataclass(frozen=True)
class ComplaintInput:
    text: str
    customer_id: int | None = None
    group_id: int | None = None
    channel: str = Channel.STAFF


def _task(workspace: Workspace, complaint: Complaint, line: str, *, account: StaffAccount | None, operator_id: int | None,
          text: str, due: dt.datetime, breach: dt.datetime, sla_hours: int, group: CustomerGroup | None) -> StaffTask:
    return StaffTask(workspace=workspace, assignee=account, operator_id=operator_id, customer=complaint.customer,
                     group_id=group.pk if group else None, subject=(group.name if group else "")[:200],
                     kind=TaskKind.SEND, text=text, due_at=due, sla_hours=sla_hours, breach_at=breach,
                     priority=TaskPriority.HIGH, reason=f"complaints.{line}", source=SOURCE,
                     ref=f"{line}:{complaint.pk}")


def open_complaint(workspace: Workspace, membership: Seat | None, data: ComplaintInput, *, key: str = "",
                   now: dt.datetime | None = None) -> Complaint:
    """A complaint becomes a ticket with both lines' tasks. `membership` None: a fan raised it."""
    if membership is not None:
        require(role_of(membership), MODULE, Action.VIEW)
    now = now or timezone.now()
    text = data.text.strip()
    errors: dict[str, list[str]] = {}
    if not text:
        errors["text"] = [_("Say what went wrong.")]
    elif len(text) > MAX_TEXT_CHARS:
        errors["text"] = [_("At most %(n)s characters.") % {"n": MAX_TEXT_CHARS}]
    if data.channel not in Channel.values:
        errors["channel"] = [_("Choose where the complaint came from.")]
    customer = (Customer.objects.for_workspace(workspace).filter(pk=data.customer_id).first()
                if data.customer_id else None)
    if data.customer_id and customer is None:
        errors["customer"] = [_("No such customer.")]
    group = (CustomerGroup.objects.for_workspace(workspace).select_related("owner").filter(pk=data.group_id).first()
             if data.group_id else None)
    if data.group_id and group is None:
        errors["group"] = [_("No such group.")]
    if data.channel == Channel.GROUP and group is None:
        errors.setdefault("group", []).append(_("A complaint raised in a group names the group."))
    if customer is None and group is None and not errors:
        errors["customer"] = [_("Name the customer or the group.")]
    if group is not None and customer is not None and not GroupMember.objects.for_workspace(workspace).filter(
            group=group, customer=customer).exists():
        errors["group"] = [_("The customer is not a member of this group.")]
    if errors:
        raise ValidationError(errors)
    if key:
        held = Complaint.objects.for_workspace(workspace).filter(key=key[:40]).first()
        if held is not None:
            return held
    vip = is_vip(workspace, customer, group)
    ack_due = now + dt.timedelta(minutes=VIP_ACK_MINUTES if vip else ACK_MINUTES)
    resolve_hours = VIP_RESOLVE_HOURS if vip else RESOLVE_HOURS
    script = script_for(workspace)
    who = (customer.name if customer else "") or _("a member")
    follow = _follower(workspace, customer)
    with transaction.atomic():
        complaint = Complaint.objects.create(
            workspace=workspace, customer=customer, group=group, channel=data.channel, text=text,
            priority=Priority.VIP if vip else Priority.NORMAL, raised_by_id=getattr(membership, "pk", None),
            opened_at=now, ack_due_at=ack_due, resolve_due_at=now + dt.timedelta(hours=resolve_hours),
            script=script, key=key[:40])
        if group is not None:
            visible_account = group.owner
            visible_text = worded(VISIBLE_GROUP_TEXT, customer=who, group=group.name or group.chat_id, script=script)
        else:
            visible_account = follow.account if follow else None
            visible_text = worded(VISIBLE_DIRECT_TEXT, customer=who, script=script)
        hidden_account = follow.account if follow else (group.owner if group else None)
        tasks = [
            _task(workspace, complaint, "visible", account=visible_account, group=group, due=now, breach=ack_due,
                  operator_id=getattr(visible_account, "operator_id", None), text=visible_text, sla_hours=1),
            _task(workspace, complaint, "hidden", account=hidden_account, group=None, due=now,
                  breach=complaint.resolve_due_at, operator_id=getattr(hidden_account, "operator_id", None),
                  text=worded(HIDDEN_TEXT, customer=who, text=text[:200]), sla_hours=resolve_hours),
        ]
        StaffTask.unscoped.bulk_create(tasks, ignore_conflicts=True)
        made = {t.ref: t for t in StaffTask.objects.for_workspace(workspace).filter(
            source=SOURCE, ref__in=[f"visible:{complaint.pk}", f"hidden:{complaint.pk}"])}
        complaint.visible_task_id = made[f"visible:{complaint.pk}"].pk
        complaint.hidden_task_id = made[f"hidden:{complaint.pk}"].pk
        complaint.save(update_fields=["visible_task_id", "hidden_task_id"])
        tell_assignees(workspace, made.values(), now)
        if membership is not None:
            audit_change(workspace, membership, AuditAction.CREATED, module="complaints",
                         subject=gettext_lazy("complaint"), name=text[:60],
                         facts=[fact(gettext_lazy("customer"), who), fact(gettext_lazy("VIP"), vip)])
    return complaint


def list_complaints(workspace: Workspace, membership: Seat | None, status: str = "") -> QuerySet[Complaint]:
    require_view(membership)
    rows = Complaint.objects.for_workspace(workspace).select_related("customer", "group")
    return rows.filter(status=status) if status in Status.values else rows


def get_complaint(workspace: Workspace, membership: Seat | None, complaint_id: int) -> Complaint:
    require_view(membership)
    return Complaint.objects.for_workspace(workspace).select_related("customer", "group").get(pk=complaint_id)


def tasks_of(workspace: Workspace, complaint: Complaint) -> dict[str, StaffTask]:
    held = StaffTask.objects.for_workspace(workspace).filter(
        pk__in=[t for t in (complaint.visible_task_id, complaint.hidden_task_id) if t]).select_related("assignee")
    return {"visible" if t.pk == complaint.visible_task_id else "hidden": t for t in held}


def _finish_task(task_id: int | None, state: str, note: str, now: dt.datetime) -> None:
    if task_id:
        StaffTask.unscoped.filter(pk=task_id, state__in=(TaskState.OPEN, TaskState.SNOOZED)).update(
            state=state, done_at=now, **({"outcome": note[:300]} if state == TaskState.DONE else {"reason": note[:120]}))


def sync_from_tasks(workspace: Workspace) -> int:
    """Tasks done in the task centre move their complaints on: the visible one acknowledges, the
    hidden one resolves. Conditional updates, so repeats and racing jobs change nothing more."""
    moved = 0
    open_rows = list(Complaint.objects.for_workspace(workspace).filter(status__in=(Status.OPEN, Status.ACKNOWLEDGED)))
    task_ids = [t for c in open_rows for t in (c.visible_task_id, c.hidden_task_id) if t]
    done = dict(StaffTask.objects.for_workspace(workspace).filter(pk__in=task_ids, state=TaskState.DONE)
                .values_list("pk", "done_at"))
    if not done:
        return 0
    outcomes = dict(StaffTask.objects.for_workspace(workspace).filter(pk__in=done).values_list("pk", "outcome"))
    for c in open_rows:
        if c.hidden_task_id in done:
            moved += Complaint.unscoped.filter(pk=c.pk, status__in=(Status.OPEN, Status.ACKNOWLEDGED)).update(
                status=Status.RESOLVED, resolved_at=done[c.hidden_task_id],
                resolution=outcomes[c.hidden_task_id][:300],
                acknowledged_at=c.acknowledged_at or done.get(c.visible_task_id or 0) or done[c.hidden_task_id])
        elif c.visible_task_id in done:
            moved += Complaint.unscoped.filter(pk=c.pk, status=Status.OPEN).update(
                status=Status.ACKNOWLEDGED, acknowledged_at=done[c.visible_task_id])
    return moved


def _working(workspace: Workspace, membership: Seat | None, complaint_id: int) -> Complaint:
    require(role_of(membership), MODULE, Action.EDIT)
    return Complaint.objects.for_workspace(workspace).select_for_update().get(pk=complaint_id)


def acknowledge(workspace: Workspace, membership: Seat | None, complaint_id: int, note: str = "",
                now: dt.datetime | None = None) -> Complaint:
    """The visible line is done: acknowledged in the group (or 1:1). Audited."""
    now = now or timezone.now()
    with transaction.atomic():
        c = _working(workspace, membership, complaint_id)
        if c.status != Status.OPEN:
            raise ValidationError(_("Only an open complaint can be acknowledged."))
        c.status, c.acknowledged_at = Status.ACKNOWLEDGED, now
        c.save(update_fields=["status", "acknowledged_at"])
        _finish_task(c.visible_task_id, TaskState.DONE, note or _("Acknowledged"), now)
        audit_change(workspace, membership, AuditAction.UPDATED, module="complaints", subject=gettext_lazy("complaint"),
                     name=c.text[:60], changes=[change(gettext_lazy("status"), Status.OPEN.label, c.get_status_display())])
    return c


def resolve(workspace: Workspace, membership: Seat | None, complaint_id: int, resolution: str,
            now: dt.datetime | None = None) -> Complaint:
    """The hidden line is done: solved, with how. Audited."""
    now = now or timezone.now()
    resolution = resolution.strip()
    if not resolution:
        raise ValidationError({"resolution": [_("Say how it was solved.")]})
    with transaction.atomic():
        c = _working(workspace, membership, complaint_id)
        if c.status not in (Status.OPEN, Status.ACKNOWLEDGED):
            raise ValidationError(_("This complaint is already finished."))
        before = c.get_status_display()
        c.status, c.resolved_at, c.resolution = Status.RESOLVED, now, resolution[:300]
        c.acknowledged_at = c.acknowledged_at or now
        c.save(update_fields=["status", "resolved_at", "resolution", "acknowledged_at"])
        _finish_task(c.visible_task_id, TaskState.DONE, _("Acknowledged"), now)
        _finish_task(c.hidden_task_id, TaskState.DONE, resolution, now)
        audit_change(workspace, membership, AuditAction.UPDATED, module="complaints", subject=gettext_lazy("complaint"),
                     name=c.text[:60], changes=[change(gettext_lazy("status"), before, c.get_status_display())],
                     facts=[fact(gettext_lazy("resolution"), resolution)])
    return c


def close(workspace: Workspace, membership: Seat | None, complaint_id: int, reason: str,
          now: dt.datetime | None = None) -> Complaint:
    """Closed without a resolution (a duplicate, not a complaint); open tasks are skipped. Audited."""
    now = now or timezone.now()
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why.")]})
    with transaction.atomic():
        c = _working(workspace, membership, complaint_id)
        if c.status == Status.CLOSED:
            raise ValidationError(_("This complaint is already closed."))
        before = c.get_status_display()
        c.status, c.closed_at = Status.CLOSED, now
        c.resolution = c.resolution or reason[:300]
        c.save(update_fields=["status", "closed_at", "resolution"])
        for task_id in (c.visible_task_id, c.hidden_task_id):
            _finish_task(task_id, TaskState.SKIPPED, reason, now)
        audit_change(workspace, membership, AuditAction.UPDATED, module="complaints", subject=gettext_lazy("complaint"),
                     name=c.text[:60], changes=[change(gettext_lazy("status"), before, c.get_status_display())],
                     facts=[fact(gettext_lazy("reason"), reason)])
    return c
