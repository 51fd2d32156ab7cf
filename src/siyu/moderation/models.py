"""群规与治理 — group rules, the cross-group blacklist, keyword alerts and the anti-spam checklist.

WeCom has no server API to remove a member from a customer group, to auto-reply in one or to set
its notice (WECOM.md §10), and reading group messages needs the paid message archive. So every
action here ends as a task for a person (`sop.StaffTask`, source "moderation")."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from siyu.community.models import GroupType
from siyu.core.tenancy import WorkspaceScoped


class RuleSet(WorkspaceScoped):
    """群规 — a group's rules (seed 003: 群公约 and 群礼仪): who may join and how to name oneself,
    how to talk, and what a breach costs. One per group type; the one without a type serves every
    group whose type has none of its own."""

    name = models.CharField(max_length=60)
    group_type = models.CharField(max_length=12, blank=True, choices=GroupType.choices)  # "" = the default
    join_rules = models.TextField(blank=True)
    behaviour = models.TextField(blank=True)
    penalties = models.TextField(blank=True)
    template = models.CharField(max_length=20, blank=True)  # the library template it started from
    version = models.PositiveIntegerField(default=1)
    published_at = models.DateTimeField(null=True, blank=True)
    published_version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(WorkspaceScoped.Meta):
        constraints = [models.UniqueConstraint(fields=["workspace", "group_type"], name="moderation_rules_type_unique")]
        ordering = ["group_type", "id"]

    def __str__(self) -> str:
        return self.name


class BlacklistSource(models.TextChoices):
    REMOVED = "removed", _("Removed from a group")
    MANUAL = "manual", _("Added by hand")
    REPORT = "report", _("From a report")


class BlacklistEntry(WorkspaceScoped):
    """群黑名单 — someone kept out of every group of the brand: flagged on joining any group, and
    the owner gets a task to remove them. Lifting an entry keeps the row (`lifted_at`)."""

    external_userid = models.CharField(max_length=64, blank=True)
    unionid = models.CharField(max_length=64, blank=True)
    name = models.CharField(max_length=64, blank=True)
    customer = models.ForeignKey("customers.Customer", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    reason = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=8, choices=BlacklistSource.choices)
    source_group = models.ForeignKey("community.CustomerGroup", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    added_by = models.ForeignKey("core.Membership", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey("core.Membership", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    lift_reason = models.CharField(max_length=200, blank=True)

    class Meta(WorkspaceScoped.Meta):
        constraints = [
            models.UniqueConstraint(fields=["workspace", "external_userid"], condition=~Q(external_userid=""),
                                    name="moderation_blacklist_external_unique"),
        ]
        indexes = [models.Index(fields=["workspace", "unionid"])]
        ordering = ["-created_at", "-id"]

    @property
    def active(self) -> bool:
        return self.lifted_at is None

    def __str__(self) -> str:
        return self.name or self.external_userid or self.unionid


class BlacklistHit(WorkspaceScoped):
    """A blacklisted person seen joining a group: one per entry, group and join."""

    entry = models.ForeignKey(BlacklistEntry, on_delete=models.CASCADE, related_name="hits")
    group = models.ForeignKey("community.CustomerGroup", on_delete=models.CASCADE, related_name="+")
    userid = models.CharField(max_length=64)
    joined_at = models.DateTimeField()
    task_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(WorkspaceScoped.Meta):
        constraints = [models.UniqueConstraint(fields=["entry", "group", "joined_at"], name="moderation_hit_unique")]
        ordering = ["-created_at", "-id"]


class AlertKind(models.TextChoices):
    NICKNAME = "nickname", _("Nickname on join")
    REPORT = "report", _("Staff report")


class Alert(WorkspaceScoped):
    """违规提醒 — what Siyu can see of a breach: a joining member's nickname matching a keyword,
    or a staff member's report of a message or member. Each gets a task for the group's owner."""

    kind = models.CharField(max_length=8, choices=AlertKind.choices)
    group = models.ForeignKey("community.CustomerGroup", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    userid = models.CharField(max_length=64, blank=True)  # the member's external_userid
    nickname = models.CharField(max_length=64, blank=True)
    customer = models.ForeignKey("customers.Customer", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    text = models.TextField(blank=True)  # the reported message, or what the reporter says
    keyword = models.CharField(max_length=30, blank=True)
    reported_by = models.ForeignKey("core.Membership", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    task_id = models.BigIntegerField(null=True, blank=True)
    dedupe_key = models.CharField(max_length=120)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(WorkspaceScoped.Meta):
        constraints = [models.UniqueConstraint(fields=["workspace", "dedupe_key"], name="moderation_alert_unique")]
        ordering = ["-created_at", "-id"]


class KeywordList(WorkspaceScoped):
    """敏感词 — the words that flag a joining member's nickname; one list per brand."""

    words = models.JSONField(default=list)
    updated_by = models.ForeignKey("core.Membership", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(WorkspaceScoped.Meta):
        constraints = [models.UniqueConstraint(fields=["workspace"], name="moderation_keywords_one")]


class ChecklistTick(WorkspaceScoped):
    """防骚扰 — one of WeCom's own anti-spam settings the admin says is on (the console cannot read
    them): who ticked it and when."""

    item = models.CharField(max_length=20)
    ticked_by = models.ForeignKey("core.Membership", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    ticked_at = models.DateTimeField()

    class Meta(WorkspaceScoped.Meta):
        constraints = [models.UniqueConstraint(fields=["workspace", "item"], name="moderation_tick_unique")]
        verbose_name = pgettext_lazy("checklist", "tick")
