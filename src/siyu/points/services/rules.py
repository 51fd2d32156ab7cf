"""积分淘汰与人员定额 — elimination by points and fixed-size groups (seed 003: "积分淘汰",
"人员定额 … 动态人员淘汰机制"), on WeCom customer groups.

WeCom gives a server no way to remove a member from a customer group, nor to post in one
(WECOM.md §4), so every step that touches the group is a task for its owner (`sop.StaffTask`,
source "points", a unique ref per step) in the task centre:

1. **Judging** (`judge_periods`): after each period ends, the members of the group who were in
   it for the whole period are ranked by the points they earned in it; those below the threshold
   (or in the bottom N %) get a warning, which is a task for the owner to tell them (1:1 or with
   an @ in the group). One `EliminationRound` per (rule, period): the round, its cases and the
   tasks are written in one transaction, so a rerun or a second worker judges nothing twice.
2. **After the warning period** (`settle_warnings`): a warned member who earned the cutoff in the
   meantime is spared, one who left is let go, and for the rest the owner gets a removal task.
   The round is claimed by a conditional UPDATE (warning → done).
3. **Removed** (`settle_removals`): once WeCom reports the member gone (`GroupMember.left_at`),
   the case is closed and, if the rule says so, the member's points are cleared (淘汰清零: one
   ledger entry, unique per case).
4. **Seats** (`fill_seats`): a group with a seat limit invites the head of its waiting list, in
   order, while seats are free (live members plus open invitations below the limit). An
   invitation is a task for the owner; it lapses after `invite_hours` and the seat goes to the
   next in line. A waiting customer who turns up as a member has joined.

`run_rules(workspace, now)` does all four and is what the hourly job calls for each brand.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from siyu.community.models import CustomerGroup, GroupMember
from siyu.core.auditing import AuditAction, audit_change, model_changes, snapshot
from siyu.core.days import day_start, local_day
from siyu.core.models import Workspace
from siyu.core.permissions import Seat
from siyu.points.models import (
    GRANT_SOURCES,
    Account,
    CaseState,
    EliminationCase,
    EliminationMode,
    EliminationRound,
    GroupRule,
    Period,
    PointsEntry,
    RoundState,
    Source,
    WaitlistEntry,
    WaitState,
)
from siyu.points.services.boards import PeriodSpan, period_of, standings
from siyu.points.services.common import MODULE, PointsError, require_edit
from siyu.points.services.ledger import lock_wallet, spend
from siyu.sop.models import StaffTask, TaskKind, TaskPriority

TASK_SOURCE = "points"
WARNING_SLA_HOURS = 24
REMOVAL_SLA_HOURS = 48
INVITE_SLA_HOURS = 24
MAX_SEATS = 500  # WeCom's cap on a customer group (WECOM.md §4)

WARNING_TEXT = gettext_noop(
    "Points warning: %(name)s earned %(points)s points in “%(group)s” from %(start)s to %(last)s, fewer "
    "than the group asks. Tell them (1:1, or with an @ in the group): earning %(cutoff)s points within "
    "%(days)s days keeps their seat; otherwise they will be removed from the group.")
REMOVAL_TEXT = gettext_noop(
    "Points elimination: %(name)s did not earn %(cutoff)s points in the warning period. Remove them from "
    "“%(group)s” (WeCom has no API for this: the owner removes them in the group).")
INVITE_TEXT = gettext_noop(
    "Fixed-size group: a seat is free in “%(group)s”. Invite %(name)s, next on the waiting list (the seat "
    "is held for %(hours)s hours, then offered to the next in line).")


def _in_console_language(text: str, **values: object) -> str:
    with translation.override(settings.LANGUAGE_CODE):  # staff read tasks in the console's language
        return translation.gettext(text) % values


def _task(workspace: Workspace, group: CustomerGroup, customer_id: int, kind: str, text: str, ref: str,
          now: dt.datetime, sla_hours: int, priority: int = TaskPriority.NORMAL, reason: str = "") -> StaffTask:
    owner = group.owner
    return StaffTask(workspace=workspace, customer_id=customer_id, assignee=owner,
                     operator_id=owner.operator_id if owner else None, kind=kind, text=text, due_at=now,
                     sla_hours=sla_hours, breach_at=now + dt.timedelta(hours=sla_hours), priority=priority,
                     reason=reason, source=TASK_SOURCE, ref=ref)


def _save_tasks(workspace: Workspace, tasks: list[StaffTask]) -> dict[str, int]:
    """Insert the tasks (a ref already there is kept) and give back {ref: task id}."""
    StaffTask.unscoped.bulk_create(tasks, ignore_conflicts=True)
    refs = [t.ref for t in tasks]
    return dict(StaffTask.objects.for_workspace(workspace).filter(source=TASK_SOURCE, ref__in=refs)
                .values_list("ref", "pk"))


# --- the rule -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RuleInput:
    period: str = Period.WEEK
    mode: str = EliminationMode.THRESHOLD
    threshold: int = 20
    bottom_percent: int = 10
    warning_days: int = 3
    forfeit_points: bool = False
    seat_limit: int | None = None
    invite_hours: int = 48
    active: bool = True


AUDITED_RULE_FIELDS = ("period", "mode", "threshold", "bottom_percent", "warning_days", "forfeit_points",
                       "seat_limit", "invite_hours", "active")


def rule_of(workspace: Workspace, group_id: int) -> GroupRule | None:
    return GroupRule.objects.for_workspace(workspace).filter(group_id=group_id).first()


def save_rule(workspace: Workspace, membership: Seat | None, group_id: int, data: RuleInput,
              now: dt.datetime | None = None) -> GroupRule:
    """Set a group's elimination rule and seat limit; audit-logged. Periods that ended before
    the rule existed are never judged."""
    require_edit(membership)
    group = CustomerGroup.objects.for_workspace(workspace).get(pk=group_id)
    errors: dict[str, str] = {}
    if data.period not in Period.values:
        errors["period"] = _("Choose a week or a month.")
    if data.mode not in EliminationMode.values:
        errors["mode"] = _("Choose how members are eliminated.")
    if data.mode == EliminationMode.THRESHOLD and not 1 <= data.threshold <= 1_000_000:
        errors["threshold"] = _("From 1 to 1,000,000 points.")
    if data.mode == EliminationMode.BOTTOM and not 1 <= data.bottom_percent <= 50:
        errors["bottom_percent"] = _("From 1 % to 50 % of the members.")
    if not 1 <= data.warning_days <= 30:
        errors["warning_days"] = _("From 1 to 30 days.")
    if data.seat_limit is not None and not 2 <= data.seat_limit <= MAX_SEATS:
        errors["seat_limit"] = _("From 2 to 500 seats (WeCom's cap on a group).")
    if not 1 <= data.invite_hours <= 24 * 14:
        errors["invite_hours"] = _("From 1 hour to 14 days.")
    if data.mode == EliminationMode.OFF and data.seat_limit is None:
        errors["seat_limit"] = _("Without elimination, set a seat limit (or switch the rule off).")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        rule = rule_of(workspace, group.pk)
        created = rule is None
        rule = rule or GroupRule(workspace=workspace, group=group, created_at=now or timezone.now())
        before = {} if created else snapshot(rule, AUDITED_RULE_FIELDS)
        for name in AUDITED_RULE_FIELDS:
            setattr(rule, name, getattr(data, name))
        rule.save()
        subject = gettext_lazy("group points rule")
        if created:
            audit_change(workspace, membership, AuditAction.CREATED, module=MODULE, subject=subject, name=str(group))
        else:
            audit_change(workspace, membership, AuditAction.UPDATED, module=MODULE, subject=subject, name=str(group),
                         changes=model_changes(before, rule, AUDITED_RULE_FIELDS))
    return rule


# --- 1. judging a period ----------------------------------------------------------------------------

def last_ended(rule: GroupRule, now: dt.datetime) -> PeriodSpan | None:
    """The latest period of the rule that has ended, if the rule existed while it ran."""
    span = period_of(rule.period, local_day(now)).previous()
    return span if day_start(span.end) > rule.created_at else None


def judge(workspace: Workspace, rule: GroupRule, span: PeriodSpan, now: dt.datetime) -> EliminationRound | None:
    """Judge one period of one rule: the round, its cases and warning tasks, once. None when it
    was judged already (by this run or another)."""
    if EliminationRound.objects.for_workspace(workspace).filter(rule=rule, period_start=span.start).exists():
        return None
    group = rule.group
    start = day_start(span.start)
    # Newcomers of the period had no fair chance: only members since its start are judged.
    judged = [s for s in standings(workspace, group, span) if s.joined_at is not None and s.joined_at <= start]
    if rule.mode == EliminationMode.THRESHOLD:
        below = [s for s in judged if s.points < rule.threshold]
        cutoff = rule.threshold
    else:
        # The lowest N %, rounded down; ties at the line go by join time, the longest-standing first.
        n = len(judged) * rule.bottom_percent // 100
        ranked = sorted(judged, key=lambda s: (s.points, s.joined_at or start, s.customer_id))
        below = ranked[:n]
        kept = ranked[n:]
        cutoff = max(kept[0].points if kept else 1, 1)
    try:
        with transaction.atomic():
            round_ = EliminationRound.objects.create(
                workspace=workspace, rule=rule, period_start=span.start, period_end=span.end, judged_at=now,
                remove_after=now + dt.timedelta(days=rule.warning_days), judged=len(judged), cutoff=cutoff)
            tasks = [_task(workspace, group, s.customer_id, TaskKind.SEND, _in_console_language(
                WARNING_TEXT, name=s.name, group=str(group), start=span.start.isoformat(), last=span.last.isoformat(),
                points=s.points, days=rule.warning_days, cutoff=cutoff), f"warn:{round_.pk}:{s.customer_id}", now,
                WARNING_SLA_HOURS, reason="points.elimination") for s in below]
            ids = _save_tasks(workspace, tasks)
            EliminationCase.unscoped.bulk_create([
                EliminationCase(workspace=workspace, round=round_, customer_id=s.customer_id, points=s.points,
                                warning_task_id=ids.get(f"warn:{round_.pk}:{s.customer_id}")) for s in below])
    except IntegrityError:
        return None  # another run judged this period at the same moment
    return round_


def judge_periods(workspace: Workspace, now: dt.datetime | None = None) -> int:
    """Judge the last ended period of every active elimination rule of the brand. Returns rounds made."""
    now = now or timezone.now()
    made = 0
    rules = (GroupRule.objects.for_workspace(workspace).filter(active=True, group__dismissed_at__isnull=True)
             .exclude(mode=EliminationMode.OFF).select_related("group__owner"))
    for rule in rules:
        span = last_ended(rule, now)
        if span is not None and judge(workspace, rule, span, now) is not None:
            made += 1
    return made


# --- 2. the end of the warning period --------------------------------------------------------------

def _live_customers(workspace: Workspace, group_id: int, customer_ids: list[int]) -> set[int]:
    return set(GroupMember.objects.for_workspace(workspace)
               .filter(group_id=group_id, customer_id__in=customer_ids, left_at__isnull=True)
               .values_list("customer_id", flat=True))


def settle_round(workspace: Workspace, round_: EliminationRound, now: dt.datetime) -> int:
    """Spare, let go or hand to the owner for removal each warned member of a round whose warning
    period is over. Claimed once (warning → done). Returns removal tasks given."""
    with transaction.atomic():
        if not EliminationRound.unscoped.filter(pk=round_.pk, state=RoundState.WARNING).update(state=RoundState.DONE):
            return 0
        cases = list(EliminationCase.objects.for_workspace(workspace).filter(round=round_, state=CaseState.WARNED))
        ids = [c.customer_id for c in cases]
        earned = dict(PointsEntry.objects.for_workspace(workspace)
                      .filter(customer_id__in=ids, source__in=GRANT_SOURCES, created_at__gte=round_.judged_at,
                              created_at__lt=now)
                      .values("customer_id").annotate(n=Sum("amount")).values_list("customer_id", "n"))
        group = round_.rule.group
        live = _live_customers(workspace, group.pk, ids)
        spared = [c.pk for c in cases if c.customer_id in live and (earned.get(c.customer_id) or 0) >= round_.cutoff]
        gone = [c.pk for c in cases if c.customer_id not in live]
        removing = [c for c in cases if c.customer_id in live and c.pk not in spared]
        EliminationCase.unscoped.filter(pk__in=spared).update(state=CaseState.SPARED, settled_at=now)
        EliminationCase.unscoped.filter(pk__in=gone).update(state=CaseState.LEFT, settled_at=now)
        names = dict(GroupMember.objects.for_workspace(workspace)
                     .filter(group=group, customer_id__in=[c.customer_id for c in removing])
                     .values_list("customer_id", "nickname"))
        tasks = [_task(workspace, group, c.customer_id, TaskKind.REMOVE, _in_console_language(
            REMOVAL_TEXT, name=names.get(c.customer_id) or c.customer_id, cutoff=round_.cutoff, group=str(group)),
            f"remove:{round_.pk}:{c.customer_id}", now, REMOVAL_SLA_HOURS, TaskPriority.HIGH, "points.removal")
            for c in removing]
        refs = _save_tasks(workspace, tasks)
        for c in removing:
            EliminationCase.unscoped.filter(pk=c.pk, state=CaseState.WARNED).update(
                state=CaseState.REMOVAL, removal_task_id=refs.get(f"remove:{round_.pk}:{c.customer_id}"))
    return len(removing)


def settle_warnings(workspace: Workspace, now: dt.datetime | None = None) -> int:
    now = now or timezone.now()
    due = (EliminationRound.objects.for_workspace(workspace).filter(state=RoundState.WARNING, remove_after__lte=now)
           .select_related("rule__group__owner"))
    return sum(settle_round(workspace, r, now) for r in due)


# --- 3. removed -------------------------------------------------------------------------------------

def forfeit(workspace: Workspace, customer_id: int, ref: str, reason: str, now: dt.datetime) -> int:
    """Clear a customer's whole balance once per ref (淘汰清零): one entry against the
    forfeited account. Returns the points cleared."""
    with transaction.atomic():
        wallet = lock_wallet(workspace, customer_id)
        if wallet.balance <= 0 or PointsEntry.objects.for_workspace(workspace).filter(
                source=Source.ELIMINATION, source_ref=ref).exists():
            return 0
        spend(workspace, customer_id, wallet.balance, Source.ELIMINATION, ref, reason=reason, now=now,
              account=Account.FORFEITED)
        return wallet.balance


def settle_removals(workspace: Workspace, now: dt.datetime | None = None) -> int:
    """Close the removal cases whose member WeCom reports gone; clear their points if the rule
    says so. Returns cases closed."""
    now = now or timezone.now()
    cases = list(EliminationCase.objects.for_workspace(workspace).filter(state=CaseState.REMOVAL)
                 .select_related("round__rule"))
    live = set(GroupMember.objects.for_workspace(workspace)
               .filter(customer_id__in=[c.customer_id for c in cases], left_at__isnull=True)
               .values_list("group_id", "customer_id"))
    closed = 0
    for case in cases:
        rule = case.round.rule
        if (rule.group_id, case.customer_id) in live:
            continue
        with transaction.atomic():
            if not EliminationCase.unscoped.filter(pk=case.pk, state=CaseState.REMOVAL).update(
                    state=CaseState.REMOVED, settled_at=now):
                continue
            if rule.forfeit_points:
                forfeit(workspace, case.customer_id, f"case:{case.pk}", _("Removed from a group by points"), now)
        closed += 1
    return closed


# --- 4. the waiting list -----------------------------------------------------------------------------

def join_waitlist(workspace: Workspace, group_id: int, customer_id: int, now: dt.datetime | None = None) -> WaitlistEntry:
    """Queue a customer for a seat in a fixed-size group (once: queuing again gives the same
    place). A seat already free is offered at once."""
    now = now or timezone.now()
    rule = GroupRule.objects.for_workspace(workspace).select_related("group").filter(
        group_id=group_id, active=True, seat_limit__isnull=False, group__dismissed_at__isnull=True).first()
    if rule is None:
        raise PointsError(_("This group has no waiting list."))
    if _live_customers(workspace, group_id, [customer_id]):
        raise PointsError(_("You are already in this group."))
    held = WaitlistEntry.objects.for_workspace(workspace).filter(
        group_id=group_id, customer_id=customer_id, state__in=(WaitState.WAITING, WaitState.INVITED)).first()
    if held is not None:
        return held
    try:
        with transaction.atomic():
            entry = WaitlistEntry.objects.create(workspace=workspace, group_id=group_id, customer_id=customer_id,
                                                 queued_at=now)
    except IntegrityError:
        return WaitlistEntry.objects.for_workspace(workspace).get(
            group_id=group_id, customer_id=customer_id, state__in=(WaitState.WAITING, WaitState.INVITED))
    fill_group(workspace, rule, now)
    entry.refresh_from_db()
    return entry


def leave_waitlist(workspace: Workspace, group_id: int, customer_id: int, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    return bool(WaitlistEntry.objects.for_workspace(workspace).filter(
        group_id=group_id, customer_id=customer_id, state__in=(WaitState.WAITING, WaitState.INVITED)).update(
        state=WaitState.CANCELLED, settled_at=now))


def waitlist_entry(workspace: Workspace, group_id: int, customer_id: int) -> WaitlistEntry | None:
    """The customer's open place on the group's waiting list (waiting or invited), if any."""
    return WaitlistEntry.objects.for_workspace(workspace).filter(
        group_id=group_id, customer_id=customer_id, state__in=(WaitState.WAITING, WaitState.INVITED)).first()


def place_in_line(workspace: Workspace, entry: WaitlistEntry) -> int:
    """1 for the head of the line."""
    if entry.state != WaitState.WAITING:
        return 0
    return WaitlistEntry.objects.for_workspace(workspace).filter(
        group_id=entry.group_id, state=WaitState.WAITING).filter(
        Q(queued_at__lt=entry.queued_at) | Q(queued_at=entry.queued_at, pk__lt=entry.pk)).count() + 1


def fill_group(workspace: Workspace, rule: GroupRule, now: dt.datetime) -> int:
    """One group's seats: joined and lapsed invitations settled, then the free seats offered to
    the line in order. The group row is locked, so two runs never offer one seat twice."""
    if rule.seat_limit is None:
        return 0
    with transaction.atomic():
        group = CustomerGroup.objects.for_workspace(workspace).select_for_update(of=("self",)).select_related("owner").get(
            pk=rule.group_id)
        open_ = WaitlistEntry.objects.for_workspace(workspace).filter(
            group=group, state__in=(WaitState.WAITING, WaitState.INVITED))
        joined = _live_customers(workspace, group.pk, list(open_.values_list("customer_id", flat=True)))
        open_.filter(customer_id__in=joined).update(state=WaitState.JOINED, settled_at=now)
        open_.filter(state=WaitState.INVITED, expires_at__lte=now).update(state=WaitState.EXPIRED, settled_at=now)
        live = GroupMember.objects.for_workspace(workspace).filter(group=group, left_at__isnull=True).count()
        invited = open_.filter(state=WaitState.INVITED).count()
        free = rule.seat_limit - live - invited
        if free <= 0:
            return 0
        heads = list(open_.filter(state=WaitState.WAITING).order_by("queued_at", "pk")[:free])
        if not heads:
            return 0
        names = dict(WaitlistEntry.objects.for_workspace(workspace).filter(pk__in=[e.pk for e in heads])
                     .values_list("pk", "customer__name"))
        tasks = [_task(workspace, group, e.customer_id, TaskKind.INVITE, _in_console_language(
            INVITE_TEXT, group=str(group), name=names.get(e.pk) or e.customer_id, hours=rule.invite_hours),
            f"seat:{e.pk}", now, INVITE_SLA_HOURS, reason="points.seat") for e in heads]
        refs = _save_tasks(workspace, tasks)
        for e in heads:
            WaitlistEntry.unscoped.filter(pk=e.pk, state=WaitState.WAITING).update(
                state=WaitState.INVITED, invited_at=now, expires_at=now + dt.timedelta(hours=rule.invite_hours),
                task_id=refs.get(f"seat:{e.pk}"))
    return len(heads)


def fill_seats(workspace: Workspace, now: dt.datetime | None = None) -> int:
    """Every fixed-size group of the brand with someone in line or invited. Returns invitations."""
    now = now or timezone.now()
    lines = WaitlistEntry.objects.for_workspace(workspace).filter(state__in=(WaitState.WAITING, WaitState.INVITED))
    rules = (GroupRule.objects.for_workspace(workspace)
             .filter(active=True, seat_limit__isnull=False, group__dismissed_at__isnull=True,
                     group_id__in=lines.values("group_id")))
    return sum(fill_group(workspace, rule, now) for rule in rules)


@dataclass(frozen=True)
class RulesRun:
    rounds: int
    removals: int
    removed: int
    invited: int


def run_rules(workspace: Workspace, now: dt.datetime | None = None) -> RulesRun:
    """The hourly job for one brand; every step is idempotent."""
    now = now or timezone.now()
    return RulesRun(judge_periods(workspace, now), settle_warnings(workspace, now), settle_removals(workspace, now),
                    fill_seats(workspace, now))
