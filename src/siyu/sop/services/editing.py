"""Building SOPs: create, edit (a new version), activate, pause, resume and stop; the list and
the per-step report. Roles: the `sop` column (view to read, edit to change)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from siyu.core.auditing import audit_change, change, fact
from siyu.core.models import AuditAction, Workspace
from siyu.core.permissions import Action, Seat, require, role_of
from siyu.customers.models import LifecycleStage
from siyu.ip.models import Persona
from siyu.segments.models import Segment
from siyu.sop.groups import directory
from siyu.sop.models import (
    GROUP_TRIGGERS,
    REASONS,
    RunState,
    Sop,
    SopKind,
    SopStatus,
    SopStep,
    SopVersion,
    StepChannel,
    StepRun,
    Timing,
    TriggerKind,
)
from siyu.sop.services.enrolment import MAX_OCCURRENCES, migrate_enrolments, move_event
from siyu.sop.services.occasions import start_event_enrolment
from siyu.tags.models import Tag

MODULE = "sop"
SUBJECT = gettext_lazy("SOP")
MAX_STEPS = 20
MAX_GROUP = 500  # WECOM.md §4: a customer group holds at most 500 members


@dataclass
class StepInput:
    timing: str = Timing.RELATIVE
    days: int = 0
    hours: int = 0
    at_time: dt.time | None = None
    absolute_at: dt.datetime | None = None
    repeat_every_days: int = 0
    repeat_times: int = 1
    channel: str = StepChannel.MASS
    task_kind: str = ""
    text: str = ""
    template_id: int | None = None
    material_ids: list[int] = field(default_factory=list)
    require_friend: bool = True
    not_tag_ids: list[int] = field(default_factory=list)
    stage: str = ""
    window_hours: int = 24
    persona_id: int | None = None


@dataclass
class SopInput:
    name: str
    kind: str = SopKind.CUSTOMER
    trigger: str = TriggerKind.ADDED
    channel_states: list[str] = field(default_factory=list)
    tag_id: int | None = None
    segment_id: int | None = None
    delay_days: int = 0
    quiet_start: dt.time = dt.time(22, 0)
    quiet_end: dt.time = dt.time(8, 0)
    working_days_only: bool = True
    stage: str = ""
    at_time: dt.time | None = None
    schedule_weekday: int | None = None
    schedule_date: dt.date | None = None
    event_at: dt.datetime | None = None
    group_type: str = ""  # GROUP: the audience's type (any when empty)
    group_tag: str = ""  # GROUP: the audience's tag (any when empty)
    member_count: int | None = None  # GROUP_SIZE: the count that starts it


def require_edit(membership: Seat | None) -> None:
    require(role_of(membership), MODULE, Action.EDIT)


def _segment_ok(workspace: Workspace, segment_id: int | None) -> bool:
    return bool(segment_id and Segment.objects.for_workspace(workspace).filter(pk=segment_id).exists())


def _tag_ok(workspace: Workspace, tag_id: int | None) -> bool:
    return bool(tag_id and Tag.objects.for_workspace(workspace).filter(pk=tag_id, deleted_at=None).exists())


def _check_trigger(workspace: Workspace, data: SopInput) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if data.trigger in (TriggerKind.SEGMENT_ENTERED, TriggerKind.SEGMENT_LEFT, TriggerKind.SCHEDULE) and not (
            _segment_ok(workspace, data.segment_id)):
        errors.setdefault("segment_id", []).append(_("Choose a segment of this brand."))
    if data.trigger in (TriggerKind.TAG_ADDED, TriggerKind.TAG_REMOVED) and not _tag_ok(workspace, data.tag_id):
        errors.setdefault("tag_id", []).append(_("Choose a tag of this brand."))
    if data.trigger == TriggerKind.STAGE_REACHED and data.stage not in LifecycleStage.values:
        errors.setdefault("stage", []).append(_("Choose the lifecycle stage that starts it."))
    if data.trigger in (TriggerKind.BIRTHDAY, TriggerKind.SCHEDULE) and data.at_time is None:
        errors.setdefault("at_time", []).append(_("Give the time of day it starts."))
    if data.trigger == TriggerKind.SCHEDULE and (data.schedule_weekday is None) == (data.schedule_date is None):
        errors.setdefault("schedule_weekday", []).append(_("Choose either a weekday or a date."))
    return errors


def _check_event(workspace: Workspace, data: SopInput) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if data.event_at is None:
        errors.setdefault("event_at", []).append(_("Give the event's date and time."))
    if data.segment_id and data.tag_id:
        errors.setdefault("segment_id", []).append(_("Choose the audience by a segment or by a tag, not both."))
    elif data.segment_id and not _segment_ok(workspace, data.segment_id):
        errors.setdefault("segment_id", []).append(_("Choose a segment of this brand."))
    elif data.tag_id and not _tag_ok(workspace, data.tag_id):
        errors.setdefault("tag_id", []).append(_("Choose a tag of this brand."))
    elif not (data.segment_id or data.tag_id):
        errors.setdefault("segment_id", []).append(_("Choose the event's audience: a segment or a tag."))
    return errors


def _check_group(data: SopInput) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if directory() is None:  # the community app stores the groups; without it nothing could enrol
        errors.setdefault("kind", []).append(_("Group SOPs need the community app (社群), which is not installed."))
    if data.trigger not in GROUP_TRIGGERS:
        errors.setdefault("trigger", []).append(_(
            "A group SOP starts when a group is created, reaches a member count, or on a weekly rhythm."))
    if data.trigger == TriggerKind.GROUP_SIZE and not (data.member_count and 2 <= data.member_count <= MAX_GROUP):
        errors.setdefault("member_count", []).append(_("Give the member count that starts it, 2 to 500 (WeCom's "
                                                       "largest group)."))
    if data.trigger == TriggerKind.SCHEDULE:
        if data.at_time is None:
            errors.setdefault("at_time", []).append(_("Give the time of day it starts."))
        if (data.schedule_weekday is None) == (data.schedule_date is None):
            errors.setdefault("schedule_weekday", []).append(_("Choose either a weekday or a date."))
    if len(data.group_type) > 12 or len(data.group_tag) > 12:
        errors.setdefault("group_type", []).append(_("A group type or tag has at most 12 characters."))
    return errors


def _check(workspace: Workspace, data: SopInput, steps: list[StepInput]) -> None:
    errors: dict[str, list[str]] = {}
    if not data.name.strip():
        errors.setdefault("name", []).append(_("Give the SOP a name."))
    if data.kind == SopKind.GROUP:
        errors.update(_check_group(data))
    elif data.kind == SopKind.EVENT:
        errors.update(_check_event(workspace, data))
    else:
        errors.update(_check_trigger(workspace, data))
    if not steps:
        errors.setdefault("steps", []).append(_("Add at least one step."))
    if len(steps) > MAX_STEPS:
        errors.setdefault("steps", []).append(_("An SOP has at most %(n)d steps.") % {"n": MAX_STEPS})
    for number, step in enumerate(steps, start=1):
        problem = _step_problem(workspace, data, step)
        if problem:
            errors.setdefault("steps", []).append(_("Step %(n)d: %(problem)s") % {"n": number, "problem": problem})
    if errors:
        raise ValidationError(errors)


def _step_problem(workspace: Workspace, data: SopInput, step: StepInput) -> str:
    if data.kind == SopKind.GROUP and step.channel == StepChannel.MOMENT:
        return _("a group SOP sends group messages or gives its owner a task; moments are for customers.")
    if step.channel == StepChannel.MASS and not step.text.strip():
        return _("a mass message needs its text.")
    if step.channel == StepChannel.TASK and not step.task_kind:
        return _("choose what the staff task is.")
    if step.channel == StepChannel.MOMENT and not (
            step.persona_id and Persona.objects.for_workspace(workspace).filter(pk=step.persona_id).exists()):
        return _("choose the persona whose moments post it is.")
    if step.channel == StepChannel.MOMENT and not (step.text.strip() or step.material_ids):
        return _("a moments post needs its text.")
    if step.days < 0 and data.kind != SopKind.EVENT:
        return _("only an event SOP's steps come before its start (negative days).")
    if step.timing == Timing.ABSOLUTE and step.absolute_at is None:
        return _("give the date and time it fires.")
    if step.timing == Timing.REPEATING and not (step.repeat_every_days >= 1 and 1 <= step.repeat_times <= MAX_OCCURRENCES):
        return _("repeat every 1 day or more, at most %(n)d times.") % {"n": MAX_OCCURRENCES}
    if not 1 <= step.window_hours <= 720:
        return _("the catch-up window is 1 to 720 hours.")
    return ""


def _write_version(workspace: Workspace, sop: Sop, steps: list[StepInput]) -> SopVersion:
    number = (SopVersion.objects.for_workspace(workspace).filter(sop=sop).aggregate(n=Max("number"))["n"] or 0) + 1
    version = SopVersion.unscoped.create(workspace=workspace, sop=sop, number=number)
    SopStep.unscoped.bulk_create([SopStep(workspace=workspace, version=version, order=i, **asdict(step))
                                 for i, step in enumerate(steps, start=1)])
    sop.current_version = version
    sop.save(update_fields=["current_version", "updated_at"])
    return version


def _apply(sop: Sop, data: SopInput) -> None:
    for name, value in asdict(data).items():
        setattr(sop, name, value.strip() if isinstance(value, str) and name == "name" else value)
    if sop.kind == SopKind.EVENT:
        sop.delay_days = 0  # an event's clock is its date; steps carry their own offsets


def create_sop(workspace: Workspace, membership: Seat | None, data: SopInput, steps: list[StepInput]) -> Sop:
    require(role_of(membership), MODULE, Action.EDIT)
    _check(workspace, data, steps)
    with transaction.atomic():
        sop = Sop(workspace=workspace)
        _apply(sop, data)
        sop.save()
        _write_version(workspace, sop, steps)
        audit_change(workspace, membership, AuditAction.CREATED, module=MODULE, subject=SUBJECT, name=sop.name,
                     data={"sop": sop.pk})
    return sop


def edit_sop(workspace: Workspace, membership: Seat | None, sop_id: int, data: SopInput,
             steps: list[StepInput], *, migrate: bool = False, now: dt.datetime | None = None) -> Sop:
    """Save a new version. Running enrolments keep theirs unless `migrate`: then their steps not
    yet fired are replaced by the new version's steps not yet due."""
    require(role_of(membership), MODULE, Action.EDIT)
    _check(workspace, data, steps)
    with transaction.atomic():
        sop = Sop.objects.for_workspace(workspace).select_for_update().get(pk=sop_id)
        if sop.status == SopStatus.STOPPED:
            raise ValidationError(_("A stopped SOP cannot be edited."))
        event_before = sop.event_at
        _apply(sop, data)
        sop.save()
        version = _write_version(workspace, sop, steps)
        # The event moved: enrolled customers' steps not yet fired move with it (first, so a
        # migration below writes the new version's steps from the new date).
        shifted = (move_event(workspace, sop, sop.event_at) if sop.kind == SopKind.EVENT and sop.event_at
                   and event_before and sop.event_at != event_before else 0)
        moved = migrate_enrolments(workspace, sop, version, now or timezone.now()) if migrate else 0
        audit_change(workspace, membership, AuditAction.UPDATED, module=MODULE, subject=SUBJECT, name=sop.name,
                     changes=[change(gettext_lazy("event date"), event_before, sop.event_at)]
                     if sop.kind == SopKind.EVENT and event_before != sop.event_at else [],
                     facts=[fact(gettext_lazy("version"), version.number),
                            fact(gettext_lazy("enrolments migrated"), moved),
                            fact(gettext_lazy("steps moved with the event"), shifted)],
                     data={"sop": sop.pk, "version": version.number, "migrated": moved})
    return sop


ALLOWED = {
    SopStatus.ACTIVE: (SopStatus.DRAFT, SopStatus.PAUSED),
    SopStatus.PAUSED: (SopStatus.ACTIVE,),
    SopStatus.STOPPED: (SopStatus.DRAFT, SopStatus.ACTIVE, SopStatus.PAUSED),
}


def set_status(workspace: Workspace, membership: Seat | None, sop_id: int, status: str,
               now: dt.datetime | None = None) -> Sop:
    """Activate (or resume), pause, or stop. A paused SOP's due steps wait (and expire past their
    window); stopping skips every step not yet fired."""
    require(role_of(membership), MODULE, Action.EDIT)
    target = SopStatus(status)
    with transaction.atomic():
        sop = Sop.objects.for_workspace(workspace).select_for_update().get(pk=sop_id)
        if sop.status not in ALLOWED.get(target, ()):
            raise ValidationError(_("This SOP cannot go from %(old)s to %(new)s.")
                                  % {"old": SopStatus(sop.status).label, "new": target.label})
        before = sop.status
        sop.status = target
        sop.save(update_fields=["status", "updated_at"])
        if target == SopStatus.STOPPED:
            StepRun.objects.for_workspace(workspace).filter(sop=sop, state=RunState.DUE).update(
                state=RunState.SKIPPED, reason="stopped", finished_at=now or timezone.now())
        audit_change(workspace, membership, AuditAction.UPDATED, module=MODULE, subject=SUBJECT, name=sop.name,
                     changes=[change(gettext_lazy("status"), SopStatus(before).label, target.label)],
                     data={"sop": sop.pk})
    if target == SopStatus.ACTIVE and sop.kind == SopKind.EVENT:
        # The audience now (a large one in the background, sliced); later joiners as they come.
        start_event_enrolment(workspace, sop, now=now)
    return sop


def list_sops(workspace: Workspace, membership: Seat | None) -> QuerySet[Sop]:
    require(role_of(membership), MODULE, Action.VIEW)
    return (Sop.objects.for_workspace(workspace).select_related("current_version")
            .annotate(enrolled=Count("enrolments", distinct=True)).order_by("-id"))


def get_sop(workspace: Workspace, membership: Seat | None, sop_id: int) -> Sop:
    require(role_of(membership), MODULE, Action.VIEW)
    return Sop.objects.for_workspace(workspace).select_related("current_version").get(pk=sop_id)


@dataclass
class StepReport:
    step: SopStep
    counts: dict[str, int]
    reasons: dict[str, int]


def step_report(workspace: Workspace, membership: Seat | None, sop: Sop) -> list[StepReport]:
    """Per step of the current version: due, firing, fired, skipped (by reason), expired, failed."""
    require(role_of(membership), MODULE, Action.VIEW)
    steps = list(SopStep.objects.for_workspace(workspace).filter(version_id=sop.current_version_id))
    reports = {s.pk: StepReport(s, dict.fromkeys(RunState.values, 0), {}) for s in steps}
    for step_id, state, reason, n in (StepRun.objects.for_workspace(workspace).filter(step_id__in=list(reports))
                                      .values_list("step_id", "state", "reason").annotate(n=Count("pk"))
                                      .order_by()):
        reports[step_id].counts[state] += n
        if reason:
            label = str(REASONS.get(reason, reason))
            reports[step_id].reasons[label] = reports[step_id].reasons.get(label, 0) + n
    return list(reports.values())
