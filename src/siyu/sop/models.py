"""SOP — routines of steps that fire for enrolled customers, and the staff task centre (任务中心).

A `Sop` points at its current `SopVersion`; a version's `SopStep`s never change (an edit makes a
new version). Enrolling a customer writes one `Enrolment` per (version, customer) and one
`StepRun` per (enrolment, step, occurrence): the ledger the every-minute sweep walks through its
(state, due_at) index. Nothing lives in memory, so a restart loses nothing.
"""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from siyu.core.tenancy import WorkspaceScoped


class SopKind(models.TextChoices):
    CUSTOMER = "customer", _("Customer SOP")
    GROUP = "group", _("Group SOP")
    EVENT = "event", _("Event SOP")


class SopStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("sop status", "Draft")
    ACTIVE = "active", pgettext_lazy("sop status", "Active")
    PAUSED = "paused", pgettext_lazy("sop status", "Paused")
    STOPPED = "stopped", pgettext_lazy("sop status", "Stopped")


class TriggerKind(models.TextChoices):
    ADDED = "added", _("Added as a friend (optionally through given channel codes)")
    TAG_ADDED = "tag_added", _("A tag added")
    TAG_REMOVED = "tag_removed", _("A tag removed")
    SEGMENT_ENTERED = "segment_entered", _("Entered a segment")
    SEGMENT_LEFT = "segment_left", _("Left a segment")
    STAGE_REACHED = "stage_reached", _("Reached a lifecycle stage")
    BIRTHDAY = "birthday", _("Birthday (every year, at a time of day)")
    SCHEDULE = "schedule", _("On a weekday or a date, for a segment's members")
    GROUP_CREATED = "group_created", _("A customer group created")
    GROUP_SIZE = "group_size", _("A customer group reached a member count")


# Triggers that come round on a clock (the schedule job), not on a customer's event.
SCHEDULED_TRIGGERS = (TriggerKind.BIRTHDAY, TriggerKind.SCHEDULE)
# A group SOP's triggers: a group made, a member count reached, or a weekly rhythm (SCHEDULE).
GROUP_TRIGGERS = (TriggerKind.GROUP_CREATED, TriggerKind.GROUP_SIZE, TriggerKind.SCHEDULE)


class Sop(WorkspaceScoped):
    """SOP 流程 — a routine of steps for customers who meet its trigger."""

    name = models.CharField(_("name"), max_length=60)
    kind = models.CharField(max_length=10, choices=SopKind.choices, default=SopKind.CUSTOMER)
    status = models.CharField(max_length=10, choices=SopStatus.choices, default=SopStatus.DRAFT)
    trigger = models.CharField(_("trigger"), max_length=20, choices=TriggerKind.choices, default=TriggerKind.ADDED)
    channel_states = models.JSONField(default=list, blank=True)  # channel codes' `state`; empty: any add
    tag_id = models.IntegerField(null=True, blank=True)
    segment_id = models.IntegerField(null=True, blank=True)
    delay_days = models.PositiveSmallIntegerField(_("days after the trigger"), default=0)
    stage = models.CharField(max_length=10, blank=True)  # STAGE_REACHED: a LifecycleStage
    at_time = models.TimeField(null=True, blank=True)  # BIRTHDAY, SCHEDULE: the time of day (Asia/Shanghai)
    schedule_weekday = models.PositiveSmallIntegerField(null=True, blank=True)  # SCHEDULE: 0 = Monday
    schedule_date = models.DateField(null=True, blank=True)  # SCHEDULE: once, on this day
    last_occurrence = models.CharField(max_length=10, blank=True)  # the schedule job's last day enrolled
    event_at = models.DateTimeField(null=True, blank=True)  # EVENT: the activity; steps are offset from it
    # GROUP: its audience, groups of this type and/or carrying this tag (empty: any group), and
    # GROUP_SIZE's member count (seed 003's stages: about 100, 400, 500).
    group_type = models.CharField(max_length=12, blank=True)
    group_tag = models.CharField(max_length=12, blank=True)
    member_count = models.PositiveIntegerField(null=True, blank=True)
    # EVENT: the background enrolment of its audience (`tasks.enrol_event_audience`): the last
    # customer id done, so a sliced job resumes where it stopped; None when none is running.
    enrol_cursor = models.BigIntegerField(null=True, blank=True)
    quiet_start = models.TimeField(_("quiet hours from"), default=dt.time(22, 0))
    quiet_end = models.TimeField(_("quiet hours until"), default=dt.time(8, 0))
    working_days_only = models.BooleanField(_("working days only"), default=True)
    current_version = models.ForeignKey("sop.SopVersion", null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(WorkspaceScoped.Meta):
        indexes = [models.Index(fields=["workspace", "status", "trigger"])]
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.name


class SopVersion(WorkspaceScoped):
    """版本 — an immutable snapshot of an SOP's steps."""

    sop = models.ForeignKey(Sop, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(WorkspaceScoped.Meta):
        constraints = [models.UniqueConstraint(fields=["sop", "number"], name="sop_version_unique")]


class Timing(models.TextChoices):
    RELATIVE = "relative", _("After N days / hours")
    ABSOLUTE = "absolute", _("At a fixed time")
    REPEATING = "repeating", _("Repeating")


class StepChannel(models.TextChoices):
    MASS = "mass", _("Mass message (群发)")
    TASK = "task", _("Staff task")
    MOMENT = "moment", _("Moments post (朋友圈)")


class TaskKind(models.TextChoices):
    SEND = "send", _("1:1 send")
    CALL = "call", _("Call")
    TAG = "tag", _("Tag")
    INVITE = "invite", _("Invite to a group")
    REMOVE = "remove", _("Remove from a group")  # WeCom has no server API for it: the owner does it


class SopStep(WorkspaceScoped):
    """步骤 — one step of a version: when, through which channel, what, and on which conditions."""

    version = models.ForeignKey(SopVersion, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField()
    timing = models.CharField(max_length=10, choices=Timing.choices, default=Timing.RELATIVE)
    days = models.SmallIntegerField(default=0)  # negative only in an event SOP: days before the event
    hours = models.PositiveSmallIntegerField(default=0)
    at_time = models.TimeField(null=True, blank=True)  # a time of day (Asia/Shanghai)
    absolute_at = models.DateTimeField(null=True, blank=True)
    repeat_every_days = models.PositiveSmallIntegerField(default=0)
    repeat_times = models.PositiveSmallIntegerField(default=1)
    channel = models.CharField(max_length=8, choices=StepChannel.choices, default=StepChannel.MASS)
    task_kind = models.CharField(max_length=6, choices=TaskKind.choices, blank=True)
    text = models.TextField(blank=True)
    template_id = models.IntegerField(null=True, blank=True)
    material_ids = models.JSONField(default=list, blank=True)
    require_friend = models.BooleanField(default=True)
    not_tag_ids = models.JSONField(default=list, blank=True)
    stage = models.CharField(max_length=10, blank=True)
    window_hours = models.PositiveSmallIntegerField(default=24)  # past this, a late step expires
    persona_id = models.IntegerField(null=True, blank=True)  # MOMENT: the persona (人设) whose moment it is

    class Meta(WorkspaceScoped.Meta):
        constraints = [models.UniqueConstraint(fields=["version", "order"], name="sop_step_order_unique")]
        ordering = ["order"]


class Enrolment(WorkspaceScoped):
    """入组 — a customer (or, in a group SOP, a customer group) running one version of an SOP;
    `anchor_at` is when its clock started.
    `period` tells apart the runs of a repeating trigger ("2026" for a birthday, "2026-W49" for
    a weekly schedule, a stage change's instant); empty for triggers that enrol a customer once."""

    # No index of their own: they lead the (sop, customer) and (version, customer) indexes below.
    sop = models.ForeignKey(Sop, on_delete=models.CASCADE, related_name="enrolments", db_index=False)
    version = models.ForeignKey(SopVersion, on_delete=models.CASCADE, related_name="enrolments", db_index=False)
    customer = models.ForeignKey("customers.Customer", null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="+")
    # A group SOP's group: the community app's key, no foreign key (sop sits below community).
    group_id = models.BigIntegerField(null=True, blank=True)
    anchor_at = models.DateTimeField()
    enrolled_at = models.DateTimeField()
    calendar_note = models.CharField(max_length=120, blank=True)  # e.g. a year the holiday calendar lacks
    period = models.CharField(max_length=16, blank=True, default="", db_default="")

    class Meta(WorkspaceScoped.Meta):
        constraints = [models.UniqueConstraint(fields=["version", "customer", "period"], name="sop_enrolment_unique"),
                       models.UniqueConstraint(fields=["version", "group_id", "period"],
                                               condition=models.Q(group_id__isnull=False),
                                               name="sop_group_enrolment_unique")]
        indexes = [models.Index(fields=["sop", "customer"]),
                   models.Index(fields=["sop", "group_id"], condition=models.Q(group_id__isnull=False),
                                name="sop_enrolment_group")]


class RunState(models.TextChoices):
    DUE = "due", _("Due")
    CLAIMED = "claimed", _("Firing")
    SENT = "sent", _("Fired")
    SKIPPED = "skipped", _("Skipped")
    EXPIRED = "expired", _("Expired")
    FAILED = "failed", _("Failed")


# Why a run did not fire, as people read it on the SOP's ledger.
REASONS = {
    "late": _("past its catch-up window"),
    "migrated": _("moved to a new version"),
    "stopped": _("SOP stopped"),
    "not_friend": _("no longer a friend"),
    "tagged": _("carries an excluded tag"),
    "stage": _("in another lifecycle stage"),
    "no_budget": _("receive limit reached"),
    "refused": _("refused by the mass message service"),
    "moment_refused": _("refused by the moments service"),
    "group_gone": _("group dismissed or without an active owner"),
}
# Beyond these, a reason is the error that failed a 群发 hand-over MAX_ATTEMPTS times, as raised.


class StepRun(WorkspaceScoped):
    """步骤台账 — one firing of one step for one enrolment: due → claimed → sent | skipped |
    expired | failed, each end with its reason. Claimed by a conditional UPDATE, never twice."""

    sop = models.ForeignKey(Sop, on_delete=models.CASCADE, related_name="+")
    # No index of their own (each costs every enrolment a write): they lead the unique
    # (enrolment, step, occurrence) and the (step, state) indexes below.
    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="runs", db_index=False)
    step = models.ForeignKey(SopStep, on_delete=models.CASCADE, related_name="runs", db_index=False)
    occurrence = models.PositiveSmallIntegerField(default=0)
    customer_id = models.BigIntegerField(null=True)  # the enrolment's, copied so the sweep needs no join
    group_id = models.BigIntegerField(null=True)  # a group SOP's run: the enrolment's group
    due_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    state = models.CharField(max_length=8, choices=RunState.choices, default=RunState.DUE)
    reason = models.CharField(max_length=120, blank=True)
    # A database default: the enrolment INSERT ... SELECT names its columns.
    attempts = models.PositiveSmallIntegerField(default=0, db_default=0)  # hand-overs that raised an unexpected error
    claim = models.CharField(max_length=64, blank=True)  # the sweep's token, or the 群发 ref it went into
    claimed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    result_id = models.BigIntegerField(null=True, blank=True)  # the MassMessage, StaffTask or MomentPost

    class Meta(WorkspaceScoped.Meta):
        constraints = [models.UniqueConstraint(fields=["enrolment", "step", "occurrence"], name="sop_run_unique")]
        indexes = [
            models.Index(fields=["state", "due_at"], name="sop_run_due"),
            models.Index(fields=["step", "state"], name="sop_run_by_step"),
            models.Index(fields=["claim"], name="sop_run_by_claim"),
        ]


class TaskState(models.TextChoices):
    OPEN = "open", _("To do")
    DONE = "done", _("Done")
    SNOOZED = "snoozed", _("Snoozed")
    SKIPPED = "skipped", pgettext_lazy("task state", "Skipped")


class TaskPriority(models.IntegerChoices):
    LOW = 0, _("Low")
    NORMAL = 1, _("Normal")
    HIGH = 2, _("High")


class StaffTask(WorkspaceScoped):
    """任务 — something a member of staff does by hand for a customer (a 1:1 send, a call, a tag,
    an invitation), because WeCom will not let a server do it."""

    assignee = models.ForeignKey("accounts.StaffAccount", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    operator = models.ForeignKey("core.Membership", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    customer = models.ForeignKey("customers.Customer", null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="+")  # None: a task about a customer group
    group_id = models.BigIntegerField(null=True, blank=True)  # the community app's group, for a group task
    subject = models.CharField(max_length=200, blank=True)  # what a group task is about: the group's name
    kind = models.CharField(max_length=6, choices=TaskKind.choices)
    text = models.TextField(blank=True)
    due_at = models.DateTimeField()
    sla_hours = models.PositiveSmallIntegerField(default=24)
    priority = models.PositiveSmallIntegerField(choices=TaskPriority.choices, default=TaskPriority.NORMAL)
    state = models.CharField(max_length=8, choices=TaskState.choices, default=TaskState.OPEN)
    reason = models.CharField(max_length=120, blank=True)
    outcome = models.CharField(max_length=300, blank=True)
    snoozed_until = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    breach_at = models.DateTimeField(null=True, blank=True)  # due + SLA: past it, still open escalates
    escalated_at = models.DateTimeField(null=True, blank=True)  # told the ops leads, once
    source = models.CharField(max_length=12)  # "sop", later complaints, community, fission
    ref = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(WorkspaceScoped.Meta):
        constraints = [models.UniqueConstraint(fields=["workspace", "source", "ref"], name="staff_task_ref_unique")]
        indexes = [
            models.Index(fields=["workspace", "operator", "state", "due_at"]),
            # The escalation job's walk: only tasks still to do and not yet escalated are in it.
            models.Index(fields=["breach_at"], name="staff_task_to_escalate",
                         condition=models.Q(escalated_at__isnull=True, state__in=["open", "snoozed"])),
        ]
        ordering = ["due_at", "id"]
