"""The sweep — firing due steps, each once (WECOM.md §5 for the 群发 it hands over to).

Every minute, per brand: walk the (state, due_at) index for due runs of active SOPs, one
(step, due minute) group at a time, and

1. **claim** the group by a conditional UPDATE (`due → claimed` where state is still due), so two
   sweeps never hold the same run. A `mass` group's claim is its 群发 ref
   (`sop-step:<step>:<minute>`), stored on the runs before anything is sent;
2. **guard** at fire time, committed before any hand-over: expired past the step's window,
   SOP version replaced (migrated), quiet hours (back to due at the next allowed time), still a
   friend, not tagged X, stage is Y, receive budget left (`mass`);
3. **hand over** the runs still claimed: one 群发 through `messaging.send_to_customers`
   (idempotent on the ref), or one `StaffTask` per run (unique on source/ref) in the same
   transaction that marks the runs sent, or one 朋友圈 post per group (`moments.save_post`, its
   senders the group's staff) in the same transaction that marks the group's runs sent. A
   `moment` group's claim is `sop-moment:<step>:<minute>`.

A worker that dies leaves runs claimed. After `LEASE` another sweep renews the claim and does
step 3 again with the same ref: if the 群发 was created, the same message comes back and its
recipients are marked sent; if not, it is created now. A 群发's guards are not re-run on
resumption, because its customers may already have been handed over. A task run still claimed
was never handed over (the task and the mark commit together), so it is guarded afresh. So
nothing is sent twice and nothing is left without an outcome.

An unexpected error from the 群发 service (not a refusal of bad input) leaves the group claimed,
retried after the lease with the same ref; each raise counts on the runs (`attempts`), and after
`MAX_ATTEMPTS` they fail with the error as the reason instead of being retried forever.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max, Min, QuerySet
from django.utils import timezone

from siyu.accounts.models import StaffAccount
from siyu.core.models import Workspace
from siyu.core.services import OPERATOR
from siyu.customers.models import Customer, FollowRelation
from siyu.customers.services import TimelineNote, add_timelines
from siyu.messaging import services as messaging
from siyu.moments import services as moments
from siyu.sop.groups import directory
from siyu.sop.models import (
    RunState,
    Sop,
    SopKind,
    SopStatus,
    SopStep,
    StaffTask,
    StepChannel,
    StepRun,
    TaskPriority,
)
from siyu.sop.services.calendar import in_quiet_hours, next_allowed
from siyu.sop.services.enrolment import _chunks, hours_of
from siyu.sop.services.reminders import tell_assignees
from siyu.sop.timeline import SopTimeline
from siyu.tags.models import CustomerTag

log = logging.getLogger(__name__)

LEASE = dt.timedelta(minutes=5)
MAX_ATTEMPTS = 5  # unexpected errors from one group's 群发 hand-over before its runs fail
SLICE = 500  # due rows read per look at the index
REF_PREFIX = "sop-step:"
MOMENT_PREFIX = "sop-moment:"
GROUP_PREFIX = {StepChannel.MASS: REF_PREFIX, StepChannel.MOMENT: MOMENT_PREFIX}
TIMELINE_KIND = {RunState.SENT: SopTimeline.STEP_SENT, RunState.SKIPPED: SopTimeline.STEP_SKIPPED,
                 RunState.EXPIRED: SopTimeline.STEP_EXPIRED, RunState.FAILED: SopTimeline.STEP_FAILED}


@dataclass
class Swept:
    counts: Counter[str] = field(default_factory=Counter)

    def __getitem__(self, key: str) -> int:
        return self.counts[key]


def _due(workspace: Workspace, now: dt.datetime) -> QuerySet[StepRun]:
    return StepRun.unscoped.filter(workspace=workspace, state=RunState.DUE, due_at__lte=now,
                                   sop__status=SopStatus.ACTIVE)


def _minute(at: dt.datetime) -> dt.datetime:
    return at.replace(second=0, microsecond=0)


def sweep(workspace: Workspace, now: dt.datetime | None = None, *, max_groups: int = 10_000) -> Swept:
    """Resume what dead workers left claimed, then fire every due group (at most `max_groups`)."""
    now = now or timezone.now()
    swept = Swept()
    resume_stale(workspace, now, swept)
    groups = 0
    while groups < max_groups:
        keys = {(step_id, _minute(due)) for step_id, due in
                _due(workspace, now).order_by("due_at").values_list("step_id", "due_at")[:SLICE]}
        if not keys:
            break
        for step_id, minute in sorted(keys, key=lambda k: (k[1], k[0])):
            claim = claim_group(workspace, step_id, minute, now)
            if claim:
                fire_claimed(workspace, claim, now, swept)
            groups += 1
    return swept


def claim_group(workspace: Workspace, step_id: int, minute: dt.datetime, now: dt.datetime) -> str:
    """Claim the due runs of one step in one minute; returns the claim ("" if another sweep won)."""
    group = _due(workspace, now).filter(step_id=step_id, due_at__gte=minute,
                                        due_at__lt=minute + dt.timedelta(minutes=1))
    step = SopStep.unscoped.filter(pk=step_id).only("channel").first()
    if step is None:
        return ""
    if step.channel in GROUP_PREFIX:  # one 群发 or one moments post for the group
        claim = f"{GROUP_PREFIX[StepChannel(step.channel)]}{step_id}:{minute:%Y%m%d%H%M}"
        if StepRun.unscoped.filter(claim=claim).exists():  # that minute's post already went: a late joiner
            first = group.aggregate(first=Min("pk"))["first"]
            claim = f"{claim}:{first}"
    else:
        claim = uuid.uuid4().hex
    claimed = StepRun.unscoped.filter(pk__in=group.values("pk"), state=RunState.DUE).update(
        state=RunState.CLAIMED, claim=claim, claimed_at=now)
    return claim if claimed else ""


def resume_stale(workspace: Workspace, now: dt.datetime, swept: Swept) -> None:
    """Hand over the runs a dead worker claimed, renewing each claim first (only one sweep wins)."""
    stale = StepRun.unscoped.filter(workspace=workspace, state=RunState.CLAIMED, claimed_at__lt=now - LEASE)
    for claim in stale.values_list("claim", flat=True).distinct().order_by("claim"):
        if stale.filter(claim=claim).update(claimed_at=now):
            swept.counts["resumed"] += 1
            if not claim.startswith(REF_PREFIX):
                # A task or moments run is handed over in the transaction that marks it sent: still
                # claimed means no task or post was made, so it fires afresh, guards and window included.
                _guard(workspace, claim, now, swept)
            _hand_over(workspace, claim, now, swept)


def fire_claimed(workspace: Workspace, claim: str, now: dt.datetime, swept: Swept) -> None:
    _guard(workspace, claim, now, swept)
    _hand_over(workspace, claim, now, swept)


def _claimed(workspace: Workspace, claim: str) -> QuerySet[StepRun]:
    return StepRun.unscoped.filter(workspace=workspace, claim=claim, state=RunState.CLAIMED)


def _finish(workspace: Workspace, pks: list[int], state: RunState, reason: str, now: dt.datetime,
            swept: Swept, result_id: int | None = None) -> None:
    """End these claimed runs (a conditional UPDATE) and note each on its customer's timeline."""
    for chunk in _chunks(pks):
        done = list(StepRun.unscoped.filter(pk__in=chunk, state=RunState.CLAIMED)
                    .values_list("pk", "customer_id", "sop__name", "step__order"))
        n = StepRun.unscoped.filter(pk__in=[d[0] for d in done], state=RunState.CLAIMED).update(
            state=state, reason=reason, finished_at=now, result_id=result_id)
        add_timelines(workspace, [  # a group's run has no customer timeline: the group's page shows it
            TimelineNote(Customer(pk=customer_id), TIMELINE_KIND[state], now, detail=f"{name} #{order}",
                         dedupe_key=f"sop-run:{pk}") for pk, customer_id, name, order in done
            if customer_id is not None])
        swept.counts[state] += n
        if reason:
            swept.counts[f"{state}:{reason}"] += n


def _guard(workspace: Workspace, claim: str, now: dt.datetime, swept: Swept) -> None:
    runs = [(pk, c if c is not None else (g or 0), expires, s, v) for pk, c, g, expires, s, v in
            _claimed(workspace, claim).values_list("pk", "customer_id", "group_id", "expires_at", "step_id",
                                                   "enrolment__version_id")]
    if not runs:
        return
    step = SopStep.unscoped.select_related("version").get(pk=runs[0][3])
    sop = Sop.unscoped.get(pk=step.version.sop_id)
    expired = [pk for pk, _c, expires, _s, _v in runs if expires < now]
    migrated = [pk for pk, _c, expires, _s, version in runs if expires >= now and version != step.version_id]
    live = [(pk, c) for pk, c, expires, _s, version in runs if expires >= now and version == step.version_id]
    with transaction.atomic():
        _finish(workspace, expired, RunState.EXPIRED, "late", now, swept)
        _finish(workspace, migrated, RunState.SKIPPED, "migrated", now, swept)
        if live and in_quiet_hours(now, hours_of(sop)):
            again, _note = next_allowed(now, hours_of(sop))
            StepRun.unscoped.filter(pk__in=[pk for pk, _c in live], state=RunState.CLAIMED).update(
                state=RunState.DUE, claim="", claimed_at=None, due_at=again)
            swept.counts["rescheduled"] += len(live)
            return
        conditions = _group_failing if sop.kind == SopKind.GROUP else _failing
        for reason, failing in conditions(workspace, step, [c for _pk, c in live], now):
            _finish(workspace, [pk for pk, c in live if c in failing], RunState.SKIPPED, reason, now, swept)
            live = [(pk, c) for pk, c in live if c not in failing]


def _failing(workspace: Workspace, step: SopStep, customer_ids: list[int],
             now: dt.datetime) -> Iterable[tuple[str, set[int]]]:
    """(reason, customers failing it) for each condition of the step, in order."""
    if not customer_ids:
        return
    if step.require_friend:
        friends: set[int] = set()
        for chunk in _chunks(customer_ids):
            friends.update(FollowRelation.objects.for_workspace(workspace).filter(
                customer_id__in=chunk, deleted_at=None).values_list("customer_id", flat=True))
        yield "not_friend", set(customer_ids) - friends
    if step.not_tag_ids:
        tagged: set[int] = set()
        for chunk in _chunks(customer_ids):
            tagged.update(CustomerTag.objects.for_workspace(workspace).filter(
                customer_id__in=chunk, tag_id__in=step.not_tag_ids).values_list("customer_id", flat=True))
        yield "tagged", tagged
    if step.stage:
        other: set[int] = set()
        for chunk in _chunks(customer_ids):
            other.update(Customer.objects.for_workspace(workspace).filter(pk__in=chunk).exclude(
                stage=step.stage).values_list("pk", flat=True))
        yield "stage", other
    if step.channel == StepChannel.MASS:
        refused = messaging.budget.preview(workspace, messaging.Recipients.customers(customer_ids), now).refused
        yield "no_budget", set(refused)


def _group_failing(workspace: Workspace, step: SopStep, group_ids: list[int],
                   now: dt.datetime) -> Iterable[tuple[str, set[int]]]:
    """A group step's conditions: the group still live with an active owner (WeCom sends a
    group 群发 only as its owner), and the group's receive budget left (a `mass` step)."""
    if not group_ids:
        return
    found = directory()
    refs = found.describe(workspace, group_ids) if found is not None else {}
    yield "group_gone", {g for g in group_ids if g not in refs or not refs[g].live}
    if step.channel == StepChannel.MASS:
        refused = messaging.budget.preview(workspace, messaging.Recipients.groups(group_ids), now).refused
        yield "no_budget", set(refused)


def _hand_over(workspace: Workspace, claim: str, now: dt.datetime, swept: Swept) -> None:
    # (run, its customer or, in a group SOP, its group, step)
    runs = [(pk, c if c is not None else (g or 0), s) for pk, c, g, s in
            _claimed(workspace, claim).values_list("pk", "customer_id", "group_id", "step_id")]
    if not runs:
        return
    step = SopStep.unscoped.select_related("version").get(pk=runs[0][2])
    if Sop.unscoped.filter(pk=step.version.sop_id, kind=SopKind.GROUP).exists():
        if step.channel == StepChannel.MASS:
            _send_mass(workspace, step, claim, runs, now, swept, groups=True)
        else:
            _create_group_tasks(workspace, step, runs, now, swept)
    elif step.channel == StepChannel.MASS:
        _send_mass(workspace, step, claim, runs, now, swept)
    elif step.channel == StepChannel.MOMENT:
        _post_moment(workspace, step, runs, now, swept)
    else:
        _create_tasks(workspace, step, runs, now, swept)


def _group_targets(workspace: Workspace, group_ids: list[int]) -> list[messaging.GroupTarget]:
    found = directory()
    refs = found.describe(workspace, group_ids) if found is not None else {}
    return [messaging.GroupTarget(r.group_id, r.chat_id, r.owner_id, r.name) for r in refs.values()]


def _send_mass(workspace: Workspace, step: SopStep, ref: str, runs: list[tuple[int, int, int]],
               now: dt.datetime, swept: Swept, *, groups: bool = False) -> None:
    """One 群发 for the claimed group of runs: to their customers, or (a group SOP) to their
    groups, each sent by its owner. Idempotent on the claim, its ref."""
    sop = Sop.unscoped.get(pk=step.version.sop_id)
    name = f"SOP {sop.name} #{step.order}"[:60]
    try:
        if groups:
            message = messaging.send_to_groups(
                workspace, source="sop", ref=ref, name=name, groups=_group_targets(workspace, [c for _pk, c, _s in runs]),
                text=step.text, attachments=[], send_at=None, now=now)
        else:
            message = messaging.send_to_customers(
                workspace, source="sop", ref=ref, name=name, customer_ids=[c for _pk, c, _s in runs], text=step.text,
                attachments=[], send_at=None, now=now)
    except ValidationError:  # refused before anything was created (e.g. no text, brand not connected)
        _finish(workspace, [pk for pk, _c, _s in runs], RunState.FAILED, "refused", now, swept)
        return
    except Exception as exc:  # noqa: BLE001 - counted; the lease retries it, MAX_ATTEMPTS fails it
        _attempt_failed(workspace, ref, exc, now, swept)
        return
    included = {int(g[0]) for g in message.group_targets} if groups else set(message.customer_ids)
    with transaction.atomic():
        _finish(workspace, [pk for pk, c, _s in runs if c in included], RunState.SENT, "", now, swept, message.pk)
        # Claimed after that ref's 群发 was made (a race at the minute's edge): never handed over,
        # so back to due, where the next sweep gives them a ref of their own.
        left = [pk for pk, c, _s in runs if c not in included]
        StepRun.unscoped.filter(pk__in=left, state=RunState.CLAIMED).update(state=RunState.DUE, claim="",
                                                                            claimed_at=None)


def _post_moment(workspace: Workspace, step: SopStep, runs: list[tuple[int, int, int]],
                 now: dt.datetime, swept: Swept) -> None:
    """One moments post for the group, posted by the staff who own its customers. The post and
    the runs' mark commit together: a group still claimed never made its post (never twice)."""
    owners = _assignees(workspace, [c for _pk, c, _s in runs])
    active = set(StaffAccount.objects.for_workspace(workspace).filter(
        pk__in={account for account, _op in owners.values()}, active=True).values_list("pk", flat=True))
    # No sender at all would make WeCom offer the post to every staff member: those runs skip.
    alone = [pk for pk, c, _s in runs if owners.get(c, (0, None))[0] not in active]
    _finish(workspace, alone, RunState.SKIPPED, "not_friend", now, swept)
    runs = [r for r in runs if r[0] not in set(alone)]
    if not runs:
        return
    data = moments.PostInput(persona_id=step.persona_id or 0, planned_at=now, text=step.text,
                             material_ids=list(step.material_ids), sender_ids=sorted(active))
    try:
        with transaction.atomic():
            # Fenced on the claim's time, rows locked: a sweep that renewed the group after the
            # lease owns it now, and this one posts nothing.
            mine = list(StepRun.unscoped.select_for_update().filter(
                pk__in=[pk for pk, _c, _s in runs], state=RunState.CLAIMED, claimed_at=now).values_list("pk", flat=True))
            if not mine:
                return
            post = moments.save_post(workspace, OPERATOR, data, now=now)
            _finish(workspace, mine, RunState.SENT, "", now, swept, post.pk)
    except ValidationError:  # e.g. the persona or a material deleted since the step was written
        _finish(workspace, [pk for pk, _c, _s in runs], RunState.FAILED, "moment_refused", now, swept)


def _attempt_failed(workspace: Workspace, claim: str, exc: Exception, now: dt.datetime, swept: Swept) -> None:
    """Count one failed hand-over on the group's runs; they stay claimed (so the next sweep after
    the lease tries the same ref again) until the MAX_ATTEMPTS-th, which fails them with the error."""
    log.warning("SOP hand-over %s failed", claim, exc_info=exc)
    claimed = _claimed(workspace, claim)
    claimed.update(attempts=F("attempts") + 1)
    swept.counts["errors"] += 1
    if (claimed.aggregate(n=Max("attempts"))["n"] or 0) >= MAX_ATTEMPTS:
        reason = f"{type(exc).__name__}: {exc}"[:120]
        _finish(workspace, list(claimed.values_list("pk", flat=True)), RunState.FAILED, reason, now, swept)


def _assignees(workspace: Workspace, customer_ids: list[int]) -> dict[int, tuple[int, int | None]]:
    """customer id → (staff account id, its operator's membership id): the latest friendship."""
    found: dict[int, tuple[int, int | None]] = {}
    for chunk in _chunks(customer_ids):
        for customer_id, account_id, operator_id in (
                FollowRelation.objects.for_workspace(workspace).filter(customer_id__in=chunk, deleted_at=None)
                .order_by("added_at").values_list("customer_id", "account_id", "account__operator_id")):
            found[customer_id] = (account_id, operator_id)
    return found


def _create_group_tasks(workspace: Workspace, step: SopStep, runs: list[tuple[int, int, int]],
                        now: dt.datetime, swept: Swept) -> None:
    """A group step's staff task: one `StaffTask` for the group's owner per run (about the group,
    no customer), made in the transaction that marks the run sent, its card queued with it."""
    found = directory()
    refs = found.describe(workspace, [g for _pk, g, _s in runs]) if found is not None else {}
    with transaction.atomic():
        made = []
        for pk, group_id, _s in runs:
            ref = refs.get(group_id)
            made.append(StaffTask(
                workspace=workspace, customer=None, group_id=group_id, subject=(ref.name if ref else "")[:200],
                assignee_id=ref.owner_id if ref else None, operator_id=ref.operator_id if ref else None,
                kind=step.task_kind or "send", text=step.text, due_at=now, sla_hours=step.window_hours,
                breach_at=now + dt.timedelta(hours=step.window_hours), priority=TaskPriority.NORMAL,
                source="sop", ref=f"sop-run:{pk}"))
        StaffTask.unscoped.bulk_create(made, ignore_conflicts=True)
        _finish(workspace, [pk for pk, _g, _s in runs], RunState.SENT, "", now, swept)
        for chunk in _chunks([pk for pk, _g, _s in runs]):
            tell_assignees(workspace, StaffTask.unscoped.filter(
                workspace=workspace, source="sop", ref__in=[f"sop-run:{pk}" for pk in chunk]), now)


def _create_tasks(workspace: Workspace, step: SopStep, runs: list[tuple[int, int, int]],
                  now: dt.datetime, swept: Swept) -> None:
    owners = _assignees(workspace, [c for _pk, c, _s in runs])
    with transaction.atomic():
        StaffTask.unscoped.bulk_create([
            StaffTask(workspace=workspace, customer_id=c, assignee_id=owners.get(c, (None, None))[0],
                      operator_id=owners.get(c, (None, None))[1], kind=step.task_kind or "send", text=step.text,
                      due_at=now, sla_hours=step.window_hours, breach_at=now + dt.timedelta(hours=step.window_hours),
                      priority=TaskPriority.NORMAL,
                      source="sop", ref=f"sop-run:{pk}") for pk, c, _s in runs], ignore_conflicts=True)
        _finish(workspace, [pk for pk, _c, _s in runs], RunState.SENT, "", now, swept)  # task ref: sop-run:<pk>
        # Queued with the tasks, so a task never lacks its card; the outbox paces the sending.
        for chunk in _chunks([pk for pk, _c, _s in runs]):
            tell_assignees(workspace, StaffTask.unscoped.filter(
                workspace=workspace, source="sop", ref__in=[f"sop-run:{pk}" for pk in chunk]), now)
