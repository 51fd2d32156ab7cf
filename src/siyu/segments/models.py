"""人群 — segments: the customers a rule selects (dynamic) or a list a brand uploaded (static).

A dynamic segment's members are kept in `SegmentMember` as customers change (see
`segments.services.membership`), so messaging and campaigns iterate a stored list instead of
evaluating the rule again; `member_count` is kept exact with every insert and delete.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from siyu.core.tenancy import WorkspaceScoped


class SegmentKind(models.TextChoices):
    DYNAMIC = "dynamic", _("Dynamic (rule)")
    STATIC = "static", _("Static (uploaded list)")


class Segment(WorkspaceScoped):
    """人群 — a named selection of the brand's customers."""

    name = models.CharField(_("name"), max_length=60)
    description = models.CharField(_("description"), max_length=300, blank=True)
    kind = models.CharField(_("kind"), max_length=8, choices=SegmentKind.choices, default=SegmentKind.DYNAMIC)
    rule = models.JSONField(default=dict, blank=True)  # see segments.services.rules; {} for static
    member_count = models.PositiveIntegerField(_("members"), default=0)
    computed_at = models.DateTimeField(_("computed at"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(WorkspaceScoped.Meta):
        indexes = [models.Index(fields=["workspace", "kind"], name="segment_kind")]
        ordering = ["-updated_at", "-id"]

    def __str__(self) -> str:
        return self.name


class SegmentMember(WorkspaceScoped):
    """One customer in a segment. The unique (segment, customer) index also serves iteration
    in customer id order (keyset pagination) and the membership diffs."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="members")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    added_at = models.DateTimeField()

    class Meta(WorkspaceScoped.Meta):
        constraints = [models.UniqueConstraint(fields=["segment", "customer"], name="segment_member_unique")]
