"""客诉 — complaints worked on two lines (明暗两条线, seed 003's practice for groups): the visible
line answers in the group at once, so every member sees the brand listening; the hidden line
follows up 1:1 in private until the problem is solved. Both are `sop.StaffTask`s (source
"complaints"); the hidden one escalates to the ops leads through the task centre when its SLA
is breached."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from siyu.core.tenancy import WorkspaceScoped


class Channel(models.TextChoices):
    GROUP = "group", _("In a group (raised by staff)")
    STAFF = "staff", _("By a staff member")
    FAN = "fan", _("From the fan page")


class Priority(models.IntegerChoices):
    NORMAL = 1, pgettext_lazy("complaint priority", "Normal")
    VIP = 2, _("VIP")


class Status(models.TextChoices):
    OPEN = "open", pgettext_lazy("complaint", "Open")
    ACKNOWLEDGED = "acked", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", pgettext_lazy("complaint", "Closed")


class Complaint(WorkspaceScoped):
    """客诉工单 — one complaint: who, where, what, how urgent, and where it stands."""

    customer = models.ForeignKey("customers.Customer", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    group = models.ForeignKey("community.CustomerGroup", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    channel = models.CharField(max_length=6, choices=Channel.choices)
    text = models.TextField()
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    raised_by = models.ForeignKey("core.Membership", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    opened_at = models.DateTimeField()
    ack_due_at = models.DateTimeField()
    resolve_due_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=300, blank=True)
    script = models.TextField(blank=True)  # the public acknowledgement staff were given
    visible_task_id = models.BigIntegerField(null=True, blank=True)
    hidden_task_id = models.BigIntegerField(null=True, blank=True)
    key = models.CharField(max_length=40, blank=True)  # a fan's form submission, so a resubmit is one complaint

    class Meta(WorkspaceScoped.Meta):
        constraints = [models.UniqueConstraint(fields=["workspace", "key"], condition=~Q(key=""),
                                               name="complaints_key_unique")]
        indexes = [models.Index(fields=["workspace", "status", "opened_at"]),
                   models.Index(fields=["workspace", "customer", "opened_at"])]
        ordering = ["-opened_at", "-id"]

    def __str__(self) -> str:
        return self.text[:30]
