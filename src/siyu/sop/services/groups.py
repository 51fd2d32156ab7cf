"""群 SOP — group SOPs: routines for customer groups (客户群) of a type or with a tag.

Triggers (seed 003): a group created, a group reaching a member count (its stages: about 100,
400, 500), and a weekly rhythm (Monday topic, Wednesday check-in, Friday welfare: the schedule
trigger, its steps N days after the weekday). Enrolment is one row per (version, group, period),
its runs in the same `StepRun` ledger as customers' (`group_id` instead of `customer_id`), so the
sweep, its claims, quiet hours, versions and catch-up are the customer SOP's. Steps are a group
群发 (`messaging.send_to_groups`, each group sent by its owner) or a staff task for the owner.

The engine learns about groups only from the community app's `GroupDirectory` (`sop/groups.py`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from siyu.core.models import Workspace
from siyu.sop.groups import directory
from siyu.sop.models import (
    REASONS,
    Enrolment,
    Sop,
    SopKind,
    SopStatus,
    SopStep,
    StepRun,
    TriggerKind,
)
from siyu.sop.services.enrolment import plan_runs, write_runs


def enrol_groups(workspace: Workspace, sop: Sop, group_ids: Iterable[int], at: dt.datetime,
                 now: dt.datetime | None = None, *, period: str = "", not_before: dt.datetime | None = None) -> int:
    """Enrol these groups (not yet in this SOP for this `period`) into its current version, their
    clock started at `at` plus the trigger's delay. Idempotent. Returns how many were enrolled."""
    if sop.kind != SopKind.GROUP or sop.status != SopStatus.ACTIVE or sop.current_version_id is None:
        return 0
    now = now or timezone.now()
    anchor = at + dt.timedelta(days=sop.delay_days)
    steps = list(SopStep.objects.for_workspace(workspace).filter(version_id=sop.current_version_id))
    planned, note = plan_runs(sop, steps, anchor)
    ids = sorted({int(g) for g in group_ids})
    already = set(Enrolment.unscoped.filter(sop_id=sop.pk, group_id__in=ids, period=period)
                  .values_list("group_id", flat=True))
    wanted = [g for g in ids if g not in already]
    if not wanted:
        return 0
    with transaction.atomic():
        Enrolment.unscoped.bulk_create([
            Enrolment(workspace=workspace, sop_id=sop.pk, version_id=sop.current_version_id, customer=None, group_id=g,
                      anchor_at=anchor, enrolled_at=now, calendar_note=note, period=period) for g in wanted],
            ignore_conflicts=True)  # a racing enrolment of the same group keeps the first
        mine = Enrolment.unscoped.filter(version_id=sop.current_version_id, group_id__in=wanted, anchor_at=anchor,
                                         period=period, enrolled_at=now)
        write_runs(workspace, mine, planned, not_before=not_before)
        return mine.count()


def _group_sops(workspace: Workspace, trigger: TriggerKind) -> list[Sop]:
    return list(Sop.objects.for_workspace(workspace).filter(kind=SopKind.GROUP, status=SopStatus.ACTIVE,
                                                            trigger=trigger).order_by("pk"))


def audience(workspace: Workspace, sop: Sop) -> list[int]:
    """The live groups a group SOP is for (its type and tag; any when empty)."""
    found = directory()
    if found is None:
        return []
    return found.audience(workspace, group_type=sop.group_type, group_tag=sop.group_tag)


def groups_created(workspace: Workspace, group_ids: Iterable[int], at: dt.datetime,
                   now: dt.datetime | None = None) -> int:
    """Groups made in WeCom: enrol them into the active "group created" SOPs they are in the
    audience of. Called by the community app; idempotent (one enrolment per SOP and group)."""
    ids = set(group_ids)
    return sum(enrol_groups(workspace, sop, ids & set(audience(workspace, sop)), at, now)
               for sop in _group_sops(workspace, TriggerKind.GROUP_CREATED))


def groups_sized(workspace: Workspace, member_counts: Mapping[int, int], at: dt.datetime,
                 now: dt.datetime | None = None) -> int:
    """Groups whose member count is now known: enrol each that has reached an active "member
    count" SOP's count (once per SOP and group, however often it is told)."""
    enrolled = 0
    for sop in _group_sops(workspace, TriggerKind.GROUP_SIZE):
        reached = {g for g, n in member_counts.items() if n >= (sop.member_count or 0)}
        if reached:
            enrolled += enrol_groups(workspace, sop, reached & set(audience(workspace, sop)), at, now,
                                     period=f"n{sop.member_count}")
    return enrolled


@dataclass(frozen=True)
class GroupStepOutcome:
    order: int
    channel: str
    text: str
    due_at: dt.datetime
    state: str
    reason: str


@dataclass(frozen=True)
class GroupSopView:
    sop: Sop
    runs: list[GroupStepOutcome]


def sops_of_group(workspace: Workspace, group_id: int, *, limit: int = 50) -> list[GroupSopView]:
    """The SOPs this group is enrolled in, each with its steps' outcomes (the latest first), for
    the group's page."""
    enrolments = (Enrolment.objects.for_workspace(workspace).filter(group_id=group_id)
                  .select_related("sop").order_by("-enrolled_at", "-pk")[:limit])
    runs: dict[int, list[GroupStepOutcome]] = {}
    for enrolment_id, order, channel, text, due_at, state, reason in (
            StepRun.objects.for_workspace(workspace).filter(enrolment__in=[e.pk for e in enrolments])
            .order_by("due_at", "step__order").values_list("enrolment_id", "step__order", "step__channel",
                                                          "step__text", "due_at", "state", "reason")):
        runs.setdefault(enrolment_id, []).append(GroupStepOutcome(order, channel, text, due_at, state,
                                                                  str(REASONS.get(reason, reason))))
    return [GroupSopView(e.sop, runs.get(e.pk, [])) for e in enrolments]


def applying_sops(workspace: Workspace, group_id: int) -> list[Sop]:
    """Active group SOPs whose audience holds this group (enrolled or not yet)."""
    return [sop for sop in Sop.objects.for_workspace(workspace).filter(kind=SopKind.GROUP, status=SopStatus.ACTIVE)
            .order_by("pk") if group_id in set(audience(workspace, sop))]


def enrolled_groups(workspace: Workspace, sop: Sop) -> int:
    return (Enrolment.objects.for_workspace(workspace).filter(sop=sop, group_id__isnull=False)
            .aggregate(n=Count("group_id", distinct=True))["n"] or 0)


__all__ = ["GroupSopView", "GroupStepOutcome", "applying_sops", "audience", "enrol_groups", "enrolled_groups",
           "groups_created", "groups_sized", "sops_of_group"]
